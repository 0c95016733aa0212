"""待办事项: what waits for the signed-in user, by role, with counts and a link to the list
or page where it is, in the order of urgency.

Every count goes through the jurisdiction rule (a bureau counts its own region's rows only),
and an item marked ``listed`` links to a back-office list filtered to exactly the rows it
counts. All of a user's counts are one statement, kept by the process under the row tokens of
the tables it reads (``list_counts.kept_by_key``): a desk costs no count statement until one of
those tables is written.
"""
import datetime as dt
from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from app.core.access import jurisdiction
from app.domain.desk import kept
from app.domain.docking import progress
from app.domain.funding.progress import overdue_milestones
from app.extensions import db
from app.models import (
    AppUser,
    AuditLog,
    Contract,
    ContractState,
    Enterprise,
    EnterpriseState,
    Match,
    MatchRun,
    Message,
    Need,
    NeedState,
    Notification,
    NotificationState,
    Objection,
    ObjectionState,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
    Researcher,
    ResearcherState,
    ServiceLogState,
    WhitelistStatus,
)
from app.models.execution import Milestone, ServiceLog
from app.utils import clock


@dataclass(frozen=True)
class Context:
    user: object
    today: dt.date
    minute: dt.datetime  # now, to the minute: what a kept count may depend on
    seen: dict  # the user's last visits (AppUser.seen_at)
    waiting_days: int


@dataclass(frozen=True)
class Item:
    """One kind of work: who has it, what it counts, where it is."""

    key: str
    roles: frozenset
    label: object
    model: type
    where: object  # Context -> list of clauses
    endpoint: str
    args: dict = field(default_factory=dict)
    # The link is a back-office list filtered to exactly the counted rows.
    listed: bool = False
    # The count reads the clock to the minute (``Context.minute``): kept a minute at most.
    by_minute: bool = False


@dataclass
class Todo:
    key: str
    label: object
    count: int
    url: str
    listed: bool


def _state(model, state):
    return lambda ctx: [model.state == state]


def _filter(state) -> dict:
    return {"_flt_0_state": state.value}


def _since(ctx, key):
    seen = ctx.seen.get(key)
    return dt.datetime.fromisoformat(seen) if seen else dt.datetime(1970, 1, 1)


def last_seen(user, key: str) -> dt.datetime:
    """When the user last looked at what ``key`` counts as new (the epoch if never)."""
    return _since(context_of(user), key)


def _unread_messages(ctx):
    return [Message.read_at.is_(None), Message.sender_id != ctx.user.id]


def _waiting_for_proposals(ctx):
    return [progress.waiting_for_proposals(ctx.today, ctx.waiting_days)]


BUREAU, PLATFORM, PROVINCE = (frozenset({"Bureau"}), frozenset({"Platform"}),
                              frozenset({"Province"}))
ENTERPRISE, RESEARCHER, ADMIN = (frozenset({"Enterprise"}), frozenset({"Researcher"}),
                                 frozenset({"Admin"}))
STAFF_OF_REGIONS = frozenset({"Bureau", "Province", "Platform"})

