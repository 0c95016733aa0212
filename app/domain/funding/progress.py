"""The execution of a funded project between its contract and its summary report (notice
§四(三)), in one place.

- Milestones: either party of a running project (funded, or reported) sets dated milestones
  from the proposal's timeline, due by the round's execution end; the enterprise records each
  one reached. A milestone past its date and not reached is overdue (the desks count them).
- Service log (服务记录): the project's researcher records on-site days, hours and the work
  done (hours at most 24 a day, no day in the future); the enterprise confirms or disputes
  each entry (a dispute says why); a disputed entry is corrected and sent again.
- Mid-term check (中期检查): the bureau of the project's region or the province records the
  result and its opinion.
- Support (保障条件): the enterprise records the working conditions it gives the researcher and
  the research posts it opens to PhD students, while the project is under way.
- Change and termination (合同变更、终止): the enterprise asks, one request at a time, while the
  project is under way or suspended; the province approves or rejects with reasons. An
  approved change may lower the funding, never below what is planned or paid; an approved
  termination ends the project with the funding it was paid (nothing more is paid).
- Reminders (daily): both parties hear of a milestone due in 7 days and again the day before;
  the enterprise hears of a service entry it has left unconfirmed for 3 days. One reminder per
  record, offset and user, however often the job runs. The overdue milestones are listed per
  jurisdiction (a bureau: its region's).
- Satisfaction: once the project is self-accepted, each side rates the other once (1 to 5):
  the enterprise the researcher's service, the researcher the enterprise's support. The
  enterprise's rating suggests the evaluation's satisfaction points (score / 5 × 20).

Plain rules: the caller commits. State changes go through ``app/workflows``.
"""
import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from app.core import audit
from app.core.access import jurisdiction
from app.domain.funding.projects import locked_project, project_in, refusal
from app.extensions import db
from app.models import (
    Action,
    MilestoneState,
    Project,
    ProjectState,
    RequestState,
    ServiceLogState,
)
from app.models.execution import (
    ChangeRequest,
    Milestone,
    SatisfactionRating,
    ServiceLog,
)
from app.utils import clock
from app.workflows.engine import apply_action
from app.workflows.errors import RuleViolation

# Projects under way: milestones and the service log are kept until the summary report.
RUNNING = (ProjectState.funded, ProjectState.reported)
# Projects a mid-term check may concern: under way, or suspended while a case runs.
CHECKED = RUNNING + (ProjectState.suspended,)


class ProgressRuleError(RuleViolation):
    pass


def _today(today):
    return today or clock.today()


def _project(user, project_id, states):
    return project_in(
        user, project_id, states, ProgressRuleError, _("Open the funded project first."),
        lambda project: _("Project %(number)s is “%(state)s”: this is recorded while it is "
                          "under way.", number=project.number, state=project.state.title))


def _is_party(user, project) -> bool:
    return (getattr(user, "enterprise_id", None) == project.enterprise_id
            or getattr(user, "researcher_id", None) == project.researcher_id)


def _of_project(record, project):
    record.project, record.project_id = project, project.id
    record.enterprise_id, record.researcher_id = project.enterprise_id, project.researcher_id


def _add_to_project(record, user, project_id, why_not, complete):
    """Make ``record`` one of the project ``project_id``'s, if ``why_not`` says nothing against
    it: the parties from the project, never from the form; ``complete(record, project)`` sets
    the rest and checks it (raising ProgressRuleError). Adds and flushes."""
    refused = why_not(user, project_id)
    if refused:
        raise ProgressRuleError(refused)
    project = db.session.get(Project, int(project_id))
    with db.session.no_autoflush:
        _of_project(record, project)
        complete(record, project)
    db.session.add(record)
    db.session.flush()


# --- milestones -----------------------------------------------------------------------------

def _check_new_milestone(user, project_id):
    project = _project(user, project_id, RUNNING)
    if not _is_party(user, project):
        raise ProgressRuleError(_("The project's enterprise or researcher sets its "
                                  "milestones."))


def why_no_new_milestone(user, project_id) -> str | None:
    return refusal(_check_new_milestone, user, project_id)


def check_milestone(milestone):
    project = milestone.project
    if not (milestone.title or "").strip():
        raise ProgressRuleError(_("Give the milestone a title."))
    deadline = project.deadline
    if milestone.due_on is None or (deadline is not None and milestone.due_on > deadline):
        raise ProgressRuleError(_("A milestone is due by the round's execution end, "
                                  "%(date)s.", date=deadline))


