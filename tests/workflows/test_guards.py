"""Every guarded transition refuses when its rule is not met: the engine runs the guard, the
record keeps its state, and nothing is written. Each guarded transition of the table has its
case here; a new guard fails ``test_every_guarded_transition_has_a_refusal_case`` until it
gets one. Over HTTP, an enterprise cannot move its own need to docking or contracted by its
word alone (it did: start_docking, then contract, with no selection and no contract)."""
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from helpers import login
from sqlalchemy import func, select

from app.domain.transitions import TRANSITIONS
from app.models import (
    Action,
    CaseState,
    ContractState,
    NeedState,
    PaymentState,
    ProgramRound,
    ProjectState,
    ProposalState,
    ReviewRecord,
    ServiceLogState,
)
from app.models.mixins import utcnow
from app.utils import clock
from app.workflows import WorkflowError, apply_action


@dataclasses.dataclass
class Case:
    record: object
    actor: object
    today: dt.date | None = None
    opinion: str | None = None


def _parties(make):
    enterprise = make.enterprise("420100")
    researcher = make.researcher("420100")
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    expert = make.user("Researcher", researcher_id=researcher.id)
    return enterprise, researcher, owner, expert


def _need_below_the_minimum(make, state):
    enterprise, _researcher, owner, _expert = _parties(make)
    need = make.need(enterprise, state, amount=Decimal(1000))
    return Case(need, owner, today=need.round.phase_end(need.round.phase_on(clock.today())))


def _need_without_a_selection(make):
    enterprise, researcher, owner, _expert = _parties(make)
    need = make.need(enterprise, NeedState.published)
    make.proposal(need, researcher, ProposalState.shortlisted)  # shortlisted is no selection
    return Case(need, owner)


def _need_without_a_contract(make):
    enterprise, researcher, owner, _expert = _parties(make)
    need = make.need(enterprise, NeedState.docking)
    make.proposal(need, researcher, ProposalState.selected)
    return Case(need, owner)


def _proposal_missing_a_section(make):
    enterprise, researcher, _owner, expert = _parties(make)
    need = make.need(enterprise, NeedState.published)
    return Case(make.proposal(need, researcher, ProposalState.draft, team=""), expert)


def _proposal_to_a_closed_need(make, state):
    enterprise, researcher, owner, _expert = _parties(make)
    need = make.need(enterprise, NeedState.published)
    proposal = make.proposal(need, researcher, state)
    need.state = NeedState.withdrawn
    make.save(need)
    return Case(proposal, owner)


def _contract_of_an_enterprise_already_funded(make):
    enterprise, researcher, _owner, _expert = _parties(make)
    first = make.contract(make.need(enterprise, NeedState.contracted), researcher)
    first.state = ContractState.approved
    make.save(first)
    make.project(first)
    second = make.contract(make.need(enterprise, NeedState.contracted), researcher)
    return Case(second, make.user("Province"))


def _returned_contract_of_a_closed_round(make):
    """Corrected after the round's matching phase, when contracts had to be in."""
    enterprise, researcher, owner, _expert = _parties(make)
    contract = make.contract(make.need(enterprise, NeedState.contracted), researcher)
    today = clock.today()
    contract.round = make.save(ProgramRound(
        code="T-PAST", name="已结束批次", needs_filing_start=today - dt.timedelta(50),
        needs_filing_end=today - dt.timedelta(40), matching_end=today - dt.timedelta(30),
        execution_end=today - dt.timedelta(20), evaluation_end=today - dt.timedelta(10)))
    contract.state, contract.return_reason = ContractState.returned, "请补充发票"
    make.save(contract)
    return Case(contract, owner)


def _draft_contract_of_a_closed_round(make):
    """A draft submitted after the round's matching phase, when contracts had to be in."""
    case = _returned_contract_of_a_closed_round(make)
    case.record.state, case.record.return_reason = ContractState.draft, None
    make.save(case.record)
    return case


