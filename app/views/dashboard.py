"""The round dashboard: the province (and platform) see the whole round, a bureau its own
region. Thin: the figures are in ``app/domain/dashboard/figures.py``, the charts in ``app/domain/dashboard/charts.py``, the
workbook in ``app/domain/dashboard/workbook.py``."""

from flask import abort, g, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit, workbooks
from app.core.access import jurisdiction
from app.core.long_reads import long_read, short_write
from app.domain import rounds
from app.domain.dashboard import charts, workbook
from app.domain.dashboard import figures as dashboard
from app.extensions import db
from app.models import ProgramRound
from app.utils import clock


def _chosen_round():
    """``?round=<id>`` (rounds are reference data: any staff member may pick any), else the
    current round; 404 for an unknown id."""
    wanted = request.args.get("round", "")
    if wanted:
        found = db.session.get(ProgramRound, int(wanted)) if wanted.isdigit() else None
        if found is None:
            abort(404)
        return found
    return rounds.current_round()


def _charts(board):
    stage_chart = charts.funnel([(label, count) for _key, label, count in board.funnel],
                                _("Docking funnel"))
    by_group = {group: charts.hbar([(row.label, row.values["submitted"]) for row in rows],
                                   str(dashboard.DIMENSION_TITLES[group]))
                for group, rows in board.breakdowns.items()}
    return stage_chart, by_group


class DashboardView(BaseView):
    route_base = "/dashboard"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        # A report over the whole round: read apart from the writes (app/core/long_reads.py),
        # the page rendered inside, while its rows are loaded.
        with long_read():
            program_round = _chosen_round()
            all_rounds = db.session.scalars(
                select(ProgramRound).order_by(ProgramRound.needs_filing_start.desc())).all()
            if program_round is None:
                return self.render_template("office/dashboard.html", title=_("Dashboard"),
                                            board=None, rounds=all_rounds)
            board = dashboard.build(program_round, g.user)
            funnel_chart, group_charts = _charts(board)
            return self.render_template(
                "office/dashboard.html", title=_("Dashboard"), board=board, rounds=all_rounds,
                funnel_chart=funnel_chart, group_charts=group_charts, stages=dashboard.STAGES,
                titles=dashboard.DIMENSION_TITLES, province=jurisdiction.is_global(),
                region=getattr(g.user, "region", None))

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        """One workbook, a sheet per table of the page plus the projects (same rule)."""
        # The long read in a read-only transaction, the audit row in a short one after it: a
        # slow export neither holds up nor is refused by the writes meanwhile (long_reads.py).
        with long_read():
            program_round = _chosen_round()
            if program_round is None:
                abort(404)
            board = dashboard.build(program_round, g.user)
            output, counts = workbooks.write(
                workbook.sheets(board, dashboard.projects(program_round, g.user)),
                title=program_round.label)
            round_id = program_round.id
            name = f"{_('Dashboard')}-{program_round.code}-{clock.today().isoformat()}.xlsx"
        with workbooks.closed_on_error(output), short_write():
            audit.record("dashboard.export", db.session.get(ProgramRound, round_id),
                         actor=g.user, after={"projects": counts[-1]})
        return workbooks.response(output, name)