def prepare_milestone(milestone, user, project_id):
    def complete(milestone, project):
        milestone.state = MilestoneState.planned
        check_milestone(milestone)

    _add_to_project(milestone, user, project_id, why_no_new_milestone, complete)


def check_milestone_editable(milestone):
    if milestone.state is not MilestoneState.planned:
        raise ProgressRuleError(_("A milestone reached is kept as it was."))
    check_milestone(milestone)


def milestone_reached(milestone, actor):
    """After ``reach``: the day it was recorded."""
    milestone.reached_on = clock.today()


def _of_running_projects(model):
    """Records of projects still under way (a terminated, revoked or suspended project's
    milestones are no longer due)."""
    return model.project_id.in_(select(Project.id).where(Project.state.in_(RUNNING)))


def overdue_milestones(today: dt.date | None = None):
    """A WHERE clause: milestones of projects under way, past their date and not reached."""
    return and_(Milestone.state == MilestoneState.planned, Milestone.due_on < _today(today),
                _of_running_projects(Milestone))


# --- the service log ------------------------------------------------------------------------

def _check_new_log(user, project_id):
    project = _project(user, project_id, RUNNING)
    if getattr(user, "researcher_id", None) != project.researcher_id:
        raise ProgressRuleError(_("The project's researcher keeps its service log."))


def why_no_new_log(user, project_id) -> str | None:
    return refusal(_check_new_log, user, project_id)


def check_log(log, today: dt.date | None = None):
    today = _today(today)
    if log.starts_on is None or log.ends_on is None or log.ends_on < log.starts_on:
        raise ProgressRuleError(_("Give the days of the service: the last cannot come before "
                                  "the first."))
    if log.ends_on > today:
        raise ProgressRuleError(_("A service is logged once it took place; %(date)s lies in "
                                  "the future.", date=log.ends_on))
    days = (log.ends_on - log.starts_on).days + 1
    if log.hours is None or log.hours <= 0 or Decimal(log.hours) > 24 * days:
        raise ProgressRuleError(_("Give the hours: more than none and at most 24 a day "
                                  "(%(max)d for these %(days)d day(s)).", max=24 * days,
                                  days=days))
    if not (log.work_done or "").strip():
        raise ProgressRuleError(_("Say what work was done."))


def prepare_log(log, user, project_id):
    def complete(log, project):
        log.state = ServiceLogState.submitted
        check_log(log)

    _add_to_project(log, user, project_id, why_no_new_log, complete)


def check_log_editable(log):
    """The researcher corrects an entry until the enterprise confirms it."""
    if log.state is ServiceLogState.confirmed:
        raise ProgressRuleError(_("A confirmed entry is kept as it was."))
    check_log(log)


def check_log_resubmittable(log):
    check_log(log)


# --- the mid-term check ---------------------------------------------------------------------

def _check_new_check(user, project_id):
    _project(user, project_id, CHECKED)
    if not jurisdiction.role_names(user) & {"Bureau", "Province"}:
        raise ProgressRuleError(_("The bureau of the project's region or the province "
                                  "carries out the mid-term check."))


def why_no_new_check(user, project_id) -> str | None:
    return refusal(_check_new_check, user, project_id)


def prepare_check(check, user, project_id, today: dt.date | None = None):
    def complete(check, project):
        check.checked_by_id = user.id
        if check.checked_on is None or check.checked_on > _today(today):
            raise ProgressRuleError(_("Give the day of the check (not in the future)."))
        if not (check.opinion or "").strip():
            raise ProgressRuleError(_("Give the opinion of the check."))

    _add_to_project(check, user, project_id, why_no_new_check, complete)


# --- satisfaction ---------------------------------------------------------------------------

RATED = (ProjectState.accepted, ProjectState.evaluated)


def side_of(user, project) -> str | None:
    if getattr(user, "enterprise_id", None) == project.enterprise_id:
        return "enterprise"
    if getattr(user, "researcher_id", None) == project.researcher_id:
        return "researcher"
    return None


def _check_new_rating(user, project_id):
    project = _project(user, project_id, RATED + RUNNING)
    side = side_of(user, project)
    if side is None:
        raise ProgressRuleError(_("The project's enterprise and researcher rate each "
                                  "other."))
    if project.state not in RATED:
        raise ProgressRuleError(_("Each side rates the other once the project is "
                                  "self-accepted."))
    if db.session.scalar(select(SatisfactionRating.id).where(
            SatisfactionRating.project_id == project.id,
            SatisfactionRating.by_side == side)):
        raise ProgressRuleError(_("You have rated this project already."))