# In the order of urgency: what only this user can unblock first, then what waits on others.
ITEMS = (
    # -- Bureau: the region's first review ----------------------------------------------------
    Item("enterprises_to_verify", BUREAU, _l("Registrations to verify"), Enterprise,
         _state(Enterprise, EnterpriseState.submitted), "EnterpriseModelView.list",
         _filter(EnterpriseState.submitted), listed=True),
    Item("needs_to_recommend", BUREAU, _l("Needs to recommend or return"), Need,
         _state(Need, NeedState.submitted), "NeedModelView.list", _filter(NeedState.submitted),
         listed=True),
    # -- Platform: publication and vetting ----------------------------------------------------
    Item("needs_to_publish", PLATFORM, _l("Needs to publish or return"), Need,
         _state(Need, NeedState.recommended), "NeedModelView.list",
         _filter(NeedState.recommended), listed=True),
    Item("researchers_to_vet", PLATFORM, _l("Researchers to vet"), Researcher,
         _state(Researcher, ResearcherState.submitted), "ResearcherModelView.list",
         _filter(ResearcherState.submitted), listed=True),
    Item("enterprises_not_found", PLATFORM, _l("Enterprises not found in the tech-SME database"),
         Enterprise, lambda ctx: [Enterprise.whitelist_status == WhitelistStatus.not_found],
         "EnterpriseModelView.list", {"_flt_0_whitelist_status": WhitelistStatus.not_found.value},
         listed=True),
    Item("failed_notifications", PLATFORM, _l("Notifications that could not be delivered"),
         Notification, _state(Notification, NotificationState.failed),
         "FailedNotificationModelView.list", listed=True),
    Item("rematch_running", PLATFORM, _l("Re-match runs in progress"), MatchRun,
         lambda ctx: [MatchRun.finished_at.is_(None)], "MatchingView.runs"),
    # -- Province: 立项 and evaluation --------------------------------------------------------
    Item("contracts_to_approve", PROVINCE, _l("Contracts to approve (立项) or return"), Contract,
         _state(Contract, ContractState.submitted), "ContractModelView.list",
         _filter(ContractState.submitted), listed=True),
    Item("projects_to_publicise", PROVINCE, _l("Proposed projects to publish for objections (公示)"),
         Project, lambda ctx: [Project.state == ProjectState.proposed,
                               Project.publicity_id.is_(None)], "PublicityModelView.publish"),
    Item("objections_to_decide", PROVINCE, _l("Objections to decide"), Objection,
         _state(Objection, ObjectionState.lodged), "ObjectionModelView.list",
         _filter(ObjectionState.lodged), listed=True),
    Item("evaluations_to_record", PROVINCE, _l("Projects self-accepted, to evaluate"), Project,
         _state(Project, ProjectState.accepted), "ProjectModelView.list",
         _filter(ProjectState.accepted), listed=True),
    Item("reports_submitted", PROVINCE, _l("Summary reports submitted"), Project,
         _state(Project, ProjectState.reported), "ProjectModelView.list",
         _filter(ProjectState.reported), listed=True),
    # -- Enterprise: its own ------------------------------------------------------------------
    Item("registration_returned", ENTERPRISE, _l("Your registration was returned: correct it"),
         Enterprise, _state(Enterprise, EnterpriseState.returned), "EnterpriseModelView.list",
         _filter(EnterpriseState.returned), listed=True),
    Item("needs_returned_by_bureau", ENTERPRISE, _l("Needs returned by the science bureau"),
         Need, _state(Need, NeedState.returned_by_bureau), "NeedModelView.list",
         _filter(NeedState.returned_by_bureau), listed=True),
    Item("needs_returned_by_platform", ENTERPRISE, _l("Needs returned by the platform"), Need,
         _state(Need, NeedState.returned_by_platform), "NeedModelView.list",
         _filter(NeedState.returned_by_platform), listed=True),
    Item("contracts_returned", ENTERPRISE, _l("Contracts returned by the province"), Contract,
         _state(Contract, ContractState.returned), "ContractModelView.list",
         _filter(ContractState.returned), listed=True),
    Item("contract_drafts", ENTERPRISE, _l("Contract drafts to submit"), Contract,
         _state(Contract, ContractState.draft), "ContractModelView.list",
         _filter(ContractState.draft), listed=True),
    Item("contracts_to_submit", ENTERPRISE, _l("Selections waiting for their contract"),
         Proposal, lambda ctx: [Proposal.state == ProposalState.selected, ~exists().where(
             Contract.proposal_id == Proposal.id)], "DockingDeskView.index"),
    Item("proposals_new", ENTERPRISE, _l("Proposals received since your last visit"), Proposal,
         lambda ctx: [Proposal.state != ProposalState.draft,
                      Proposal.submitted_at > _since(ctx, "proposals")], "DockingDeskView.index"),
    Item("needs_draft", ENTERPRISE, _l("Needs still in draft"), Need,
         _state(Need, NeedState.draft), "NeedModelView.list", _filter(NeedState.draft),
         listed=True),
    Item("service_logs_to_confirm", ENTERPRISE, _l("Service log entries to confirm"),
         ServiceLog, _state(ServiceLog, ServiceLogState.submitted), "ServiceLogModelView.list",
         _filter(ServiceLogState.submitted), listed=True),
    Item("reports_due", ENTERPRISE, _l("Funded projects: summary report due"), Project,
         _state(Project, ProjectState.funded), "ProjectModelView.list",
         _filter(ProjectState.funded), listed=True),
    Item("acceptance_due", ENTERPRISE, _l("Reported projects: self-acceptance due"), Project,
         _state(Project, ProjectState.reported), "ProjectModelView.list",
         _filter(ProjectState.reported), listed=True),
    # -- Researcher: its own ------------------------------------------------------------------
    Item("service_logs_disputed", RESEARCHER, _l("Service log entries disputed: correct them"),
         ServiceLog, _state(ServiceLog, ServiceLogState.disputed), "ServiceLogModelView.list",
         _filter(ServiceLogState.disputed), listed=True),
    Item("cosign_requested", RESEARCHER, _l("Summary reports to co-sign"), Project,
         lambda ctx: [Project.state == ProjectState.reported,
                      Project.researcher_confirmed_at.is_(None)], "ProjectModelView.list",
         _filter(ProjectState.reported)),
    Item("proposals_selected", RESEARCHER, _l("Your proposals selected (合作意向)"), Proposal,
         _state(Proposal, ProposalState.selected), "ProposalModelView.list",
         _filter(ProposalState.selected), listed=True),
    Item("proposals_shortlisted", RESEARCHER, _l("Your proposals shortlisted"), Proposal,
         _state(Proposal, ProposalState.shortlisted), "ProposalModelView.list",
         _filter(ProposalState.shortlisted), listed=True),
    Item("proposals_draft", RESEARCHER, _l("Your proposals still in draft"), Proposal,
         _state(Proposal, ProposalState.draft), "ProposalModelView.list",
         _filter(ProposalState.draft), listed=True),
    Item("recommended_new", RESEARCHER, _l("Needs recommended to you since your last visit"),
         Match, lambda ctx: [Match.dismissed.is_(False),
                             Match.created_at > _since(ctx, "recommended")],
         "RecommendationView.index"),
    Item("service_records", RESEARCHER, _l("Evaluated projects: service records to download"),
         Project, _state(Project, ProjectState.evaluated), "ProjectModelView.list",
         _filter(ProjectState.evaluated), listed=True),
    # -- Both parties of docking: the threads ---------------------------------------------------
    Item("threads_unread", ENTERPRISE | RESEARCHER, _l("Unread messages in your threads"),
         Message, _unread_messages, "DockingDeskView.index"),
    # -- Staff of a jurisdiction: what stalls -------------------------------------------------
    Item("needs_without_proposals", BUREAU | PLATFORM,
         _l("Published needs with no proposal yet after the waiting days"), Need,
         _waiting_for_proposals, "DockingProgressView.index", {"waiting": "1"}),
    Item("milestones_overdue", STAFF_OF_REGIONS | ENTERPRISE | RESEARCHER,
         _l("Milestones past their date, not reached"), Milestone,
         lambda ctx: [overdue_milestones(ctx.today)], "MilestoneModelView.overdue"),
    Item("projects_overdue", BUREAU | PROVINCE | PLATFORM, _l("Projects past their deadline"),
         Project, lambda ctx: [Project.overdue_clause(ctx.today)], "ProjectModelView.overdue"),
    Item("enterprises_returned", BUREAU, _l("Registrations returned, waiting for the enterprise"),
         Enterprise, _state(Enterprise, EnterpriseState.returned), "EnterpriseModelView.list",
         _filter(EnterpriseState.returned), listed=True),
    Item("needs_returned", BUREAU, _l("Needs returned, waiting for the enterprise"), Need,
         _state(Need, NeedState.returned_by_bureau), "NeedModelView.list",
         _filter(NeedState.returned_by_bureau), listed=True),
    # -- Admin ----------------------------------------------------------------------------------
    Item("users_locked", ADMIN, _l("Accounts locked after wrong passwords"), AppUser,
         lambda ctx: [AppUser.locked_until > ctx.minute], "PlatformUserDBModelView.list",
         by_minute=True),
    Item("role_changes", ADMIN, _l("Role and permission changes this week"), AuditLog,
         lambda ctx: [AuditLog.action.in_(("users.permissions", "roles.permissions")),
                      AuditLog.created_at > ctx.minute - dt.timedelta(days=7)],
         "AuditLogModelView.list", by_minute=True),
)


