"""公示 of the proposed funded list (notice §四(二), the spec's section 8), in one place.

- The province's approval of a contract (立项) proposes a project (``ProjectState.proposed``).
- The province publishes the round's proposed projects not yet on a list as one publicity: on
  the public site for ``ProgramRound.publicity_days`` working days (default 5), counted from
  the day of publication (app/domain/reference/working_days.py). It shows the enterprise, the
  researcher's institution, the need's title and the funding: no personal data.
- Anyone may lodge an objection (异议) against one project of the list while it is open, with a
  name, a mobile number and optionally a file. Nobody needs an account.
- The province decides each objection with reasons: upheld withdraws the project's funding
  (its place in the quota is free again), dismissed leaves it.
- A project becomes funded (final) once its window has closed and no objection against it
  waits for a decision; the periodic job (and ``flask publicity finalise``) does this, and a
  decision taken after the window does it at once. A list is closed when every project on it
  is funded or withdrawn; its public page then reads as the final list.

Plain rules: the caller commits. State changes go through ``app/workflows``.
"""
import datetime as dt
import re
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.display import local_date
from app.core.notifications.outbox import notify, notify_staff, owner_users
from app.domain.reference import working_days
from app.extensions import db
from app.models import (
    Action,
    Contract,
    Need,
    Objection,
    ObjectionState,
    ProgramRound,
    Project,
    ProjectState,
    Publicity,
)
from app.models.mixins import utcnow
from app.utils import clock
from app.workflows.engine import apply_action
from app.workflows.errors import RuleViolation

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTENT_MAX = 2000


class PublicityRuleError(RuleViolation):
    """A refusal; ``field`` names the form field it belongs beside, if any."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _today(today):
    return today or clock.today()


# --- publishing the list --------------------------------------------------------------------

def unlisted_statement(round_id: int):
    """The round's proposed projects on no list yet, by number."""
    return (select(Project).where(Project.round_id == round_id,
                                  Project.state == ProjectState.proposed,
                                  Project.publicity_id.is_(None))
            .order_by(Project.number))


def unlisted_count(round_id: int) -> int:
    return db.session.scalar(select(func.count(Project.id)).where(
        Project.round_id == round_id, Project.state == ProjectState.proposed,
        Project.publicity_id.is_(None)))


def default_title(program_round, today=None) -> str:
    number = db.session.scalar(select(func.count(Publicity.id))
                               .where(Publicity.round_id == program_round.id)) + 1
    return _("%(round)s: proposed funded projects, list %(number)d",
             round=program_round.name, number=number)


