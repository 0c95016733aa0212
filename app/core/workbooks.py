"""Excel exports written row by row as they are read, in constant memory.

An export used to load every row as an ORM object, commit its audit record (which expired
every loaded object, so reading each one again cost a statement per row: 200,447 statements for
the audit log), then build the whole workbook in memory (1.4 GB for 200,000 rows). Now an
export's rows come from one streamed statement of plain columns, go into openpyxl's
write-only workbook as they arrive, and the workbook is written to a temporary file (held in
memory up to 16 MB) that the response streams. The views write it inside ``long_read`` and
their audit record after it (``app/core/long_reads.py``).
"""
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from werkzeug.datastructures import Headers

from app.extensions import db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STREAM_ROWS = 2000  # rows fetched at a time by a streamed export statement
# A finished workbook up to this size is held in memory, a larger one in a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
_BOLD = Font(bold=True)


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is kept as text (CSV/Excel injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Heading:
    """A row of the sheet set in bold (a group's title within a list)."""

    text: str


@dataclass(frozen=True)
class Formatted:
    """A cell's value with its Excel number format (money, a share), so the sheet computes."""

    value: object
    number_format: str


@dataclass
class Sheet:
    title: str
    headers: list
    rows: object  # an iterable of lists (or Heading); read once, as the sheet is written
    widths: tuple = ()
    formats: dict | None = None  # column index (0-based) -> number format


def streamed(statement, params=None):
    """The rows of ``statement`` fetched ``STREAM_ROWS`` at a time (server-side on
    PostgreSQL), as plain tuples."""
    return db.session.execute(statement.execution_options(yield_per=STREAM_ROWS), params or {})


def _cells(sheet, row, formats):
    if isinstance(row, Heading):
        cell = WriteOnlyCell(sheet, value=safe_cell(row.text))
        cell.font = _BOLD
        return [cell]
    cells = []
    for index, value in enumerate(row):
        number_format = (formats or {}).get(index)
        if isinstance(value, Formatted):
            value, number_format = value.value, value.number_format
        if number_format is None or value is None:
            cells.append(safe_cell(value))
            continue
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        cell.number_format = number_format
        cells.append(cell)
    return cells


def write(sheets, title: str | None = None):
    """The workbook of ``sheets`` in a temporary file, positioned at its start; the caller
    sends it (the file is removed when closed). Returns (file, [rows written per sheet,
    headings not counted])."""
    book = Workbook(write_only=True)
    written = []
    for spec in sheets:
        written.append(0)
        sheet = book.create_sheet(str(spec.title)[:31])  # Excel's limit on sheet names
        for index, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[_letter(index)].width = width
        header = []
        for text in spec.headers:
            cell = WriteOnlyCell(sheet, value=safe_cell(str(text)))
            cell.font = _BOLD
            header.append(cell)
        sheet.append(header)
        for row in spec.rows:
            sheet.append(_cells(sheet, row, spec.formats))
            written[-1] += not isinstance(row, Heading)
    if title:
        book.properties.title = title
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    book.save(output)
    output.seek(0)
    return output, written


@contextmanager
def closed_on_error(output):
    """The workbook's file closed (and a file on disk removed) if what comes between its
    writing and its response fails (the export's audit record refused: 503)."""
    try:
        yield output
    except BaseException:
        output.close()
        raise


def response(output, download_name: str) -> Response:
    """The workbook file as an attachment, streamed in chunks; the file is closed (and a file
    on disk removed) once the last chunk is sent or the client goes away."""

    def chunks():
        try:
            while chunk := output.read(CHUNK_BYTES):
                yield chunk
        finally:
            output.close()

    simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode()
    headers = Headers()
    headers.set("Content-Disposition", "attachment", **{
        "filename": simple, "filename*": f"UTF-8''{quote(download_name, safe='!#$&+-.^_`|~')}"})
    return Response(chunks(), mimetype=XLSX, headers=headers, direct_passthrough=True)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
