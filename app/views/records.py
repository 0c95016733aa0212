"""Notifications (each user's inbox), review records and the audit log."""
from flask_babel import lazy_gettext as _l

from ..models import AuditLog, Notification, ReviewRecord
from .base import ScopedModelView, interface

LABELS = {
    "user": _l("Recipient"), "channel": _l("Channel"), "template": _l("Template"),
    "state": _l("State"), "attempts": _l("Attempts"), "last_error": _l("Last error"),
    "created_at": _l("Created"), "sent_at": _l("Sent"), "subject_type": _l("Record type"),
    "subject_id": _l("Record"), "action": _l("Action"), "from_state": _l("From"),
    "to_state": _l("To"), "from_title": _l("From"), "to_title": _l("To"),
    "opinion": _l("Opinion"), "actor": _l("By"), "before": _l("Before"),
    "after": _l("After"), "ip": _l("IP address"),
}


class NotificationModelView(ScopedModelView):
    datamodel = interface(Notification)
    list_title = _l("Notifications")
    list_columns = ["created_at", "channel", "template", "state"]
    show_columns = ["created_at", "user", "channel", "template", "state", "attempts",
                    "last_error", "sent_at"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class ReviewRecordModelView(ScopedModelView):
    datamodel = interface(ReviewRecord)
    list_title = _l("Review records")
    list_columns = ["created_at", "subject_type", "subject_id", "action", "from_title",
                    "to_title", "actor"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class AuditLogModelView(ScopedModelView):
    datamodel = interface(AuditLog)
    list_title = _l("Audit log")
    list_columns = ["created_at", "actor", "action", "subject_type", "subject_id", "ip"]
    show_columns = list_columns + ["before", "after"]
    base_order = ("created_at", "desc")
    label_columns = LABELS