def why_no_new_rating(user, project_id) -> str | None:
    return refusal(_check_new_rating, user, project_id)


def prepare_rating(rating, user, project_id):
    def complete(rating, project):
        rating.by_side = side_of(user, project)
        if rating.score is None or not 1 <= int(rating.score) <= 5:
            raise ProgressRuleError(_("Give a score from 1 to 5."))

    _add_to_project(rating, user, project_id, why_no_new_rating, complete)


def suggested_satisfaction(project, points: int) -> Decimal | None:
    """The evaluation's satisfaction points the enterprise's rating suggests, or None."""
    score = db.session.scalar(select(SatisfactionRating.score).where(
        SatisfactionRating.project_id == project.id, SatisfactionRating.by_side == "enterprise"))
    if score is None:
        return None
    return (Decimal(score) * points / 5).quantize(Decimal("0.1"))


# --- support conditions ---------------------------------------------------------------------

SUPPORT_MAX = 2000


def record_support(project, user, conditions, phd_posts):
    """The enterprise's 保障条件 and PhD research posts; raises ProgressRuleError naming the
    field. Audited; the caller commits."""
    if getattr(user, "enterprise_id", None) != project.enterprise_id:
        raise ProgressRuleError(_("The project's enterprise records its support."))
    if project.state not in RUNNING:
        raise ProgressRuleError(_("Project %(number)s is “%(state)s”: this is recorded while "
                                  "it is under way.", number=project.number,
                                  state=project.state.title))
    conditions = (conditions or "").strip()
    if not conditions or len(conditions) > SUPPORT_MAX:
        raise ProgressRuleError(_("Describe the working conditions (at most %(count)d "
                                  "characters).", count=SUPPORT_MAX))
    posts = str(phd_posts or "0").strip()
    if not posts.isdigit() or int(posts) > 50:
        raise ProgressRuleError(_("Give the number of research posts for PhD students (0 to "
                                  "50)."))
    before = {"support_conditions": project.support_conditions, "phd_posts": project.phd_posts}
    project.support_conditions, project.phd_posts = conditions, int(posts)
    audit.record("projects.support", project, before=before,
                 after={"support_conditions": conditions, "phd_posts": int(posts)}, actor=user)


# --- change and termination requests ----------------------------------------------------------

CHANGEABLE = RUNNING + (ProjectState.suspended,)


def _check_new_request(user, project_id):
    project = _project(user, project_id, CHANGEABLE)
    if getattr(user, "enterprise_id", None) != project.enterprise_id:
        raise ProgressRuleError(_("The project's enterprise asks for a change or a "
                                  "termination."))
    if db.session.scalar(select(ChangeRequest.id).where(
            ChangeRequest.project_id == project.id,
            ChangeRequest.state == RequestState.submitted)):
        raise ProgressRuleError(_("A request of this project waits for the province's "
                                  "decision."))


def why_no_new_request(user, project_id) -> str | None:
    return refusal(_check_new_request, user, project_id)


def _check_request(request):
    if request.kind not in ("change", "termination"):
        raise ProgressRuleError(_("Choose a change or a termination."))
    if not (request.reason or "").strip():
        raise ProgressRuleError(_("Say what changes, or why the contract ends, and why."))
    if request.kind == "termination":
        request.new_funding = None
    elif request.new_funding is not None:
        if request.new_funding <= 0 or request.new_funding > request.project.funding:
            raise ProgressRuleError(_("The funding after the change is more than zero and at "
                                      "most the present %(funding)s CNY.",
                                      funding=f"{request.project.funding:,.2f}"))


def prepare_request(request, user, project_id):
    def complete(request, project):
        request.state = RequestState.submitted
        _check_request(request)

    _add_to_project(request, user, project_id, why_no_new_request, complete)


def _held(project) -> Decimal:
    from app.models import Payment, PaymentState

    return Decimal(db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.project_id == project.id,
        Payment.state.in_((PaymentState.planned, PaymentState.paid)))))


def _paid(project) -> Decimal:
    from app.models import Payment, PaymentState

    return Decimal(db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.project_id == project.id, Payment.state == PaymentState.paid)))


