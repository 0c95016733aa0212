"""The dashboard as one Excel workbook: a sheet per table the page shows (funnel, by region,
by category, by domain) plus the project list. Every cell goes through ``safe_cell``: names
typed by enterprises and researchers reach the sheet (formula injection)."""
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from . import dashboard
from .exports import safe_cell


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


def _breakdown_headers(first):
    return [first] + [str(label) for _key, label in dashboard.STAGES] + [_("Funding (CNY)")]


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
    firsts = {"region": _("Region"), "category": _("Need category"),
              "domain": _("Technical domain")}
    for group, rows in board.breakdowns.items():
        _sheet(book, str(dashboard.DIMENSION_TITLES[group]), _breakdown_headers(firsts[group]),
               [[row.label] + [row.values[key] for key in dashboard.STAGE_KEYS]
                + [float(row.values["funding"])] for row in rows],
               (28,) + (12,) * len(dashboard.STAGE_KEYS) + (14,))
    _sheet(book, _("Projects"), [label for _key, label in dashboard.PROJECT_COLUMNS],
           [_project_row(row) for row in project_rows],
           (16, 32, 12, 12, 28, 14, 16, 10, 40))
    book.properties.title = round_name
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
