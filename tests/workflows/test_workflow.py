"""The transition table, exercised whole: every (model, state, action) with each role."""
import datetime as dt

import pytest
from helpers import login
from sqlalchemy import select, text
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.transitions import TRANSITIONS
from app.models import (
    AppUser,
    AuditLog,
    CaseState,
    Contract,
    Enterprise,
    EnterpriseState,
    Need,
    NeedState,
    Objection,
    ObjectionState,
    Payment,
    Proposal,
    ProposalState,
    RequestState,
    Researcher,
    ReviewRecord,
    SupervisionCase,
)
from app.models.execution import ChangeRequest, Milestone, ServiceLog
from app.utils import clock
from app.workflows import (
    ConcurrentDecision,
    InvalidTransition,
    NotAllowed,
    OpinionRequired,
    OutOfPhase,
    apply_action,
)
from app.workflows.registry import OWNER_ENTERPRISE, OWNER_RESEARCHER, SYSTEM

# SYSTEM: a job or command acting without a user (``actor`` None).
ROLES = ["Platform", "Bureau", "Province", OWNER_ENTERPRISE, OWNER_RESEARCHER, "Admin", SYSTEM]
CASES = [(model, state, action, t) for model, table in TRANSITIONS.items()
         for (state, action), t in table.items()]


def _ids(case):
    model, state, action, _t = case
    return f"{model.__name__}-{state.value}-{action.value}"


def _record(make, model, state):
    """A record of ``model`` in ``state`` in region 武汉, with its owner ids."""
    enterprise = make.enterprise("420100")
    researcher = make.researcher("420100")
    need = make.need(enterprise, NeedState.published)
    if model is Enterprise:
        obj = enterprise
    elif model is Researcher:
        obj = researcher
    elif model is Need:
        obj = make.need(enterprise, state)
    elif model is Proposal:
        obj = make.proposal(need, researcher, state)
    elif model is Objection:
        obj = make.objection(make.project(make.contract(need, researcher)))
    elif model is ChangeRequest:
        obj = make.change_request(make.project(make.contract(need, researcher)), state=state)
    elif model is Milestone:
        obj = make.milestone(make.project(make.contract(need, researcher)), state)
    elif model is ServiceLog:
        obj = make.service_log(make.project(make.contract(need, researcher)), state)
    elif model is SupervisionCase:
        obj = make.case(make.project(make.contract(need, researcher)), state)
    elif model is Payment:
        obj = make.payment(make.project(make.contract(need, researcher)), state)
    else:
        contract = make.contract(need, researcher)
        obj = contract if model is Contract else make.project(contract)
    if model is not Need and obj.state != state:
        obj.state = state
        if state.value == "returned":
            obj.return_reason = "请补充"
    from app.extensions import db

    db.session.commit()
    return obj, enterprise, researcher


def _prepare_need(make, need, action):
    """Docking starts from a selection, and a need is contracted by a contract."""
    if action.value in ("start_docking", "contract"):
        researcher = make.researcher("420100")
        make.proposal(need, researcher, ProposalState.selected)
        if action.value == "contract":
            make.contract(need, researcher)


def _prepare_project(make, project, action):
    """What the guards of Project's transitions need beforehand (app/domain/funding/execution.py)."""
    from decimal import Decimal

    from app.domain.funding.execution import CRITERIA
    from app.models.mixins import utcnow

    if action.value == "report":
        project.summary_report = "0123_sep_总结报告.pdf"
    elif action.value == "accept":
        project.researcher_confirmed_at = utcnow()
    elif action.value == "fund" and project.publicity is None:
        make.publicity([project])  # after its 公示 (app/domain/funding/publicity.py)
    elif action.value == "withdraw":
        make.objection(project, ObjectionState.upheld)  # only an upheld objection withdraws
    elif action.value == "suspend":
        make.case(project)  # suspended on a case (app/domain/funding/supervision.py)
    elif action.value == "revoke":
        make.case(project, CaseState.violation)
    elif action.value == "terminate":
        make.change_request(project, "termination", RequestState.approved)
    elif action.value == "evaluate":
        project.evaluation_scores = {c.code: str(c.points) for c in CRITERIA}
        project.evaluation_score = Decimal(100)


