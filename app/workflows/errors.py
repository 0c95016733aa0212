"""Refusals of the workflow rules; ``str(err)`` is a translated message fit for the user."""


class WorkflowError(Exception):
    """A refused action; ``str(err)`` is a translated message fit for the user."""


class InvalidTransition(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


class OpinionRequired(WorkflowError):
    pass


class OutOfPhase(WorkflowError):
    pass


class ConcurrentDecision(WorkflowError):
    pass


class RuleViolation(WorkflowError):
    """A record-specific rule (amount, completeness, eligibility) refused the action."""
