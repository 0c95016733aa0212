"""Excel export of the need list for Platform and Province (all) and Bureau (its region)."""
import datetime as dt
import io

from flask import g, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from app.core import audit
from app.domain.needs.export import need_list_workbook
from app.domain.needs.need_list import NeedFilters, needs_for_export
from app.extensions import db


class NeedListExportView(BaseView):
    route_base = "/needlist"
    default_view = "export"

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        needs = needs_for_export(NeedFilters.from_args(request.args), g.user)
        audit.record("needs.export", None, subject_type="needs", actor=g.user,
                     after={"count": len(needs), "filters": dict(request.args)})
        db.session.commit()
        name = f"需求清单-{dt.date.today().isoformat()}.xlsx"
        return send_file(io.BytesIO(need_list_workbook(needs)), as_attachment=True,
                         download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