# Guards that need the record prepared for the action (the rule itself is tested elsewhere).
def _prepare_payment(make, payment, action):
    """Recorded as paid with its date and voucher (app/domain/funding/payments.py)."""
    if action.value == "pay":
        payment.paid_on, payment.voucher = clock.today(), "v_sep_拨付凭证.pdf"


PREPARE = {"Project": _prepare_project, "Need": _prepare_need, "Payment": _prepare_payment}


def _actor(make, role, enterprise, researcher):
    if role == SYSTEM:
        return None
    if role == OWNER_ENTERPRISE:
        return make.user("Enterprise", enterprise_id=enterprise.id)
    if role == OWNER_RESEARCHER:
        return make.user("Researcher", researcher_id=researcher.id)
    if role == "Bureau":
        return make.user("Bureau", region_id=make.region("420100").id)
    return make.user(role)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("role", ROLES)
def test_every_transition_for_every_role(make, db_session, case, role):
    model, state, action, transition = case
    obj, enterprise, researcher = _record(make, model, state)
    if model.__name__ in PREPARE:
        PREPARE[model.__name__](make, obj, action)
        db_session.commit()
    actor = _actor(make, role, enterprise, researcher)
    opinion = "意见：同意" if transition.needs_opinion else None
    today = clock.today()
    if transition.phase is not None and getattr(obj, "round", None) is not None:
        # The last day of the action's phase (the phase rules are tested on their own).
        today = obj.round.phase_end(transition.phase)
    if role in transition.roles:
        review = apply_action(obj, action, actor, opinion, today=today)
        db_session.commit()
        assert obj.state is transition.to
        assert review.from_state == state.value and review.to_state == transition.to.value
        assert review.actor_id == getattr(actor, "id", None)
        assert db_session.scalars(select(AuditLog).where(
            AuditLog.subject_id == obj.id, AuditLog.action.endswith(action.value))).first()
    else:
        with pytest.raises(NotAllowed):
            apply_action(obj, action, actor, opinion, today=today)
        assert obj.state is state


def test_a_bureau_decides_only_its_own_region(make, db_session):
    theirs = make.enterprise("420500", state=EnterpriseState.submitted)
    bureau = make.user("Bureau", region_id=make.region("420100").id)
    with pytest.raises(NotAllowed):
        apply_action(theirs, "verify", bureau)
    assert theirs.state is EnterpriseState.submitted


def test_an_enterprise_acts_only_on_its_own_need(make, db_session):
    mine, theirs = make.enterprise(), make.enterprise()
    need = make.need(theirs, NeedState.draft)
    user = make.user("Enterprise", enterprise_id=mine.id)
    with pytest.raises(NotAllowed):
        apply_action(need, "submit", user)


def test_impossible_transition_is_refused_with_the_state_named(make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.draft)
    platform = make.user("Platform")
    with pytest.raises(InvalidTransition) as err:
        apply_action(need, "publish", platform)
    assert "草稿" in str(err.value) or "Draft" in str(err.value)
    assert need.state is NeedState.draft


@pytest.mark.parametrize("opinion", [None, "", "   "])
def test_a_return_needs_a_reason(make, db_session, opinion):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.submitted)
    bureau = make.user("Bureau", region_id=enterprise.region_id)
    with pytest.raises(OpinionRequired):
        apply_action(need, "return", bureau, opinion)
    assert need.state is NeedState.submitted
    assert db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_id == need.id)).first() is None


def test_submitting_after_the_filing_deadline_names_the_deadline(make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.draft)
    user = make.user("Enterprise", enterprise_id=enterprise.id)
    late = need.round.needs_filing_end + dt.timedelta(days=1)
    with pytest.raises(OutOfPhase) as err:
        apply_action(need, "submit", user, today=late)
    assert str(need.round.needs_filing_end) in str(err.value)
    assert need.state is NeedState.draft


