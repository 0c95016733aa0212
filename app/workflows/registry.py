"""What the engine reads: the transitions of each record type, installed at start-up.

The table itself is domain knowledge (``app/domain/transitions.py``: who may do what, with which
guard); the engine only needs its shape. ``create_app`` installs the table, so the engine never
imports the domain rules it runs.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from app.models import RoundPhase
from app.models.enums import LabelledEnum

# Pseudo-roles in ``Transition.roles``: "the participant account this record belongs to".
OWNER_ENTERPRISE = "@enterprise"
OWNER_RESEARCHER = "@researcher"
# The platform itself, acting without a user (a periodic job, a CLI command): ``actor`` None.
SYSTEM = "@system"


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
    # The staff roles the new state waits on: their users of the record's jurisdiction get an
    # in-site message (and an e-mail, as each chose), e.g. a registration submitted → its bureau.
    tell: frozenset = frozenset()


def goes_to(state, *roles, tell=(), **options) -> Transition:
    """A transition to ``state`` open to ``roles``: how the table is written."""
    return Transition(to=state, roles=frozenset(roles), tell=frozenset(tell), **options)


# model class → {(state, action): Transition}; filled by ``install``.
TRANSITIONS: dict = {}


def install(table: dict) -> None:
    """Make ``table`` the transitions the engine applies (idempotent: every app of a process
    installs the same table)."""
    TRANSITIONS.clear()
    TRANSITIONS.update(table)


def transitions_of(model) -> dict:
    """``{(state, action): Transition}`` of ``model``; refuses clearly if nothing was installed
    (a process that did not go through ``create_app``)."""
    if not TRANSITIONS:
        raise RuntimeError("no transitions installed: build the app with create_app()")
    return TRANSITIONS[model]

