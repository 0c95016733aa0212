"""个人中心 › 消息: the signed-in user's own messages, and staff's choice of work e-mails."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from app.core.access import jurisdiction
from app.core.long_reads import short_write
from app.domain.desk import inbox, notices
from app.extensions import db
from app.views.frame import render_framed


def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100000 else 1


class InboxView(BaseView):
    route_base = "/office/inbox"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        kind = request.args.get("kind") if request.args.get("kind") in inbox.KINDS else None
        page = _page()
        messages, total = inbox.page_of(g.user, kind, page)
        return render_framed(
            "office/inbox.html", title=_("Inbox"), messages=messages, total=total,
            page=page, pages=max(1, (total + inbox.PER_PAGE - 1) // inbox.PER_PAGE),
            kind=kind, kinds=inbox.KINDS, staff=bool(jurisdiction.role_names(g.user)
                                                     & jurisdiction.STAFF_ROLES),
            work_email=getattr(g.user, "work_email", "daily"),
            choices=notices.WORK_EMAIL_CHOICES)

    @expose("/<int:pk>")
    @has_access
    @permission_name("index")
    def open(self, pk):
        """Mark the message read and go where it leads."""
        # Opening is the person's own act, so it waits its turn for the write lock (a GET
        # upgrading its read to a write was refused at once when anyone had committed).
        with short_write():
            target = inbox.open_message(g.user, pk)
        if target is None:
            abort(404)
        return redirect(target)

    @expose("/read", methods=["POST"])
    @has_access
    @permission_name("index")
    def mark_read(self):
        inbox.mark_read(g.user, request.form.getlist("id"))
        db.session.commit()
        return redirect(request.referrer or url_for("InboxView.index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    @permission_name("index")
    def mark_all_read(self):
        kind = request.form.get("kind") if request.form.get("kind") in inbox.KINDS else None
        count = inbox.mark_all_read(g.user, kind)
        db.session.commit()
        flash(_("%(count)d message(s) marked read.", count=count), "success")
        return redirect(url_for("InboxView.index", kind=kind))

    @expose("/work-email", methods=["POST"])
    @has_access
    @permission_name("index")
    def work_email(self):
        try:
            notices.choose_work_email(g.user, request.form.get("work_email", ""))
        except ValueError:
            abort(400)
        db.session.commit()
        flash(_("Your choice of work e-mails is saved."), "success")
        return redirect(url_for("InboxView.index"))