def _project(make, state, **values):
    enterprise, researcher, owner, expert = _parties(make)
    project = make.project(make.contract(make.need(enterprise, NeedState.contracted),
                                         researcher))
    project.state = state
    for name, value in values.items():
        setattr(project, name, value)
    make.save(project)
    return project, owner, expert


def _project_without_its_report(make):
    project, owner, _expert = _project(make, ProjectState.funded)
    return Case(project, owner)


def _project_cosigned_twice(make):
    project, _owner, expert = _project(make, ProjectState.reported,
                                       summary_report="r_sep_总结.pdf",
                                       researcher_confirmed_at=utcnow())
    return Case(project, expert)


def _project_accepted_before_the_cosignature(make):
    project, owner, _expert = _project(make, ProjectState.reported,
                                       summary_report="r_sep_总结.pdf")
    return Case(project, owner)


def _project_evaluated_without_a_score_sheet(make):
    project, _owner, _expert = _project(make, ProjectState.accepted)
    return Case(project, make.user("Province"), opinion="良好",
                today=project.round.evaluation_end)


def _project_funded_while_an_objection_waits(make):
    project, _owner, _expert = _project(make, ProjectState.proposed)
    make.objection(project)
    project.publicity.starts_on = clock.today() - dt.timedelta(days=7)
    project.publicity.ends_on = clock.today() - dt.timedelta(days=1)
    make.save(project)
    return Case(project, None)


def _objection_to_a_project_already_funded(make):
    project, _owner, _expert = _project(make, ProjectState.proposed)
    objection = make.objection(project)
    project.state = ProjectState.funded
    make.save(project)
    return Case(objection, make.user("Province"), opinion="经核查")


def _payment_recorded_paid_without_its_voucher(make):
    project, _owner, _expert = _project(make, ProjectState.funded)
    payment = make.payment(project, paid_on=clock.today())
    return Case(payment, make.user("Province"))


def _project_suspended_without_a_case(make):
    project, _owner, _expert = _project(make, ProjectState.funded)
    make.case(project, CaseState.cleared)  # a closed case without issue holds nothing
    return Case(project, make.user("Province"), opinion="暂停")


def _funding_revoked_without_a_violation(state):
    def case(make):
        project, _owner, _expert = _project(make, state)
        make.case(project, CaseState.investigating)  # not found yet
        return Case(project, make.user("Province"), opinion="撤销")
    return case


def _service_log_sent_again_still_wrong(make):
    project, _owner, expert = _project(make, ProjectState.funded)
    log = make.service_log(project, ServiceLogState.disputed, hours=Decimal(100))  # 2 days
    return Case(log, expert)


def _change_below_what_is_paid(make):
    project, _owner, _expert = _project(make, ProjectState.funded)
    make.payment(project, PaymentState.paid, amount=Decimal(80000))
    request = make.change_request(project, new_funding=Decimal(50000))
    return Case(request, make.user("Province"), opinion="同意")


def _terminated_without_a_request(state):
    def case(make):
        project, _owner, _expert = _project(make, state)
        make.change_request(project, "termination")  # asked, not approved
        return Case(project, make.user("Province"), opinion="终止")
    return case


def _proposed_project_withdrawn_without_an_objection(make):
    project, _owner, _expert = _project(make, ProjectState.proposed)
    make.objection(project)  # lodged, not upheld
    return Case(project, make.user("Province"), opinion="撤回")


