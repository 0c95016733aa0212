"""Every allowed state change of every record, written down as data in one place.

``TRANSITIONS[Model][(state, action)] = Transition(...)``. The engine (``engine.py``) is the only
code that changes a ``state`` column; views, jobs and CLI commands all call it.

``roles`` names FAB roles, or the pseudo-roles ``OWNER_ENTERPRISE`` / ``OWNER_RESEARCHER`` meaning
"the participant account this record belongs to". Staff roles are further limited by the
jurisdiction rule (a bureau decides only its own region's records).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.models import (
    Contract,
    ContractState,
    Enterprise,
    EnterpriseState,
    Need,
    NeedState,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
    Researcher,
    ResearcherState,
    RoundPhase,
)
from app.domain.funding.execution import (
    check_before_execution_end,
    check_confirmable,
    check_report_attached,
    check_researcher_confirmed,
    check_score_sheet,
)
from app.models.enums import LabelledEnum
from app.domain.funding.contracts import check_fundable, check_resubmittable, create_project
from app.domain.docking.proposals import check_decidable, check_proposal_submittable, start_docking
from app.domain.needs.filing import check_submittable

OWNER_ENTERPRISE = "@enterprise"
OWNER_RESEARCHER = "@researcher"


class Action(LabelledEnum):
    submit = "submit"
    verify = "verify"
    approve = "approve"
    return_ = "return"
    recommend = "recommend"
    publish = "publish"
    withdraw = "withdraw"
    start_docking = "start_docking"
    contract = "contract"
    close = "close"
    shortlist = "shortlist"
    select = "select"
    decline = "decline"
    report = "report"
    accept = "accept"
    confirm = "confirm"
    evaluate = "evaluate"


Action.__titles__ = {
    "submit": _l("Submit"),
    "verify": _l("Verify"),
    "approve": _l("Approve"),
    "return": _l("Return"),
    "recommend": _l("Recommend"),
    "publish": _l("Publish"),
    "withdraw": _l("Withdraw"),
    "start_docking": _l("Start docking"),
    "contract": _l("Mark contracted"),
    "close": _l("Close"),
    "shortlist": _l("Shortlist"),
    "select": _l("Select"),
    "decline": _l("Decline"),
    "report": _l("Submit summary report"),
    "accept": _l("Self-accept"),
    "confirm": _l("Co-sign the summary report"),
    "evaluate": _l("Record evaluation"),
}


@dataclass(frozen=True)
class Transition:
    to: LabelledEnum
    roles: frozenset
    # The opinion is required (a return must say why; a recommendation is the 推荐意见).
    needs_opinion: bool = False
    # Columns set on entry: "opinion" copies the opinion, "now" stamps the time.
    sets: dict = field(default_factory=dict)
    # The round phase the action must happen in (notice §四 deadlines).
    phase: RoundPhase | None = None
    # A record-specific rule, called before the change; raises RuleViolation to refuse it.
    guard: Callable | None = None
    # A consequence on another record, called after the change with (record, actor), e.g. a
    # selection moving the need to docking.
    then: Callable | None = None


def T(to, *roles, **kw):
    return Transition(to=to, roles=frozenset(roles), **kw)


def by_execution_end(action, guard):
    """``guard`` preceded by the round's execution deadline for ``action``. The deadline is not
    a ``phase``: a project funded before the matching phase ends may already report, while
    nothing may be reported, co-signed or self-accepted once the execution end has passed
    (those projects are exactly the overdue ones, app/domain/funding/execution.is_overdue)."""
    def check(project):
        check_before_execution_end(project, action.title)
        guard(project)
    check.__doc__ = guard.__doc__
    return check


E, N, R, P, C, J = EnterpriseState, NeedState, ResearcherState, ProposalState, ContractState, ProjectState
A = Action
RETURN = {"return_reason": "opinion"}

TRANSITIONS = {
    Enterprise: {
        (E.draft, A.submit): T(E.submitted, OWNER_ENTERPRISE),
        (E.returned, A.submit): T(E.submitted, OWNER_ENTERPRISE),
        (E.submitted, A.verify): T(E.verified, "Bureau", "Platform"),
        (E.submitted, A.return_): T(E.returned, "Bureau", "Platform", needs_opinion=True, sets=RETURN),
    },
    Researcher: {
        (R.submitted, A.approve): T(R.approved, "Platform"),
        (R.submitted, A.return_): T(R.returned, "Platform", needs_opinion=True, sets=RETURN),
        (R.returned, A.submit): T(R.submitted, OWNER_RESEARCHER),
    },
    Need: {
        **{
            (state, A.submit): T(N.submitted, OWNER_ENTERPRISE, phase=RoundPhase.filing,
                                 sets={"submitted_at": "now"}, guard=check_submittable)
            for state in (N.draft, N.returned_by_bureau, N.returned_by_platform)
        },
        (N.submitted, A.recommend): T(N.recommended, "Bureau", needs_opinion=True,
                                      sets={"recommendation": "opinion"}),
        (N.submitted, A.return_): T(N.returned_by_bureau, "Bureau", needs_opinion=True, sets=RETURN),
        (N.recommended, A.publish): T(N.published, "Platform", sets={"published_at": "now"}),
        (N.recommended, A.return_): T(N.returned_by_platform, "Platform", needs_opinion=True,
                                      sets=RETURN),
        (N.published, A.start_docking): T(N.docking, OWNER_ENTERPRISE),
        (N.docking, A.contract): T(N.contracted, OWNER_ENTERPRISE),
        (N.contracted, A.close): T(N.closed, "Province", "Platform"),
        **{
            (state, A.withdraw): T(N.withdrawn, OWNER_ENTERPRISE)
            for state in (N.draft, N.submitted, N.recommended, N.returned_by_bureau,
                          N.returned_by_platform, N.published)
        },
    },
    Proposal: {
        (P.draft, A.submit): T(P.submitted, OWNER_RESEARCHER, sets={"submitted_at": "now"},
                               guard=check_proposal_submittable),
        (P.submitted, A.shortlist): T(P.shortlisted, OWNER_ENTERPRISE, guard=check_decidable),
        (P.shortlisted, A.select): T(P.selected, OWNER_ENTERPRISE, guard=check_decidable,
                                     then=start_docking),
        # The reason is optional (notice §三(三) asks for none); the researcher sees it if given.
        (P.submitted, A.decline): T(P.declined, OWNER_ENTERPRISE, sets={"decline_reason": "opinion"}),
        (P.shortlisted, A.decline): T(P.declined, OWNER_ENTERPRISE, sets={"decline_reason": "opinion"}),
        **{
            (state, A.withdraw): T(P.withdrawn, OWNER_RESEARCHER)
            for state in (P.draft, P.submitted, P.shortlisted)
        },
    },
    Contract: {
        # 立项: the funding rules decide; the approved contract becomes a funded project.
        (C.submitted, A.approve): T(C.approved, "Province", guard=check_fundable,
                                    then=create_project),
        (C.submitted, A.return_): T(C.returned, "Province", needs_opinion=True, sets=RETURN),
        (C.returned, A.submit): T(C.submitted, OWNER_ENTERPRISE, guard=check_resubmittable),
    },
    Project: {
        # Notice §四: the enterprise submits the summary report, the researcher co-signs it (the
        # state stays "reported"), then the enterprise records the self-acceptance.
        (J.funded, A.report): T(J.reported, OWNER_ENTERPRISE, sets={"summary_submitted_at": "now"},
                                guard=by_execution_end(A.report, check_report_attached)),
        (J.reported, A.confirm): T(J.reported, OWNER_RESEARCHER,
                                   sets={"researcher_confirmed_at": "now"},
                                   guard=by_execution_end(A.confirm, check_confirmable)),
        (J.reported, A.accept): T(J.accepted, OWNER_ENTERPRISE, sets={"self_accepted_at": "now"},
                                  guard=by_execution_end(A.accept, check_researcher_confirmed)),
        # The score sheet is set by app/domain/funding/execution.evaluate before; the guard checks it is there.
        # The province evaluates in the round's evaluation phase, after the execution end.
        (J.accepted, A.evaluate): T(J.evaluated, "Province", needs_opinion=True,
                                    phase=RoundPhase.evaluation,
                                    sets={"evaluation_opinion": "opinion", "evaluated_at": "now"},
                                    guard=check_score_sheet),
    },
}


def allowed_actions(model) -> set:
    return {action for (_state, action) in TRANSITIONS[model]}
