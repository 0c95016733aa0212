"""Excel export of the need list for Platform and Province (all) and Bureau (its region)."""

from flask import g, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from app.core import audit, workbooks
from app.core.long_reads import long_read, short_write
from app.domain.needs.export import need_list_sheet
from app.domain.needs.need_list import NeedFilters
from app.utils import clock


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
            output, count = workbooks.write([need_list_sheet(
                NeedFilters.from_args(request.args), g.user)])
        with workbooks.closed_on_error(output), short_write():
            audit.record("needs.export", None, subject_type="needs", actor=g.user,
                         after={"count": count[0], "filters": dict(request.args)})
        return workbooks.response(output, f"需求清单-{clock.today().isoformat()}.xlsx")
