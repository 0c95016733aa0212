"""Excel exports written row by row as they are read, in constant memory.

An export used to load every row as an ORM object, commit its audit record (which expired
every loaded object, so reading each one again cost a statement per row: 200,447 statements for
the audit log), then build the whole workbook in memory (1.4 GB for 200,000 rows). Now an
export's rows come from one streamed statement of plain columns, go into XlsxWriter's
constant-memory workbook as they arrive (each row to the sheet's temporary file; a third less
time a cell than openpyxl's write-only mode), and the workbook is written to a temporary file
(held in memory up to 16 MB) that the response streams. The views write it inside
``long_read`` and their audit record after it (``app/core/long_reads.py``).
"""
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import xlsxwriter
from flask import Response
from werkzeug.datastructures import Headers

from app.extensions import db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STREAM_ROWS = 2000  # rows fetched at a time by a streamed export statement
# A finished workbook up to this size is held in memory, a larger one in a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


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


class _Formats:
    """The workbook's cell formats, made once each (XlsxWriter keeps one record per format)."""

    def __init__(self, book):
        self.book, self.made = book, {}
        self.bold = book.add_format({"bold": True})

    def number(self, number_format):
        if number_format not in self.made:
            self.made[number_format] = self.book.add_format({"num_format": number_format})
        return self.made[number_format]


def _write_row(sheet, number, row, formats, column_formats):
    if isinstance(row, Heading):
        sheet.write_string(number, 0, safe_cell(row.text), formats.bold)
        return
    for column, value in enumerate(row):
        number_format = column_formats.get(column)
        if isinstance(value, Formatted):
            value, number_format = value.value, value.number_format
        if value is None:
            continue
        value = safe_cell(value)
        if number_format is None:
            sheet.write(number, column, value)
        else:
            sheet.write(number, column, value, formats.number(number_format))


def write(sheets, title: str | None = None):
    """The workbook of ``sheets`` in a temporary file, positioned at its start; the caller
    sends it (the file is removed when closed). Returns (file, [rows written per sheet,
    headings not counted])."""
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    # constant_memory: each row goes to the sheet's temporary file as it is written. Text is
    # text: nothing a cell holds is read as a formula, a link or a number.
    book = xlsxwriter.Workbook(output, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd hh:mm:ss",
        "tmpdir": tempfile.gettempdir()})
    try:
        written = _write_sheets(book, sheets)
        if title:
            book.set_properties({"title": title})
        book.close()
    except BaseException:
        output.close()  # a read that failed midway leaves no file behind
        raise
    output.seek(0)
    return output, written


def _write_sheets(book, sheets) -> list:
    formats = _Formats(book)
    written = []
    for spec in sheets:
        written.append(0)
        sheet = book.add_worksheet(str(spec.title)[:31])  # Excel's limit on sheet names
        for index, width in enumerate(spec.widths):
            sheet.set_column(index, index, width)
        for column, text in enumerate(spec.headers):
            sheet.write_string(0, column, safe_cell(str(text)), formats.bold)
        column_formats = spec.formats or {}
        for number, row in enumerate(spec.rows, start=1):
            _write_row(sheet, number, row, formats, column_formats)
            written[-1] += not isinstance(row, Heading)
    return written


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