def check_request_approvable(request):
    """Guard of the approval: the project is still changeable; a lower funding keeps what is
    planned or paid."""
    project = locked_project(request.project_id)
    if project.state not in CHANGEABLE:
        raise ProgressRuleError(_("Project %(number)s is “%(state)s” now.",
                                  number=project.number, state=project.state.title))
    if request.kind == "change" and request.new_funding is not None:
        held = _held(project)
        if Decimal(request.new_funding) < held:
            raise ProgressRuleError(_("%(held)s CNY of the funding is planned or paid already: "
                                      "the funding cannot go below it.",
                                      held=f"{held:,.2f}"))


def apply_request(request, actor):
    """After the approval: the change's funding, or the termination (the project ends with
    the funding it was paid)."""
    project = locked_project(request.project_id)
    before = {"funding": str(project.funding), "state": project.state.value}
    if request.kind == "change":
        if request.new_funding is not None:
            project.funding = request.new_funding
    else:
        # The funding becomes what was paid (the database wants it above zero: a project
        # terminated before any payment keeps a fen; the reconciliation counts a terminated
        # project's funding as what it was paid, so nothing is left to pay).
        project.funding = max(_paid(project), Decimal("0.01"))
        apply_action(project, Action.terminate, actor,
                     _("Termination request %(id)s approved: %(reason)s", id=request.id,
                       reason=request.reason))
    audit.record("projects.change_request", project, before=before,
                 after={"funding": str(project.funding), "state": project.state.value,
                        "request": request.id}, actor=actor)


def check_termination_approved(project):
    """Guard of ``terminate``: only an approved termination request ends a project."""
    if db.session.scalar(select(ChangeRequest.id).where(
            ChangeRequest.project_id == project.id, ChangeRequest.kind == "termination",
            ChangeRequest.state == RequestState.approved)) is None:
        raise ProgressRuleError(_("A project is terminated by approving its enterprise's "
                                  "termination request."))


# --- reminders and the overdue list ---------------------------------------------------------

MILESTONE_REMINDER_DAYS = (7, 1)
UNCONFIRMED_DAYS = 3


def overdue_milestone_list(user=None, today: dt.date | None = None) -> list:
    """Overdue milestones the user may see, oldest date first, with their projects."""
    from sqlalchemy.orm import joinedload

    stmt = (select(Milestone).where(overdue_milestones(today))
            .options(joinedload(Milestone.project)).order_by(Milestone.due_on, Milestone.id))
    return db.session.scalars(jurisdiction.scoped(stmt, Milestone, user)).all()


def send_progress_reminders(today: dt.date | None = None) -> int:
    """Write the due milestone and service-log reminders to the outbox (idempotent); returns
    the rows added. The caller commits."""
    from app.core.notifications.outbox import notify, owner_users
    from app.models import AppUser

    today, created = _today(today), 0
    # Every milestone within the furthest offset, told at the nearest offset not below its
    # days left: a run missed yesterday still tells today, and once per offset.
    due = db.session.scalars(select(Milestone).where(
        Milestone.state == MilestoneState.planned, _of_running_projects(Milestone),
        Milestone.due_on.between(today, today + dt.timedelta(
            days=max(MILESTONE_REMINDER_DAYS))))).all()
    for milestone in due:
        left = (milestone.due_on - today).days
        offset = min(days for days in MILESTONE_REMINDER_DAYS if days >= left)
        payload = {"subject_id": milestone.id, "title": milestone.title, "days": left,
                   "due_on": milestone.due_on.isoformat(), "number": milestone.project.number}
        for user in owner_users(milestone):
            created += len(notify(user, "milestones.reminder", payload,
                                  f"milestone-reminder:{milestone.id}:d{offset}"))
    waiting = db.session.scalars(select(ServiceLog).where(
        ServiceLog.state == ServiceLogState.submitted, _of_running_projects(ServiceLog),
        ServiceLog.updated_at < clock.start_of(
            today - dt.timedelta(days=UNCONFIRMED_DAYS - 1)))).all()
    for log in waiting:
        payload = {"subject_id": log.id, "number": log.project.number,
                   "starts_on": log.starts_on.isoformat(), "days": UNCONFIRMED_DAYS}
        for user in db.session.scalars(select(AppUser).where(
                AppUser.enterprise_id == log.enterprise_id)):
            created += len(notify(user, "service_logs.reminder", payload,
                                  f"service-log-reminder:{log.id}:v{log.version}"))
    return created
