"""Every allowed state change of every record, written down as data in one place.

``TRANSITIONS[Model][(state, action)] = Transition(...)``. The engine
(``app/workflows/engine.py``) is the only code that changes a ``state`` column; views, jobs and
CLI commands all call it. ``create_app`` installs this table into the engine's registry.

``roles`` names FAB roles, or the pseudo-roles ``OWNER_ENTERPRISE`` / ``OWNER_RESEARCHER`` meaning
"the participant account this record belongs to". Staff roles are further limited by the
jurisdiction rule (a bureau decides only its own region's records).
"""
from app.domain.docking.proposals import (
    check_decidable,
    check_proposal_submittable,
    check_selected,
    start_docking,
)
from app.domain.funding.contracts import (
    check_contracted,
    check_fundable,
    check_resubmittable,
    create_project,
    submit_draft,
)
from app.domain.funding.execution import (
    check_before_execution_end,
    check_confirmable,
    check_report_attached,
    check_researcher_confirmed,
    check_score_sheet,
)
from app.domain.funding.payments import check_paid
from app.domain.funding.progress import (
    apply_request,
    check_log_resubmittable,
    check_request_approvable,
    check_termination_approved,
    milestone_reached,
)
from app.domain.funding.publicity import (
    after_dismissal,
    check_fundable_after_publicity,
    check_objection_decidable,
    check_objection_upheld,
    check_objection_upholdable,
    withdraw_project,
)
from app.domain.funding.supervision import (
    check_case_active,
    check_not_barred,
    check_violation_found,
)
from app.domain.needs.filing import check_submittable
from app.models import (
    Action,
    CaseState,
    Contract,
    ContractState,
    Enterprise,
    EnterpriseState,
    MilestoneState,
    Need,
    NeedState,
    Objection,
    ObjectionState,
    Payment,
    PaymentState,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
    RequestState,
    Researcher,
    ResearcherState,
    RoundPhase,
    ServiceLogState,
    SupervisionCase,
)
from app.models.execution import ChangeRequest, Milestone, ServiceLog
from app.workflows import registry
from app.workflows.registry import OWNER_ENTERPRISE, OWNER_RESEARCHER, SYSTEM, goes_to


def by_execution_end(action, guard):
    """``guard`` preceded by the round's execution deadline for ``action``. The deadline is not
    a ``phase``: a project funded before the matching phase ends may already report, while
    nothing may be reported, co-signed or self-accepted once the execution end has passed
    (those projects are exactly the overdue ones, ``Project.is_overdue``)."""
    def check(project):
        check_before_execution_end(project, action.title)
        guard(project)
    check.__doc__ = guard.__doc__
    return check


def not_barred(party, guard):
    """``guard`` preceded by the credit records (失信, app/domain/funding/supervision.py): the
    record's enterprise (``party`` "enterprise"), researcher ("researcher") or either of them
    ("both": a contract binds the two) files nothing while barred."""
    def check(record):
        check_not_barred(
            enterprise_id=record.enterprise_id if party in ("enterprise", "both") else None,
            researcher_id=record.researcher_id if party in ("researcher", "both") else None)
        guard(record)
    check.__doc__ = guard.__doc__
    return check


RETURN = {"return_reason": "opinion"}
# Who a new state waits on (``tell``): that role's users of the record's jurisdiction hear of it.
BUREAU, PLATFORM, PROVINCE = ("Bureau",), ("Platform",), ("Province",)
DECLINE = {"decline_reason": "opinion"}
NEED_RETURNED = (NeedState.returned_by_bureau, NeedState.returned_by_platform)

