"""The single function that changes a record's state: ``apply_action``."""
import datetime as dt
import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.core import audit
from app.core.access import jurisdiction
from app.core.notifications.outbox import notify_owners, notify_staff
from app.extensions import db
from app.models import Action, ReviewRecord
from app.models.mixins import utcnow
from app.utils import clock
from app.workflows.errors import (
    ConcurrentDecision,
    InvalidTransition,
    NotAllowed,
    OpinionRequired,
    OutOfPhase,
)
from app.workflows.registry import (
    OWNER_ENTERPRISE,
    OWNER_RESEARCHER,
    SYSTEM,
    transitions_of,
)

logger = logging.getLogger(__name__)


def _owns(obj, user, owner_role) -> bool:
    keys = type(obj).jurisdiction_keys()
    key, user_value = {
        OWNER_ENTERPRISE: ("enterprise", getattr(user, "enterprise_id", None)),
        OWNER_RESEARCHER: ("researcher", getattr(user, "researcher_id", None)),
    }[owner_role]
    if key not in keys or user_value is None:
        return False
    model = type(obj)
    stmt = select(model.id).where(model.id == obj.id, keys[key] == user_value)
    return db.session.execute(stmt).first() is not None


def _may(obj, user, transition) -> bool:
    if user is None:
        # Only jobs and commands act without a user, and only where the table says so.
        return SYSTEM in transition.roles
    roles = jurisdiction.role_names(user)
    for role in transition.roles:
        if role in (OWNER_ENTERPRISE, OWNER_RESEARCHER):
            wanted = "Enterprise" if role == OWNER_ENTERPRISE else "Researcher"
            if wanted in roles and _owns(obj, user, role):
                return True
        elif role in roles:
            # Staff decide only inside their jurisdiction (a bureau: its own region).
            clause = jurisdiction.clause_for(type(obj), user)
            if clause is None:
                return True
            model = type(obj)
            stmt = select(model.id).where(model.id == obj.id, clause)
            if db.session.execute(stmt).first() is not None:
                return True
    return False


def available_actions(obj, user) -> list[Action]:
    """Actions ``user`` may apply to ``obj`` in its current state (for buttons)."""
    table = transitions_of(type(obj))
    return [a for (s, a), t in table.items() if s == obj.state and _may(obj, user, t)]


def _round_of(obj):
    return getattr(obj, "round", None)


def apply_action(obj, action, actor, opinion: str | None = None, today: dt.date | None = None):
    """Move ``obj`` along its installed transitions on behalf of ``actor``.

    Checks, in order: the transition exists for the current state, the actor's role and
    jurisdiction, the opinion when one is required, the round phase, and the transition's
    guard (e.g. the need's minimum amount). Then sets the state,
    writes a ReviewRecord and an audit row, writes the owners' notifications to the outbox, and
    flushes. Does not commit: the caller commits once (the jobs are enqueued after that commit).

    Raises a ``WorkflowError`` subclass with a translated message; on
    ``ConcurrentDecision`` the session has been rolled back.
    """
    action = Action(action)
    model = type(obj)
    before = obj.state
    transition = transitions_of(model).get((before, action))
    if transition is None:
        raise InvalidTransition(
            _("“%(action)s” is not possible while the record is “%(state)s”.",
              action=action.title, state=before.title)
        )
    if not _may(obj, actor, transition):
        raise NotAllowed(_("You are not allowed to %(action)s this record.", action=action.title))
    opinion = (opinion or "").strip() or None
    if transition.needs_opinion and not opinion:
        raise OpinionRequired(_("Please give a reason or opinion for “%(action)s”.",
                                action=action.title))
    program_round = _round_of(obj)
    if transition.phase is not None and program_round is not None:
        phase = program_round.phase_on(today or clock.today())
        if phase is not transition.phase:
            raise OutOfPhase(
                _("“%(action)s” is only possible during “%(phase)s” (until %(deadline)s); "
                  "the round is now in “%(current)s”.",
                  action=action.title, phase=transition.phase.title,
                  deadline=program_round.phase_end(transition.phase), current=phase.title)
            )
    if transition.guard is not None:
        transition.guard(obj)
    obj.state = transition.to
    for column, source in transition.sets.items():
        setattr(obj, column, opinion if source == "opinion" else utcnow())
    review = ReviewRecord(
        subject_type=model.__tablename__, subject_id=obj.id, action=action.value,
        from_state=before.value, to_state=transition.to.value, opinion=opinion,
        actor_id=getattr(actor, "id", None),
    )
    db.session.add(review)
    audit.record(f"{model.__tablename__}.{action.value}", obj, before={"state": before.value},
                 after={"state": transition.to.value, "opinion": opinion}, actor=actor)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ConcurrentDecision(
            _("Someone else decided this record a moment ago; reload it to see the new state.")
        ) from None
    if transition.then is not None:
        transition.then(obj, actor)
    notify_owners(obj, actor, template=f"{model.__tablename__}.{action.value}",
                  payload={"subject_id": obj.id, "state": transition.to.value, "opinion": opinion},
                  event_key=f"review:{review.id}")
    if transition.tell:
        notify_staff(obj, transition.tell, event_key=f"review:{review.id}")
    logger.info("%s %s: %s -> %s by %s", model.__name__, obj.id, before.value,
                transition.to.value, getattr(actor, "username", None))
    return review
