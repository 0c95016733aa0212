"""Notifications (each user's inbox, and failed deliveries for the platform), review records
and the audit log."""
from flask import flash, redirect
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import delivery
from ..extensions import db
from ..models import AuditLog, Notification, NotificationState, ReviewRecord
from .base import JURISDICTION, ScopedModelView, interface

LABELS = {
    "user": _l("Recipient"), "channel": _l("Channel"), "template": _l("Template"),
    "state": _l("State"), "attempts": _l("Attempts"), "last_error": _l("Last error"),
    "created_at": _l("Created"), "sent_at": _l("Sent"), "subject_type": _l("Record type"),
    "subject_id": _l("Record"), "action": _l("Action"), "from_state": _l("From"),
    "to_state": _l("To"), "from_title": _l("From"), "to_title": _l("To"),
    "opinion": _l("Opinion"), "actor": _l("By"), "before": _l("Before"),
    "after": _l("After"), "ip": _l("IP address"), "opened_at": _l("Opened"),
}


class NotificationModelView(ScopedModelView):
    datamodel = interface(Notification)
    list_title = _l("Notifications")
    list_columns = ["created_at", "channel", "template", "state"]
    show_columns = ["created_at", "user", "channel", "template", "state", "attempts",
                    "last_error", "sent_at", "opened_at"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class FailedOnly(BaseFilter):
    """Fixed base filter of the failed-deliveries list (never offered in the search form)."""

    name = "failed"
    arg_name = "failed"

    def apply(self, query, value):
        return query.filter(Notification.state == NotificationState.failed)


class FailedNotificationModelView(ScopedModelView):
    """Deliveries that gave up, for the platform to see why and send them again."""

    datamodel = interface(Notification)
    base_filters = JURISDICTION + [["id", FailedOnly, lambda: None]]
    base_permissions = ["can_list", "can_show"]
    list_title = _l("Failed notifications")
    show_title = _l("Failed notification")
    list_columns = ["created_at", "user", "channel", "template", "attempts", "last_error"]
    show_columns = list_columns + ["updated_at"]
    search_columns = ["channel", "template"]
    base_order = ("updated_at", "desc")
    label_columns = {**LABELS, "updated_at": _l("Last attempt")}

    @fab_action("resend", _l("Send again"), _l("Send the selected notifications again?"),
                "fa-redo")
    def resend(self, items):
        # Reached through ScopedModelView.action / action_post, which refuse rows out of scope.
        items = items if isinstance(items, list) else [items]
        count = delivery.resend(db.session, items)
        flash(_("%(count)d notification(s) queued to be sent again.", count=count), "success")
        self.update_redirect()
        return redirect(self.get_redirect())


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
