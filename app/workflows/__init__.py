"""The workflow engine: the one function that changes a record's state, the registry of
transitions it reads, and its refusals. The transitions themselves are domain rules
(``app/domain/transitions.py``). No Flask request objects in here."""
from app.workflows.engine import apply_action, available_actions  # noqa: F401
from app.workflows.errors import (  # noqa: F401
    ConcurrentDecision,
    InvalidTransition,
    NotAllowed,
    OpinionRequired,
    OutOfPhase,
    RuleViolation,
    WorkflowError,
)
