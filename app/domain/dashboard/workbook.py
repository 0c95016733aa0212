"""The dashboard as one Excel workbook: a sheet per table the page shows, in the page's order
(funnel, funding against the quota, the breakdowns, the response to the pushes and, for global
roles, per channel) plus the project list. The figures come from the same ``Dashboard`` rows
as the page. Every cell goes through ``safe_cell``: names typed by enterprises and researchers
reach the sheet (formula injection)."""
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.domain.dashboard import figures as dashboard
from app.domain.needs.export import safe_cell

# Excel number formats of the two-column tables' figures, so that the sheet can compute on them.
FORMATS = {dashboard.MONEY: "#,##0.00", dashboard.SHARE: "0.0%"}


def _sheet(workbook, title, headers, rows, widths=None):
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on sheet names
    sheet.append([safe_cell(str(h)) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    for index, width in enumerate(widths or (), start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    return sheet


def _figures_sheet(workbook, title, figures):
    """A two-column table of the page (label, figure), the figures as formatted numbers."""
    sheet = _sheet(workbook, title, [_("Indicator"), _("Value")],
                   [(str(f.label), float(f.value) if f.kind != dashboard.COUNT else f.value)
                    for f in figures], (32, 16))
    for f, (_label, cell) in zip(figures, sheet.iter_rows(min_row=2)):
        if f.kind in FORMATS:
            cell.number_format = FORMATS[f.kind]
    return sheet


def _breakdown_headers(group):
    return ([str(dashboard.DIMENSION_HEADERS[group])]
            + [str(label) for _key, label in dashboard.STAGES] + [_("Funding (CNY)")])


def _project_row(row):
    """Money and scores as numbers, so that the sheet can sum them."""
    return [float(row[key]) if key in ("funding", "score") and row[key] is not None else row[key]
            for key, _label in dashboard.PROJECT_COLUMNS]


def workbook(board, project_rows) -> bytes:
    """``board`` is a ``dashboard.Dashboard``, ``project_rows`` from ``dashboard.projects``."""
    book = Workbook()
    book.remove(book.active)
    round_name = board.program_round.label
    _sheet(book, _("Funnel"), [_("Stage"), _("Count")],
           [(label, count) for _key, label, count in board.funnel], (24, 10))
    _figures_sheet(book, _("Funding against the quota"), board.usage_figures)
    for group, rows in board.breakdowns.items():
        _sheet(book, str(dashboard.DIMENSION_TITLES[group]), _breakdown_headers(group),
               [[row.label] + [row.values[key] for key in dashboard.STAGE_KEYS]
                + [float(row.values["funding"])] for row in rows],
               (28,) + (12,) * len(dashboard.STAGE_KEYS) + (14,))
    _figures_sheet(book, _("Response to the pushes"), board.push_figures)
    if board.channels:  # global roles only, as on the page
        _sheet(book, _("Response by channel"),
               [_("Channel")] + [str(label) for _key, label in dashboard.CHANNEL_COLUMNS],
               [[str(channel.title)] + [n[key] for key, _label in dashboard.CHANNEL_COLUMNS]
                for channel, n in board.channels.items()],
               (16,) + (20,) * len(dashboard.CHANNEL_COLUMNS))
    _sheet(book, _("Projects"), [label for _key, label in dashboard.PROJECT_COLUMNS],
           [_project_row(row) for row in project_rows],
           (16, 32, 12, 12, 28, 14, 16, 10, 40))
    book.properties.title = round_name
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