def test_evaluating_outside_the_evaluation_phase_names_the_phase_end(make, db_session):
    from app.models import Action, ProjectState

    need = make.need(make.enterprise(), NeedState.docking)
    project = make.project(make.contract(need, make.researcher()))
    project.state = ProjectState.accepted
    _prepare_project(make, project, Action.evaluate)
    db_session.commit()
    province = make.user("Province")
    rules = project.round
    for day in (rules.execution_end, rules.evaluation_end + dt.timedelta(days=1)):
        with pytest.raises(OutOfPhase) as err:
            apply_action(project, "evaluate", province, "意见", today=day)
        assert str(rules.evaluation_end) in str(err.value)
        assert project.state is ProjectState.accepted
    apply_action(project, "evaluate", province, "意见",
                 today=rules.execution_end + dt.timedelta(days=1))
    assert project.state is ProjectState.evaluated


def test_two_staff_deciding_at_once_one_wins(make, db_session):
    """The second decision works on a stale version and is refused; one review record stays."""
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.submitted)
    bureau = make.user("Bureau", region_id=enterprise.region_id)
    loaded_version = need.version
    # Another clerk's decision lands first, straight in the database (version 1 -> 2) ...
    db_session.execute(text("UPDATE needs SET state='recommended', recommendation='先到', "
                            "version = version + 1 WHERE id = :id"), {"id": need.id})
    db_session.commit()
    # ... while this clerk's request still holds the need as it loaded it.
    set_committed_value(need, "version", loaded_version)
    set_committed_value(need, "state", NeedState.submitted)
    with pytest.raises(ConcurrentDecision):
        apply_action(need, "recommend", bureau, "后到")
    fresh = db_session.get(Need, need.id)
    assert fresh.state is NeedState.recommended and fresh.recommendation == "先到"
    assert db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_id == need.id)).all() == []


def test_decide_page_applies_and_shows_the_timeline(client, make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.submitted)
    make.user("Bureau", "bureau_dec", region_id=enterprise.region_id)
    login(client, "bureau_dec")
    page = client.get(f"/needmodelview/decide/{need.id}").get_data(as_text=True)
    assert 'value="recommend"' in page and 'value="publish"' not in page
    # The record is shown whole beside the opinion box; return stands apart and asks first.
    assert need.title in page and "btn-danger" in page and "data-confirm" in page
    refused = client.post(f"/needmodelview/decide/{need.id}", data={"action": "return"})
    assert refused.status_code == 422 and "请" in refused.get_data(as_text=True)
    assert db_session.get(Need, need.id).state is NeedState.submitted
    # A refusal keeps the opinion typed.
    kept = client.post(f"/needmodelview/decide/{need.id}",
                       data={"action": "nonsense", "opinion": "请补充预算明细"})
    assert kept.status_code == 422 and "请补充预算明细" in kept.get_data(as_text=True)
    done = client.post(f"/needmodelview/decide/{need.id}",
                       data={"action": "recommend", "opinion": "推荐：需求明确"})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Need, need.id).state is NeedState.recommended
    show = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    bureau = db_session.scalar(select(AppUser).where(AppUser.username == "bureau_dec"))
    # The actor by name, not by login (a mobile number in production).
    assert "推荐：需求明确" in show and f"{bureau.first_name} {bureau.last_name}" in show
    assert "submitted → recommended" not in show  # states are shown by their titles
    assert f"{NeedState.submitted.title} → {NeedState.recommended.title}" in show


def test_project_numbers_are_unique_per_enterprise_and_round(make, db_session):
    """Notice §四(二): one funded project per enterprise per round, enforced by the database."""
    from sqlalchemy.exc import IntegrityError

    enterprise = make.enterprise()
    researcher = make.researcher()
    need = make.need(enterprise, NeedState.published)
    make.project(make.contract(need, researcher))
    with pytest.raises(IntegrityError):
        make.project(make.contract(need, researcher))
    db_session.rollback()
