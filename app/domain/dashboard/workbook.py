"""The dashboard as one Excel workbook: a sheet per table the page shows, in the page's order
(funnel, funding against the quota, the breakdowns, the response to the pushes and, for global
roles, per channel) plus the project list. The figures come from the same ``Dashboard`` rows
as the page; the projects are streamed from one statement (``app/core/workbooks.py``). Every
cell goes through ``safe_cell``: names typed by enterprises and researchers reach the sheet
(formula injection)."""
from flask_babel import gettext as _

from app.core.workbooks import Formatted, Sheet
from app.domain.dashboard import figures as dashboard

# Excel number formats of the two-column tables' figures, so that the sheet can compute on them.
FORMATS = {dashboard.MONEY: "#,##0.00", dashboard.SHARE: "0.0%"}


def _figures_sheet(title, figures):
    """A two-column table of the page (label, figure), the figures as formatted numbers."""
    rows = []
    for f in figures:
        value = float(f.value) if f.kind != dashboard.COUNT else f.value
        rows.append([str(f.label), Formatted(value, FORMATS[f.kind]) if f.kind in FORMATS
                     else value])
    return Sheet(title, [_("Indicator"), _("Value")], rows, (32, 16))


def _breakdown_headers(group):
    return ([str(dashboard.DIMENSION_HEADERS[group])]
            + [str(label) for _key, label in dashboard.STAGES] + [_("Funding (CNY)")])


def _project_row(row):
    """Money and scores as numbers, so that the sheet can sum them."""
    return [float(row[key]) if key in ("funding", "score") and row[key] is not None else row[key]
            for key, _label in dashboard.PROJECT_COLUMNS]


def sheets(board, project_rows) -> list[Sheet]:
    """``board`` is a ``dashboard.Dashboard``, ``project_rows`` an iterable of
    ``dashboard.projects``' rows (read as the sheet is written)."""
    result = [Sheet(_("Funnel"), [_("Stage"), _("Count")],
                    [(label, count) for _key, label, count in board.funnel], (24, 10)),
              _figures_sheet(_("Funding against the quota"), board.usage_figures),
              _figures_sheet(_("After approval"), board.after_figures)]
    for group, rows in board.breakdowns.items():
        result.append(Sheet(
            str(dashboard.DIMENSION_TITLES[group]), _breakdown_headers(group),
            [[row.label] + [row.values[key] for key in dashboard.STAGE_KEYS]
             + [float(row.values["funding"])] for row in rows],
            (28,) + (12,) * len(dashboard.STAGE_KEYS) + (14,)))
    result.append(_figures_sheet(_("Response to the pushes"), board.push_figures))
    if board.channels:  # global roles only, as on the page
        result.append(Sheet(
            _("Response by channel"),
            [_("Channel")] + [str(label) for _key, label in dashboard.CHANNEL_COLUMNS],
            [[str(channel.title)] + [n[key] for key, _label in dashboard.CHANNEL_COLUMNS]
             for channel, n in board.channels.items()],
            (16,) + (20,) * len(dashboard.CHANNEL_COLUMNS)))
    result.append(Sheet(_("Projects"), [label for _key, label in dashboard.PROJECT_COLUMNS],
                        (_project_row(row) for row in project_rows),
                        (16, 32, 12, 12, 28, 14, 16, 10, 40)))
    return result