def context_of(user, today: dt.date | None = None) -> Context:
    now = clock.utcnow().replace(second=0, microsecond=0)
    return Context(user=user, today=today or clock.today(), minute=now,
                   seen=dict(getattr(user, "seen_at", None) or {}),
                   waiting_days=current_app.config["DESK_WAITING_DAYS"])


def items_for(user) -> list[Item]:
    roles = jurisdiction.role_names(user)
    return [item for item in ITEMS if item.roles & roles]


def _count(item: Item, ctx: Context):
    """The item's count as a scalar subquery, through the jurisdiction rule."""
    stmt = select(func.count()).select_from(item.model).where(*item.where(ctx))
    return jurisdiction.scoped(stmt, item.model, ctx.user).scalar_subquery().label(item.key)


def _values(items, ctx: Context) -> tuple:
    """Every value the counts depend on besides the user's jurisdiction: the items, the day,
    the last visits, the waiting days, and the clock to the minute only for items that read
    it."""
    return (tuple(item.key for item in items), ctx.today, tuple(sorted(ctx.seen.items())),
            ctx.waiting_days, ctx.minute if any(item.by_minute for item in items) else None)


def values_of(user, today: dt.date | None = None) -> tuple:
    """What the user's counts depend on besides their jurisdiction (a kept desk's key)."""
    return _values(items_for(user), context_of(user, today))


def counts(user, today: dt.date | None = None) -> dict[str, int]:
    """``{item key: count}`` of the user's items: one statement, kept while the tables it
    reads are unwritten (no statement is built for a kept desk)."""
    items = items_for(user)
    if not items:
        return {}
    ctx = context_of(user, today)
    row = kept.kept_for(user, "counts", _values(items, ctx),
                   lambda: select(*[_count(item, ctx) for item in items]),
                   lambda statement: tuple(db.session.execute(statement).one()))
    return {item.key: int(value or 0) for item, value in zip(items, row)}


def todo_list(user, today: dt.date | None = None) -> list[Todo]:
    """The user's items with their counts and links, those with work first, in the order of
    urgency (the table's order)."""
    found = counts(user, today)
    todos = [Todo(item.key, item.label, found[item.key], url_for(item.endpoint, **item.args),
                  item.listed) for item in items_for(user)]
    return sorted(todos, key=lambda todo: todo.count == 0)


def mark_seen(user, key: str) -> None:
    """The user looked at what ``key`` counts as new (their proposals received, their
    recommendations): later ones are new. Flushes, no commit."""
    if user is None or getattr(user, "id", None) is None:
        return
    row = db.session.get(AppUser, user.id)
    row.seen_at = {**(row.seen_at or {}), key: clock.utcnow().isoformat()}