REFUSALS = {
    ("Need", "draft", "submit"): lambda make: _need_below_the_minimum(make, NeedState.draft),
    ("Need", "returned_by_bureau", "submit"):
        lambda make: _need_below_the_minimum(make, NeedState.returned_by_bureau),
    ("Need", "returned_by_platform", "submit"):
        lambda make: _need_below_the_minimum(make, NeedState.returned_by_platform),
    ("Need", "published", "start_docking"): _need_without_a_selection,
    ("Need", "docking", "contract"): _need_without_a_contract,
    ("Proposal", "draft", "submit"): _proposal_missing_a_section,
    ("Proposal", "submitted", "shortlist"):
        lambda make: _proposal_to_a_closed_need(make, ProposalState.submitted),
    ("Proposal", "shortlisted", "select"):
        lambda make: _proposal_to_a_closed_need(make, ProposalState.shortlisted),
    ("Contract", "submitted", "approve"): _contract_of_an_enterprise_already_funded,
    ("Contract", "returned", "submit"): _returned_contract_of_a_closed_round,
    ("Contract", "draft", "submit"): _draft_contract_of_a_closed_round,
    ("Project", "funded", "report"): _project_without_its_report,
    ("Project", "reported", "confirm"): _project_cosigned_twice,
    ("Project", "reported", "accept"): _project_accepted_before_the_cosignature,
    ("Project", "accepted", "evaluate"): _project_evaluated_without_a_score_sheet,
    ("Project", "proposed", "fund"): _project_funded_while_an_objection_waits,
    ("Project", "proposed", "withdraw"): _proposed_project_withdrawn_without_an_objection,
    ("Payment", "planned", "pay"): _payment_recorded_paid_without_its_voucher,
    ("Project", "funded", "suspend"): _project_suspended_without_a_case,
    ("ServiceLog", "disputed", "submit"): _service_log_sent_again_still_wrong,
    ("ChangeRequest", "submitted", "approve"): _change_below_what_is_paid,
    **{("Project", state.value, "terminate"): _terminated_without_a_request(state)
       for state in (ProjectState.funded, ProjectState.reported, ProjectState.suspended)},
    **{("Project", state.value, "revoke"): _funding_revoked_without_a_violation(state)
       for state in (ProjectState.funded, ProjectState.suspended, ProjectState.reported,
                     ProjectState.accepted, ProjectState.evaluated)},
    ("Objection", "lodged", "uphold"): _objection_to_a_project_already_funded,
    ("Objection", "lodged", "dismiss"): _objection_to_a_project_already_funded,
}
GUARDED = sorted((model.__name__, state.value, action.value)
                 for model, table in TRANSITIONS.items()
                 for (state, action), transition in table.items() if transition.guard)


def test_every_guarded_transition_has_a_refusal_case():
    assert sorted(REFUSALS) == GUARDED


def _reviews(db_session, record):
    return db_session.scalar(select(func.count(ReviewRecord.id)).where(
        ReviewRecord.subject_type == type(record).__tablename__,
        ReviewRecord.subject_id == record.id))


@pytest.mark.parametrize("key", sorted(REFUSALS), ids=lambda k: "-".join(k))
def test_a_guard_refuses_when_its_rule_is_not_met(make, db_session, key):
    _model, _state, action = key
    case = REFUSALS[key](make)
    state, reviews = case.record.state, _reviews(db_session, case.record)
    with pytest.raises(WorkflowError):
        apply_action(case.record, Action(action), case.actor, case.opinion, today=case.today)
    db_session.rollback()
    db_session.refresh(case.record)
    assert case.record.state is state and _reviews(db_session, case.record) == reviews


def test_an_enterprise_cannot_move_its_need_by_its_word_alone(client, make, db_session):
    enterprise, _researcher, owner, _expert = _parties(make)
    need = make.need(enterprise, NeedState.published)
    login(client, owner.username)
    page = client.post(f"/needmodelview/decide/{need.id}", data={"action": "start_docking"},
                       follow_redirects=True).get_data(as_text=True)
    assert "该需求尚无被选定的方案" in page
    db_session.refresh(need)
    assert need.state is NeedState.published
    need.state = NeedState.docking  # as if a selection had moved it
    make.save(need)
    client.post(f"/needmodelview/decide/{need.id}", data={"action": "contract"})
    db_session.refresh(need)
    assert need.state is NeedState.docking
