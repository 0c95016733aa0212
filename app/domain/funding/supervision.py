"""Supervision of public money (notice §五(四)), in one place.

- Staff open a case (疑点) about a funded project, from its page: from a failed cross-check, an
  objection, the audit log or by hand. A bureau opens and follows its region's only.
- A case is investigated, then closed by the province: no issue, or a violation, with the
  findings (required) and the amount to recover; the amount recovered is recorded as it comes.
- While a case is open, under investigation or found a violation, the province may suspend the
  project (it is not paid meanwhile: app/domain/funding/payments.py) and resume it; after a
  violation it may revoke the funding (the project's place and funding leave the round's
  counts).
- A credit record (失信) bars the enterprise or the researcher from filing needs, proposals and
  contracts from its first to its last day; the refusal says why and until when. The
  workflow's guards of those filings ask ``check_not_barred`` (app/domain/transitions.py).

Plain rules: the caller commits. State changes go through ``app/workflows``.
"""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.core import audit
from app.core.access import jurisdiction
from app.domain.funding.projects import project_in, refusal
from app.extensions import db
from app.models import CaseState, CreditRecord, ProjectState, SupervisionCase
from app.utils import clock
from app.workflows.errors import RuleViolation

ACTIVE_CASE_STATES = (CaseState.open, CaseState.investigating, CaseState.violation)
# The projects a case may concern: funded and running, or suspended already.
SUPERVISED_PROJECT_STATES = (ProjectState.funded, ProjectState.reported, ProjectState.accepted,
                             ProjectState.evaluated, ProjectState.suspended)


class SupervisionRuleError(RuleViolation):
    pass


def _project_of(user, project_id):
    return project_in(
        user, project_id, SUPERVISED_PROJECT_STATES, SupervisionRuleError,
        _("Open the funded project the case is about."),
        lambda project: _("Project %(number)s is “%(state)s”: a case concerns a funded "
                          "project.", number=project.number, state=project.state.title))


def why_no_new_case(user, project_id) -> str | None:
    return refusal(_project_of, user, project_id)


def prepare_new_case(case, user, project_id):
    """Make ``case`` an open case about the project ``project_id`` (the project and its
    enterprise from the project, never from the form)."""
    project = _project_of(user, project_id)
    with db.session.no_autoflush:
        case.project, case.project_id = project, project.id
        case.enterprise_id = project.enterprise_id
        case.state = CaseState.open
        if not (case.summary or "").strip():
            raise SupervisionRuleError(_("Say what is suspected."))
    db.session.add(case)
    db.session.flush()
    audit.record("supervision_cases.open", case, after={
        "project": project.number, "source": case.source.value}, actor=user)


def check_amounts(case):
    """Amounts are not negative, and nothing is recovered beyond what is to recover."""
    to_recover, recovered = case.amount_to_recover, case.amount_recovered
    if (to_recover is not None and to_recover < 0) or (recovered is not None and recovered < 0):
        raise SupervisionRuleError(_("Amounts cannot be negative."))
    if recovered and (to_recover is None or recovered > to_recover):
        raise SupervisionRuleError(_("The amount recovered cannot exceed the amount to "
                                     "recover."))


def _cases_of(project, states):
    return db.session.scalars(select(SupervisionCase.id).where(
        SupervisionCase.project_id == project.id, SupervisionCase.state.in_(states))).first()


def check_case_active(project):
    """Guard of ``suspend``: a case about the project is open, investigated or a violation."""
    if _cases_of(project, ACTIVE_CASE_STATES) is None:
        raise SupervisionRuleError(_("A project is suspended on a supervision case: open one "
                                     "about it first."))


def check_violation_found(project):
    """Guard of ``revoke``: a case about the project was closed as a violation."""
    if _cases_of(project, (CaseState.violation,)) is None:
        raise SupervisionRuleError(_("The funding is revoked after a violation is found: close "
                                     "a case about the project as a violation first."))


# --- credit records ------------------------------------------------------------------------

def active_record(enterprise_id=None, researcher_id=None, today: dt.date | None = None):
    """The credit record barring the enterprise or the researcher on ``today``, if any (the
    one ending last)."""
    today = today or clock.today()
    parties = []
    if enterprise_id is not None:
        parties.append(CreditRecord.enterprise_id == enterprise_id)
    if researcher_id is not None:
        parties.append(CreditRecord.researcher_id == researcher_id)
    if not parties:
        return None
    return db.session.scalars(select(CreditRecord).where(
        or_(*parties), CreditRecord.starts_on <= today, CreditRecord.ends_on >= today)
        .order_by(CreditRecord.ends_on.desc())).first()


def check_not_barred(enterprise_id=None, researcher_id=None, today=None):
    """Raise, with the reason and the last day, if a credit record bars the party today."""
    record = active_record(enterprise_id, researcher_id, today)
    if record is not None:
        raise SupervisionRuleError(_(
            "A credit record (失信) bars you from filing until %(date)s: %(reason)s",
            date=record.ends_on, reason=record.reason))


def prepare_credit_record(record, user, case_id, party):
    """A credit record from a case closed as a violation: its enterprise (``party`` is
    ``enterprise``), its researcher (``researcher``), or both (``both``)."""
    case = None
    if str(case_id or "").isdigit():
        case = jurisdiction.visible(db.session, SupervisionCase, int(case_id), user)
    if case is None or case.state is not CaseState.violation:
        raise SupervisionRuleError(_("A credit record follows a case closed as a violation: "
                                     "open it from that case."))
    if party not in ("enterprise", "researcher", "both"):
        raise SupervisionRuleError(_("Choose who the record concerns."))
    if record.starts_on is None or record.ends_on is None or record.ends_on < record.starts_on:
        raise SupervisionRuleError(_("Give the period: its last day cannot come before its "
                                     "first."))
    record.case_id = case.id
    record.enterprise_id = case.enterprise_id if party in ("enterprise", "both") else None
    record.researcher_id = (case.project.researcher_id if party in ("researcher", "both")
                            else None)
    db.session.add(record)
    db.session.flush()
    audit.record("credit_records.add", record, after={
        "case": case.id, "enterprise": record.enterprise_id, "researcher": record.researcher_id,
        "until": record.ends_on.isoformat()}, actor=user)
