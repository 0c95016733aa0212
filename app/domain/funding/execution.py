"""Execution and evaluation of funded projects (notice §四): the summary report and its
co-signature, self-acceptance, the deadline (the round's execution end) with its reminders and
the overdue list, and the performance evaluation score sheet. The service record (notice §五(三))
is a printed document: ``app/domain/documents``.

Plain rules: no request objects. State changes go through ``app/workflows`` (the guards below
are wired into ``TRANSITIONS``); the caller commits.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from app.core.access import jurisdiction
from app.core.notifications.outbox import notify, owner_users
from app.extensions import db
from app.models import Action, EvaluationResult, ProgramRound, Project, ProjectState
from app.models.contract import OPEN_PROJECT_STATES
from app.utils import clock
from app.workflows.engine import apply_action
from app.workflows.errors import OutOfPhase, RuleViolation

# The summary report is a PDF (checked by content in app/core/uploads.py, which names it .pdf).
REPORT_EXTENSION = ".pdf"
DEFAULT_REMINDER_DAYS = (30, 7, 1)


@dataclass(frozen=True)
class Criterion:
    code: str
    label: object
    points: int


# 绩效评价 score sheet: the criteria and their maximum points (they add up to 100).
CRITERIA = (
    Criterion("goals", _l("Achievement of the project goals"), 40),
    Criterion("funds", _l("Use of funds"), 20),
    Criterion("satisfaction", _l("Enterprise satisfaction"), 20),
    Criterion("transfer", _l("Transfer and demonstration of results"), 20),
)
MAX_TOTAL = sum(c.points for c in CRITERIA)
# The result follows from the total: the lowest total of each result, best first. Derived rather
# than chosen, so that a score sheet and its result can never disagree and every project is
# graded by the same scale; the province's judgement goes into the points and the opinion.
RESULT_THRESHOLDS = (
    (Decimal(90), EvaluationResult.excellent),
    (Decimal(80), EvaluationResult.good),
    (Decimal(60), EvaluationResult.qualified),
)


class ExecutionRuleError(RuleViolation):
    pass


# --- summary report, co-signature, self-acceptance (guards of TRANSITIONS) -------------------

def check_report_attached(project):
    """Guard of ``report``: the summary report must be uploaded, as a PDF."""
    name = project.summary_report or ""
    if not name:
        raise ExecutionRuleError(_("Please upload the summary report (PDF) before submitting it."))
    if not name.lower().endswith(REPORT_EXTENSION):
        raise ExecutionRuleError(_("The summary report must be a PDF document."))


def check_confirmable(project):
    """Guard of ``confirm``: the researcher co-signs a submitted report once."""
    if project.researcher_confirmed_at is not None:
        raise ExecutionRuleError(_("You have already co-signed this summary report."))


def check_researcher_confirmed(project):
    """Guard of ``accept``: no self-acceptance before the researcher has co-signed the report."""
    if project.researcher_confirmed_at is None:
        raise ExecutionRuleError(
            _("The researcher has not co-signed the summary report yet; self-acceptance needs "
              "the co-signature."))


def report_editable(project) -> bool:
    """The enterprise may replace the report file until it submits it."""
    return project.state is ProjectState.funded


# --- deadline, reminders, overdue ------------------------------------------------------------

def _today(today):
    return today or clock.today()


def check_before_execution_end(project, action_title, today: dt.date | None = None):
    """Guard of ``report``, ``confirm`` and ``accept`` (notice §四: all of it by the round's
    execution end). A deadline, not a phase: a project funded during the matching phase may
    report early. Raises ``OutOfPhase`` naming the deadline; changes nothing."""
    if project.deadline_passed(today):
        raise OutOfPhase(_("“%(action)s” was possible until %(deadline)s, the end of the "
                           "round's execution phase; that deadline has passed.",
                           action=action_title, deadline=project.deadline))


def overdue_projects(user=None, today: dt.date | None = None) -> list:
    """Overdue projects the user may see (a bureau: its own region's), oldest deadline first."""
    stmt = (select(Project).join(ProgramRound, Project.round_id == ProgramRound.id)
            .where(Project.overdue_clause(today))
            # The page names each project's parties and deadline: loaded with it, not one by one
            # (359 statements for the province's 300 projects).
            .options(joinedload(Project.enterprise), joinedload(Project.researcher),
                     contains_eager(Project.round))
            .order_by(ProgramRound.execution_end, Project.number))
    return db.session.scalars(jurisdiction.scoped(stmt, Project, user)).unique().all()


def reminder_days() -> tuple:
    days = current_app.config.get("REPORT_REMINDER_DAYS") or DEFAULT_REMINDER_DAYS
    return tuple(sorted({int(d) for d in days}, reverse=True))


def reminder_offset(left: int, offsets) -> int | None:
    """The reminder due with ``left`` days to go: the nearest offset not below it. A run that was
    missed (worker down that day) is caught up by the next one, and only the nearest reminder
    goes out, never all of them at once."""
    if left is None or left < 0:
        return None
    due = [d for d in offsets if d >= left]
    return min(due) if due else None


def due_reminders(today: dt.date | None = None, offsets=None) -> list:
    """(project, offset, days left) for every open project whose reminder is due."""
    today = _today(today)
    offsets = tuple(offsets) if offsets is not None else reminder_days()
    if not offsets:
        return []
    horizon = today + dt.timedelta(days=max(offsets))
    stmt = (select(Project).join(ProgramRound, Project.round_id == ProgramRound.id)
            .where(Project.state.in_(OPEN_PROJECT_STATES), ProgramRound.execution_end >= today,
                   ProgramRound.execution_end <= horizon)
            .order_by(Project.id))
    due = []
    for project in db.session.scalars(stmt):
        left = project.days_left(today)
        offset = reminder_offset(left, offsets)
        if offset is not None:
            due.append((project, offset, left))
    return due


def reminder_event_key(project, offset) -> str:
    return f"report-reminder:project{project.id}:d{offset}"


def send_report_reminders(today: dt.date | None = None, offsets=None) -> int:
    """Write the due reminders to the outbox for the enterprise and researcher accounts of each
    project. Idempotent: one reminder per project, offset, user and channel, however often this
    runs. Returns the number of outbox rows added. The caller commits."""

    created = 0
    for project, offset, left in due_reminders(today, offsets):
        payload = {"subject_id": project.id, "number": project.number, "days": left,
                   "offset": offset, "deadline": project.deadline.isoformat(),
                   "state": project.state.value}
        for user in owner_users(project):
            created += len(notify(user, "projects.report_reminder", payload,
                                  reminder_event_key(project, offset)))
    return created


# --- performance evaluation ------------------------------------------------------------------

def result_for(total) -> EvaluationResult:
    total = Decimal(total)
    for lowest, result in RESULT_THRESHOLDS:
        if total >= lowest:
            return result
    return EvaluationResult.unqualified


def parse_scores(values) -> dict:
    """{criterion code: Decimal points} from form values; raises with every problem named."""
    scores, problems = {}, []
    for criterion in CRITERIA:
        raw = str(values.get(criterion.code, "") or "").strip()
        try:
            points = Decimal(raw)
            if not points.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(_("“%(criterion)s”: please give the points (0–%(max)d).",
                              criterion=criterion.label, max=criterion.points))
            continue
        if points < 0 or points > criterion.points or points != points.quantize(Decimal("0.1")):
            problems.append(_("“%(criterion)s”: the points must lie between 0 and %(max)d "
                              "(one decimal at most).", criterion=criterion.label,
                              max=criterion.points))
            continue
        scores[criterion.code] = points
    if problems:
        raise ExecutionRuleError(" ".join(str(p) for p in problems))
    return scores


def check_score_sheet(project):
    """Guard of ``evaluate``: a complete score sheet whose total and result are consistent."""
    sheet = project.evaluation_scores or {}
    if set(sheet) != {c.code for c in CRITERIA} or project.evaluation_score is None:
        raise ExecutionRuleError(_("Please fill in the evaluation score sheet."))


def evaluate(project, actor, values, opinion=None):
    """Record the province's score sheet and move the project to ``evaluated``."""

    scores = parse_scores(values)
    total = sum(scores.values(), Decimal(0))
    project.evaluation_scores = {code: str(points) for code, points in scores.items()}
    project.evaluation_score = total
    project.evaluation_result = result_for(total)
    return apply_action(project, Action.evaluate, actor, opinion)


def result_scale() -> str:
    """The grading scale in one line, joined with the locale's separator (the Chinese “；”
    would otherwise show on English pages)."""
    parts = [f"{result.title} ≥ {lowest}" for lowest, result in RESULT_THRESHOLDS]
    parts.append(str(_("below that: Unqualified")))
    return pgettext("list separator", "; ").join(parts)


def evaluation_period(project) -> tuple | None:
    """(first day, last day) of the round's evaluation phase, when ``evaluate`` is allowed
    (the ``phase`` of its transition); ``None`` without a round."""
    program_round = project.round
    if program_round is None:
        return None
    return (program_round.execution_end + dt.timedelta(days=1), program_round.evaluation_end)


def evaluation_open(project, today: dt.date | None = None) -> bool:
    """Whether the score sheet may be filled in now: the project self-accepted, inside the
    round's evaluation phase. Outside it the form is shown closed, with the dates it opens."""
    period = evaluation_period(project)
    today = today or clock.today()
    return (project.state is ProjectState.accepted and period is not None
            and period[0] <= today <= period[1])


def score_rows(project) -> list:
    """(criterion, points or None) for display."""
    sheet = project.evaluation_scores or {}
    return [(c, sheet.get(c.code)) for c in CRITERIA]
