"""Excel export of the need list for Platform and Province (all) and Bureau (its region)."""
import datetime as dt
import io

from flask import g, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from app.core import audit
from app.core.long_reads import long_read, short_write
from app.domain.needs.export import need_list_workbook
from app.domain.needs.need_list import NeedFilters, needs_for_export


class NeedListExportView(BaseView):
    route_base = "/needlist"
    default_view = "export"

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        # The long read in a read-only transaction, the audit row in a short one after it: a
        # slow export neither holds up nor is refused by the writes meanwhile (long_reads.py).
        with long_read():
            needs = needs_for_export(NeedFilters.from_args(request.args), g.user)
            data, count = need_list_workbook(needs), len(needs)
        with short_write():
            audit.record("needs.export", None, subject_type="needs", actor=g.user,
                         after={"count": count, "filters": dict(request.args)})
        name = f"需求清单-{dt.date.today().isoformat()}.xlsx"
        return send_file(io.BytesIO(data), as_attachment=True,
                         download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