def window_for(program_round, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of objections of a list of ``program_round`` published today."""
    return working_days.window(_today(today), program_round.publicity_days or 5)


def publish(program_round, actor, title: str | None = None, today: dt.date | None = None):
    """Put the round's unlisted proposed projects on a new publicity opening ``today``; tell
    their enterprises and researchers. Raises PublicityRuleError when there is none."""
    today = _today(today)
    projects = db.session.scalars(unlisted_statement(program_round.id)).all()
    if not projects:
        raise PublicityRuleError(_("No proposed project of this round waits for publication: "
                                   "projects are proposed when the province approves their "
                                   "contracts."))
    title = (title or "").strip() or default_title(program_round, today)
    if len(title) > 200:
        raise PublicityRuleError(_("The title is too long (200 characters at most)."), "title")
    days = program_round.publicity_days or 5
    starts_on, ends_on = window_for(program_round, today)
    publicity = Publicity(round=program_round, title=title, starts_on=starts_on,
                          ends_on=ends_on, working_days=days,
                          published_by_id=getattr(actor, "id", None))
    db.session.add(publicity)
    db.session.flush()
    for project in projects:
        project.publicity = publicity
    audit.record("publicities.publish", publicity, after={
        "round": program_round.code, "projects": [p.number for p in projects],
        "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}, actor=actor)
    for project in projects:
        payload = {"subject_id": project.id, "number": project.number, "title": title,
                   "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
        for user in owner_users(project):
            notify(user, "publicity.listed", payload,
                   event_key=f"publicity:{publicity.id}:project{project.id}")
    db.session.flush()
    return publicity


# --- the public list ------------------------------------------------------------------------

def public_publicities():
    """Every publicity, newest first, with its round (the public index)."""
    return db.session.scalars(select(Publicity).options(joinedload(Publicity.round))
                              .order_by(Publicity.starts_on.desc(), Publicity.id.desc())).all()


def public_rows(publicity) -> list:
    """What the public list shows of each project: no personal data. One statement."""
    from app.models import Enterprise, Institution

    stmt = (select(Project.id, Project.number, Project.state, Project.funding,
                   Enterprise.name, Institution.name, Need.title)
            .join(Contract, Project.contract_id == Contract.id)
            .join(Enterprise, Project.enterprise_id == Enterprise.id)
            .join(Institution, Contract.institution_id == Institution.id)
            .join(Need, Contract.need_id == Need.id)
            .where(Project.publicity_id == publicity.id)
            .order_by(Project.number))
    return [dict(id=r[0], number=r[1], state=r[2], funding=r[3], enterprise=r[4],
                 institution=r[5], need=r[6]) for r in db.session.execute(stmt)]


def announcement(publicity, rows) -> dict | None:
    """The final list as announced when the window was over and every objection decided: the
    projects funded and their total, those withdrawn on an upheld objection, and the day it
    became final (Beijing). Read from what was kept at the close (``final_list``); a list
    closed before it was kept is read from ``rows``. None while the list is not final."""
    if publicity.closed_at is None:
        return None
    kept = publicity.final_list or _final_list(rows)
    funded = [{**r, "funding": Decimal(r["funding"])} for r in kept["funded"]]
    return {"funded": funded,
            "withdrawn": [{**r, "funding": Decimal(r["funding"])} for r in kept["withdrawn"]],
            "total": sum((r["funding"] for r in funded), Decimal(0)),
            "day": local_date(publicity.closed_at)}


def _final_list(rows) -> dict:
    """What the announcement lists of each project, as JSON: no ids, no states."""
    def entry(r):
        return {"number": r["number"], "enterprise": r["enterprise"],
                "institution": r["institution"], "need": r["need"],
                "funding": str(r["funding"] or 0)}
    return {"funded": [entry(r) for r in rows if r["state"] is not ProjectState.withdrawn],
            "withdrawn": [entry(r) for r in rows if r["state"] is ProjectState.withdrawn]}


def status_of(publicity, today=None) -> str:
    """``upcoming``, ``open``, ``deciding`` (window over, objections or funding pending) or
    ``final``."""
    today = _today(today)
    if publicity.closed_at is not None:
        return "final"
    if today < publicity.starts_on:
        return "upcoming"
    if today <= publicity.ends_on:
        return "open"
    return "deciding"


# --- objections -----------------------------------------------------------------------------

def lodge(publicity, project_id, name, phone, email, content, attachment=None,
          today: dt.date | None = None) -> Objection:
    """An objection from anyone against one project of an open list; raises
    PublicityRuleError naming the field. Tells the province."""
    today = _today(today)
    if not publicity.is_open_on(today):
        if today < publicity.starts_on:
            raise PublicityRuleError(_("Objections can be lodged from %(date)s.",
                                       date=publicity.starts_on))
        raise PublicityRuleError(_("The publicity ended on %(date)s; objections are no longer "
                                   "accepted.", date=publicity.ends_on))
    project = None
    if str(project_id or "").isdigit():
        project = db.session.get(Project, int(project_id))
    if project is None or project.publicity_id != publicity.id:
        raise PublicityRuleError(_("Choose the project you object to."), "project")
    if project.state is not ProjectState.proposed:
        raise PublicityRuleError(_("This project's funding was already decided."), "project")
    name, phone = (name or "").strip(), re.sub(r"[\s-]", "", phone or "")
    email, content = (email or "").strip(), (content or "").strip()
    if not name or len(name) > 60:
        raise PublicityRuleError(_("Give your name (60 characters at most)."), "name")
    if not MOBILE.match(phone.removeprefix("+86")):
        raise PublicityRuleError(_("Give a mainland mobile number of 11 digits, so that the "
                                   "province can reach you."), "phone")
    if email and (len(email) > 120 or not EMAIL.match(email)):
        raise PublicityRuleError(_("This e-mail address is not valid."), "email")
    if len(content) < 10:
        raise PublicityRuleError(_("Say what you object to and why (at least 10 characters)."),
                                 "content")
    if len(content) > CONTENT_MAX:
        raise PublicityRuleError(_("At most %(count)d characters.", count=CONTENT_MAX),
                                 "content")
    objection = Objection(publicity=publicity, project=project, name=name,
                          phone=phone.removeprefix("+86"), email=email or None,
                          content=content, attachment=attachment)
    db.session.add(objection)
    db.session.flush()
    audit.record("objections.lodge", objection, after={
        "publicity": publicity.id, "project": project.number}, actor_name="public")
    notify_staff(objection, ("Province",), event_key=f"objection:{objection.id}",
                 name=project.number)
    return objection


def pending_objections(project) -> int:
    return db.session.scalar(select(func.count(Objection.id)).where(
        Objection.project_id == project.id, Objection.state == ObjectionState.lodged))


def check_objection_decidable(objection):
    """Guard of dismissing: the project's funding is not decided yet."""
    if objection.project.state is not ProjectState.proposed:
        raise PublicityRuleError(_("The project's funding was already decided (“%(state)s”).",
                                   state=objection.project.state.title))


def check_objection_upholdable(objection):
    """Guard of upholding: the project is still proposed, or was withdrawn by another objection
    upheld against it (the others are upheld with it)."""
    if objection.project.state not in (ProjectState.proposed, ProjectState.withdrawn):
        check_objection_decidable(objection)


def check_objection_upheld(project):
    """Guard of a proposed project's ``withdraw``: only an upheld objection withdraws it."""
    if not db.session.scalar(select(func.count(Objection.id)).where(
            Objection.project_id == project.id, Objection.state == ObjectionState.upheld)):
        raise PublicityRuleError(_("A proposed project is withdrawn by upholding an objection "
                                   "against it."))


def withdraw_project(objection, actor):
    """After upholding: the project's funding is withdrawn, with the objection's reasons, and
    the other objections waiting against it are upheld with it (nothing is left undecided)."""
    project = objection.project
    if project.state is not ProjectState.proposed:
        return  # withdrawn already, by the objection whose decision upholds this one
    apply_action(project, Action.withdraw, actor,
                 _("Objection %(id)s upheld: %(reason)s", id=objection.id,
                   reason=objection.decision_reason))
    others = db.session.scalars(select(Objection).where(
        Objection.project_id == project.id, Objection.state == ObjectionState.lodged,
        Objection.id != objection.id).order_by(Objection.id)).all()
    for other in others:
        apply_action(other, Action.uphold, actor,
                     _("Decided with objection %(id)s: %(reason)s", id=objection.id,
                       reason=objection.decision_reason))
    _close_if_decided(objection.publicity)


def after_dismissal(objection, actor, today: dt.date | None = None):
    """After dismissing: a window already over funds the project now, if nothing else waits."""
    publicity = objection.publicity
    if _today(today) > publicity.ends_on:
        _fund_if_clear(objection.project)
        _close_if_decided(publicity)


# --- the end of the window ------------------------------------------------------------------

def check_fundable_after_publicity(project):
    """Guard of ``fund`` (the system's action only): the project was on a list and no objection
    against it waits for a decision. Its callers (``finalise_due``, ``after_dismissal``) fund
    only after the list's window, on the day they are given."""
    if project.publicity is None:
        raise PublicityRuleError(_("The project has not been published for objections yet."))
    if pending_objections(project):
        raise PublicityRuleError(_("An objection against this project waits for a decision."))


def _fund_if_clear(project) -> bool:
    if project.state is not ProjectState.proposed or pending_objections(project):
        return False
    apply_action(project, Action.fund, None)
    return True


def _close_if_decided(publicity):
    left = db.session.scalar(select(func.count(Project.id)).where(
        Project.publicity_id == publicity.id, Project.state == ProjectState.proposed))
    if left == 0 and publicity.closed_at is None:
        publicity.closed_at = utcnow()
        publicity.final_list = _final_list(public_rows(publicity))
        audit.record("publicities.close", publicity, after={"closed": True})
        db.session.flush()


def finalise_due(today: dt.date | None = None) -> int:
    """Fund every proposed project whose window has closed and which no objection holds;
    close the lists so decided. Returns the projects funded. Idempotent."""
    today = _today(today)
    due = db.session.scalars(select(Publicity).where(Publicity.closed_at.is_(None),
                                                     Publicity.ends_on < today)
                             .order_by(Publicity.id)).all()
    funded = 0
    for publicity in due:
        projects = db.session.scalars(select(Project).where(
            Project.publicity_id == publicity.id, Project.state == ProjectState.proposed)
            .order_by(Project.id)).all()
        funded += sum(_fund_if_clear(project) for project in projects)
        _close_if_decided(publicity)
    return funded


def round_choices():
    """Rounds with projects waiting for publication, for the publish page (few)."""
    rows = db.session.execute(
        select(ProgramRound, func.count(Project.id))
        .join(Project, Project.round_id == ProgramRound.id)
        .where(Project.state == ProjectState.proposed, Project.publicity_id.is_(None))
        .group_by(ProgramRound.id).order_by(ProgramRound.needs_filing_start.desc())).all()
    return [(r, count) for r, count in rows]

