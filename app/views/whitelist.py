"""Import of the national tech-SME database (CSV or Excel) by platform staff."""
from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.domain.registration.whitelist import WhitelistImportError, import_whitelist
from app.extensions import db
from app.models import SmeWhitelistEntry

MAX_IMPORT_BYTES = 50 * 1024 * 1024


class SmeWhitelistView(BaseView):
    route_base = "/smewhitelist"
    default_view = "upload"

    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def upload(self):
        if request.method == "POST":
            storage = request.files.get("file")
            data = storage.read(MAX_IMPORT_BYTES + 1) if storage else b""
            if not data:
                flash(_("Please choose a CSV or Excel file."), "danger")
            elif len(data) > MAX_IMPORT_BYTES:
                flash(_("The file is larger than %(limit)d MB.", limit=MAX_IMPORT_BYTES >> 20),
                      "danger")
            else:
                try:
                    counts = import_whitelist(storage.filename, data)
                except WhitelistImportError as err:
                    db.session.rollback()
                    flash(str(err), "danger")
                else:
                    flash(_("%(rows)d rows read: %(created)d new, %(updated)d updated; "
                            "%(rechecked)d registrations re-checked.", **counts), "success")
            return redirect(url_for(".upload"))
        total = db.session.scalar(select(func.count()).select_from(SmeWhitelistEntry))
        return self.render_template("office/whitelist.html", total=total,
                                    title=_("Tech-SME database"))
