"""Notifications (each user's inbox, and failed deliveries for the platform), review records
and the audit log."""

from flask import flash, g, redirect
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core import audit, workbooks
from app.core.long_reads import long_read, short_write
from app.core.notifications import delivery
from app.domain.needs.export import audit_log_sheet
from app.extensions import db
from app.models import AuditLog, Notification, NotificationState, ReviewRecord
from app.utils import clock
from app.views.base import JURISDICTION, ScopedModelView, interface

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
    """The delivery log of every channel, for the staff who run the notifications (a user's
    own messages are the inbox, app/views/inbox.py)."""

    datamodel = interface(Notification)
    base_permissions = ["can_list", "can_show"]
    list_title = _l("Delivery log")
    list_columns = ["created_at", "user", "channel", "template", "state", "attempts"]
    show_columns = ["created_at", "user", "channel", "template", "state", "attempts",
                    "last_error", "sent_at", "opened_at"]
    base_order = ("created_at", "desc")
    # What a person looks a delivery up by; not its tokens, keys and errors (350,000 rows
    # after one push round at province scale: each of those filters was a scan).
    search_columns = ["user", "channel", "template", "state", "created_at", "sent_at"]
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
        audit.record("notifications.resend", None, subject_type="notifications",
                     after={"ids": sorted(i.id for i in items), "queued": count})
        db.session.commit()
        flash(_("%(count)d notification(s) queued to be sent again.", count=count), "success")
        self.update_redirect()
        return redirect(self.get_redirect())


class ReviewRecordModelView(ScopedModelView):
    datamodel = interface(ReviewRecord)
    list_title = _l("Review records")
    list_columns = ["created_at", "subject_type", "subject_id", "action", "from_title",
                    "to_title", "actor"]
    # The states by their titles, as on the list (the stored codes are for the machine).
    show_columns = list_columns + ["opinion"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class AuditLogModelView(ScopedModelView):
    """Admin only (no other role's definition names it): read and export, never edit — the
    rows are append-only and the database refuses changes anyway."""

    datamodel = interface(AuditLog)
    base_permissions = ["can_list", "can_show", "can_export"]
    list_title = _l("Audit log")
    list_columns = ["seq", "created_at", "actor_name", "action", "subject_type", "subject_id",
                    "ip"]
    show_columns = list_columns + ["before", "after", "prev_hash", "hash"]
    search_columns = ["actor_name", "action", "subject_type", "subject_id", "ip", "created_at"]
    base_order = ("seq", "desc")
    label_columns = {**LABELS, "seq": _l("Link"), "actor_name": _l("By"),
                     "prev_hash": _l("Previous hash"), "hash": _l("Hash")}

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        """The whole log as Excel (every cell through safe_cell); the export is itself logged."""
        # The long read in a read-only transaction, the audit row in a short one after it: a
        # slow export neither holds up nor is refused by the writes meanwhile (long_reads.py).
        with long_read():
            output, count = workbooks.write([audit_log_sheet()])
        with workbooks.closed_on_error(output), short_write():
            audit.record("audit.export", None, subject_type="audit_log",
                         after={"rows": count[0]}, actor=g.user)
        return workbooks.response(output, f"audit-log-{clock.today().isoformat()}.xlsx")
