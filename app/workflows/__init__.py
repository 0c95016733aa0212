"""State changes of every record. No Flask request objects in here."""
from app.workflows.engine import (  # noqa: F401
    ConcurrentDecision,
    InvalidTransition,
    NotAllowed,
    OpinionRequired,
    OutOfPhase,
    WorkflowError,
    apply_action,
    available_actions,
)
from app.domain.transitions import TRANSITIONS, Action  # noqa: F401
