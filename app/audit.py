"""Writing the audit log. Callers flush/commit; this only adds a row to the session."""
from flask import has_request_context, request

from .extensions import db
from .models import AuditLog


def record(action: str, subject, before=None, after=None, actor=None, subject_type=None):
    """Add an audit row for ``subject`` (a model instance, or ``None`` with ``subject_type``).

    Side effect: ``db.session.add``; does not flush or commit.
    """
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        subject_type=subject_type or type(subject).__tablename__,
        subject_id=getattr(subject, "id", None),
        before=before,
        after=after,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
