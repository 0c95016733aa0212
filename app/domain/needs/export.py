"""The need list as the platform hands it out: one Excel sheet, grouped by technical field."""
import io
import json

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.core.access import masking
from app.core.display import local_date, local_time

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is kept as text (CSV/Excel injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def need_list_workbook(needs) -> bytes:
    """``needs`` in list order (grouped by domain and field); returns the .xlsx bytes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Need list")[:31]
    headers = [_("No."), _("Title"), _("Enterprise"), _("Region"), _("Category"),
               _("Technical field"), _("Intended amount (CNY)"), _("Published"),
               _("Contact person"), _("Contact phone")]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    current_field, number = None, 0
    for need in needs:
        if need.field_id != current_field:
            current_field = need.field_id
            sheet.append([f"{need.field.domain.label} › {need.field.label}"])
            sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        number += 1
        sheet.append([safe_cell(v) for v in (
            number, need.title, need.enterprise.name, need.enterprise.region.label,
            need.category.label, need.field.label, float(need.amount),
            local_date(need.published_at),
            need.contact_name or "", masking.shown("needs", "contact_phone", need.contact_phone))])
    for column, width in zip("ABCDEFGHIJ", (6, 40, 32, 12, 22, 24, 14, 12, 12, 14)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def audit_log_workbook(rows) -> bytes:
    """The audit log, one row per link, with the hashes so a copy can be checked offline."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Audit log")[:31]
    sheet.append([safe_cell(h) for h in (
        _("Link"), _("Time"), _("By"), _("Action"), _("Record type"), _("Record"),
        _("IP address"), _("Before"), _("After"), _("Previous hash"), _("Hash"))])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(v) for v in (
            row.seq, local_time(row.created_at, seconds=True), row.actor_name, row.action,
            row.subject_type, row.subject_id, row.ip, _json(row.before), _json(row.after),
            row.prev_hash, row.hash)])
    for column, width in zip("ABCDEFGHIJK", (8, 20, 16, 24, 14, 10, 16, 40, 40, 20, 20)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _json(value):
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
