"""Excel export of the need list for Platform and Province (all) and Bureau (its region)."""
import datetime as dt

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from app.core import audit, workbooks
from app.domain.needs.export import need_list_sheet
from app.domain.needs.need_list import NeedFilters
from app.extensions import db


class NeedListExportView(BaseView):
    route_base = "/needlist"
    default_view = "export"

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        output, count = workbooks.write([need_list_sheet(NeedFilters.from_args(request.args),
                                                          g.user)])
        workbooks.finish_read()
        audit.record("needs.export", None, subject_type="needs", actor=g.user,
                     after={"count": count[0], "filters": dict(request.args)})
        db.session.commit()
        return workbooks.response(output, f"需求清单-{dt.date.today().isoformat()}.xlsx")