TRANSITIONS = {
    Enterprise: {
        (EnterpriseState.draft, Action.submit):
            goes_to(EnterpriseState.submitted, OWNER_ENTERPRISE, tell=BUREAU),
        (EnterpriseState.returned, Action.submit):
            goes_to(EnterpriseState.submitted, OWNER_ENTERPRISE, tell=BUREAU),
        (EnterpriseState.submitted, Action.verify):
            goes_to(EnterpriseState.verified, "Bureau", "Platform"),
        (EnterpriseState.submitted, Action.return_):
            goes_to(EnterpriseState.returned, "Bureau", "Platform", needs_opinion=True,
                    sets=RETURN),
    },
    Researcher: {
        (ResearcherState.submitted, Action.approve):
            goes_to(ResearcherState.approved, "Platform"),
        (ResearcherState.submitted, Action.return_):
            goes_to(ResearcherState.returned, "Platform", needs_opinion=True, sets=RETURN),
        (ResearcherState.returned, Action.submit):
            goes_to(ResearcherState.submitted, OWNER_RESEARCHER, tell=PLATFORM),
    },
    Need: {
        **{
            (state, Action.submit):
                goes_to(NeedState.submitted, OWNER_ENTERPRISE, phase=RoundPhase.filing,
                        sets={"submitted_at": "now"},
                        guard=not_barred("enterprise", check_submittable), tell=BUREAU)
            for state in (NeedState.draft, *NEED_RETURNED)
        },
        (NeedState.submitted, Action.recommend):
            goes_to(NeedState.recommended, "Bureau", needs_opinion=True,
                    sets={"recommendation": "opinion"}, tell=PLATFORM),
        (NeedState.submitted, Action.return_):
            goes_to(NeedState.returned_by_bureau, "Bureau", needs_opinion=True, sets=RETURN),
        (NeedState.recommended, Action.publish):
            goes_to(NeedState.published, "Platform", sets={"published_at": "now"}),
        (NeedState.recommended, Action.return_):
            goes_to(NeedState.returned_by_platform, "Platform", needs_opinion=True, sets=RETURN),
        # Both follow from the enterprise's own acts (a selection, a contract), whose records
        # the guards ask for: the enterprise cannot move the need by its word alone.
        (NeedState.published, Action.start_docking):
            goes_to(NeedState.docking, OWNER_ENTERPRISE, guard=check_selected),
        (NeedState.docking, Action.contract):
            goes_to(NeedState.contracted, OWNER_ENTERPRISE, guard=check_contracted),
        (NeedState.contracted, Action.close):
            goes_to(NeedState.closed, "Province", "Platform"),
        **{
            (state, Action.withdraw): goes_to(NeedState.withdrawn, OWNER_ENTERPRISE)
            for state in (NeedState.draft, NeedState.submitted, NeedState.recommended,
                          *NEED_RETURNED, NeedState.published)
        },
    },
    Proposal: {
        (ProposalState.draft, Action.submit):
            goes_to(ProposalState.submitted, OWNER_RESEARCHER, sets={"submitted_at": "now"},
                    guard=not_barred("researcher", check_proposal_submittable)),
        (ProposalState.submitted, Action.shortlist):
            goes_to(ProposalState.shortlisted, OWNER_ENTERPRISE, guard=check_decidable),
        (ProposalState.shortlisted, Action.select):
            goes_to(ProposalState.selected, OWNER_ENTERPRISE, guard=check_decidable,
                    then=start_docking),
        # The reason is optional (notice §三(三) asks for none); the researcher sees it if given.
        (ProposalState.submitted, Action.decline):
            goes_to(ProposalState.declined, OWNER_ENTERPRISE, sets=DECLINE),
        (ProposalState.shortlisted, Action.decline):
            goes_to(ProposalState.declined, OWNER_ENTERPRISE, sets=DECLINE),
        **{
            (state, Action.withdraw): goes_to(ProposalState.withdrawn, OWNER_RESEARCHER)
            for state in (ProposalState.draft, ProposalState.submitted, ProposalState.shortlisted)
        },
    },
    Contract: {
        # 立项: the funding rules decide; the approved contract becomes a funded project.
        (ContractState.submitted, Action.approve):
            goes_to(ContractState.approved, "Province", guard=check_fundable,
                    then=create_project),
        (ContractState.submitted, Action.return_):
            goes_to(ContractState.returned, "Province", needs_opinion=True, sets=RETURN),
        # Saved as a draft with its cross-checks shown, then sent (the province hears of it).
        (ContractState.draft, Action.submit):
            goes_to(ContractState.submitted, OWNER_ENTERPRISE,
                    guard=not_barred("both", check_resubmittable),
                    then=submit_draft, tell=PROVINCE),
        (ContractState.returned, Action.submit):
            goes_to(ContractState.submitted, OWNER_ENTERPRISE,
                    guard=not_barred("both", check_resubmittable),
                    tell=PROVINCE),
    },
    Project: {
        # 公示 (app/domain/funding/publicity.py): the system funds a proposed project once its
        # list's window is over; an upheld objection withdraws it (the province, with reasons).
        (ProjectState.proposed, Action.fund):
            goes_to(ProjectState.funded, SYSTEM, sets={"funded_at": "now"},
                    guard=check_fundable_after_publicity),
        (ProjectState.proposed, Action.withdraw):
            goes_to(ProjectState.withdrawn, "Province", needs_opinion=True,
                    guard=check_objection_upheld),
        # Supervision (app/domain/funding/supervision.py): suspended on a case, resumed, or its
        # funding revoked after a violation.
        (ProjectState.funded, Action.suspend):
            goes_to(ProjectState.suspended, "Province", needs_opinion=True,
                    guard=check_case_active),
        (ProjectState.suspended, Action.resume):
            goes_to(ProjectState.funded, "Province", needs_opinion=True),
        **{
            (state, Action.revoke):
                goes_to(ProjectState.revoked, "Province", needs_opinion=True,
                        guard=check_violation_found)
            for state in (ProjectState.funded, ProjectState.suspended, ProjectState.reported,
                          ProjectState.accepted, ProjectState.evaluated)
        },
        # An approved termination request (app/domain/funding/progress.py) ends the project.
        **{
            (state, Action.terminate):
                goes_to(ProjectState.terminated, "Province", needs_opinion=True,
                        guard=check_termination_approved)
            for state in (ProjectState.funded, ProjectState.reported, ProjectState.suspended)
        },
        # Notice §四: the enterprise submits the summary report, the researcher co-signs it (the
        # state stays "reported"), then the enterprise records the self-acceptance.
        (ProjectState.funded, Action.report):
            goes_to(ProjectState.reported, OWNER_ENTERPRISE, sets={"summary_submitted_at": "now"},
                    guard=by_execution_end(Action.report, check_report_attached), tell=PROVINCE),
        (ProjectState.reported, Action.confirm):
            goes_to(ProjectState.reported, OWNER_RESEARCHER,
                    sets={"researcher_confirmed_at": "now"},
                    guard=by_execution_end(Action.confirm, check_confirmable)),
        (ProjectState.reported, Action.accept):
            goes_to(ProjectState.accepted, OWNER_ENTERPRISE, sets={"self_accepted_at": "now"},
                    guard=by_execution_end(Action.accept, check_researcher_confirmed),
                    tell=PROVINCE),
        # The score sheet is set by app/domain/funding/execution.evaluate before; the guard
        # checks it is there. The province evaluates in the round's evaluation phase, after the
        # execution end.
        (ProjectState.accepted, Action.evaluate):
            goes_to(ProjectState.evaluated, "Province", needs_opinion=True,
                    phase=RoundPhase.evaluation,
                    sets={"evaluation_opinion": "opinion", "evaluated_at": "now"},
                    guard=check_score_sheet),
    },
    # 拨付 (app/domain/funding/payments.py): the province records a planned payment as paid
    # (date and voucher first), or the money returned to the fund, with the reason.
    Payment: {
        (PaymentState.planned, Action.pay):
            goes_to(PaymentState.paid, "Province", guard=check_paid),
        (PaymentState.paid, Action.refund):
            goes_to(PaymentState.returned, "Province", needs_opinion=True,
                    sets={"return_reason": "opinion"}),
    },
    # Execution (app/domain/funding/progress.py): the enterprise records a milestone reached
    # and confirms or disputes the researcher's service log; a disputed entry is corrected and
    # sent again.
    Milestone: {
        (MilestoneState.planned, Action.reach):
            goes_to(MilestoneState.reached, OWNER_ENTERPRISE, then=milestone_reached),
    },
    ServiceLog: {
        (ServiceLogState.submitted, Action.confirm_service):
            goes_to(ServiceLogState.confirmed, OWNER_ENTERPRISE),
        (ServiceLogState.submitted, Action.dispute):
            goes_to(ServiceLogState.disputed, OWNER_ENTERPRISE, needs_opinion=True,
                    sets={"dispute_reason": "opinion"}),
        (ServiceLogState.disputed, Action.submit):
            goes_to(ServiceLogState.submitted, OWNER_RESEARCHER, guard=check_log_resubmittable),
    },
    ChangeRequest: {
        (RequestState.submitted, Action.approve):
            goes_to(RequestState.approved, "Province", needs_opinion=True,
                    sets={"decision": "opinion"}, guard=check_request_approvable,
                    then=apply_request),
        (RequestState.submitted, Action.reject):
            goes_to(RequestState.rejected, "Province", needs_opinion=True,
                    sets={"decision": "opinion"}),
    },
    SupervisionCase: {
        (CaseState.open, Action.investigate):
            goes_to(CaseState.investigating, "Province", "Platform", "Bureau"),
        (CaseState.investigating, Action.clear):
            goes_to(CaseState.cleared, "Province", needs_opinion=True,
                    sets={"findings": "opinion", "closed_at": "now"}),
        (CaseState.investigating, Action.find_violation):
            goes_to(CaseState.violation, "Province", needs_opinion=True,
                    sets={"findings": "opinion", "closed_at": "now"}),
    },
    Objection: {
        (ObjectionState.lodged, Action.uphold):
            goes_to(ObjectionState.upheld, "Province", needs_opinion=True,
                    sets={"decision_reason": "opinion", "decided_at": "now"},
                    guard=check_objection_upholdable, then=withdraw_project),
        (ObjectionState.lodged, Action.dismiss):
            goes_to(ObjectionState.dismissed, "Province", needs_opinion=True,
                    sets={"decision_reason": "opinion", "decided_at": "now"},
                    guard=check_objection_decidable, then=after_dismissal),
    },
}


def install() -> None:
    """Hand the table to the engine (``create_app`` calls this once per app)."""
    registry.install(TRANSITIONS)
