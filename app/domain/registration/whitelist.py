"""The national tech-SME database (科技型中小企业库) whitelist: import and the eligibility check."""
import csv
import io
import re
import zipfile

from flask_babel import gettext as _
from sqlalchemy import select

from app.core.uploads import zip_problem
from app.extensions import db
from app.models import Enterprise, EnterpriseState, SmeWhitelistEntry, WhitelistStatus
from app.workflows.errors import RuleViolation

HEADERS = {  # accepted column titles → field
    "sme_number": "sme_number", "入库登记编号": "sme_number", "登记编号": "sme_number",
    "credit_code": "credit_code", "统一社会信用代码": "credit_code",
    "name": "name", "企业名称": "name",
    "year": "year", "年度": "year", "入库年度": "year",
}
BATCH = 2000


class WhitelistImportError(RuleViolation):
    pass


def normalise_name(name: str) -> str:
    """Compare names the way people write them: no spaces, half-width brackets."""
    name = (name or "").replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", name)


def _rows_from_csv(data: bytes):
    text = data.decode("utf-8-sig", errors="strict")
    yield from csv.reader(io.StringIO(text))


def _refused(filename: str, reason: str) -> WhitelistImportError:
    return WhitelistImportError(_("The file “%(name)s” was refused: %(reason)s",
                                  name=filename, reason=reason))


def _rows_from_xlsx(filename: str, data: bytes):
    from openpyxl import load_workbook

    # A zip bomb (a few kB declaring gigabytes, or a million parts) is refused before openpyxl
    # opens the archive; the limits are the uploads' (app/core/uploads.py).
    problem = zip_problem(data)
    if problem:
        raise _refused(filename, problem)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for row in workbook.worksheets[0].iter_rows(values_only=True):
                yield ["" if v is None else str(v).strip() for v in row]
        finally:
            workbook.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, SyntaxError):
        # A damaged archive, a part missing, broken XML (both XML parsers' errors derive from
        # SyntaxError), or a member larger than it declared (cut off by zipfile, then a CRC
        # error): one clear message, and nothing imported.
        raise _refused(filename, _("it is not a readable Excel (.xlsx) file.")) from None


def read_rows(filename: str, data: bytes):
    """Yield dicts (sme_number, credit_code, name, year) from a CSV or XLSX file."""
    if data.startswith(b"PK\x03\x04"):
        rows = _rows_from_xlsx(filename, data)
    else:
        try:
            rows = _rows_from_csv(data)
            rows = iter(list(rows))
        except UnicodeDecodeError:
            raise WhitelistImportError(_("The file is neither UTF-8 CSV nor Excel (.xlsx).")) from None
    header = next(rows, None)
    if header is None:
        raise WhitelistImportError(_("The file is empty."))
    columns = {i: HEADERS[h.strip()] for i, h in enumerate(header) if h and h.strip() in HEADERS}
    if "sme_number" not in columns.values():
        raise WhitelistImportError(
            _("The first row must name the columns; one must be “入库登记编号” (sme_number)."))
    for row in rows:
        record = {field: (row[i].strip() if i < len(row) and row[i] else "")
                  for i, field in columns.items()}
        if record.get("sme_number"):
            yield record


def import_whitelist(filename: str, data: bytes) -> dict:
    """Insert or update whitelist rows, then re-check every enterprise not yet verified.

    Flushes in batches, commits once. Returns counts: rows read, created, updated, enterprises re-checked.
    """
    counts = {"rows": 0, "created": 0, "updated": 0, "rechecked": 0}
    batch = []
    for record in read_rows(filename, data):
        batch.append(record)
        if len(batch) >= BATCH:
            _upsert(batch, counts)
            batch = []
    _upsert(batch, counts)
    pending = db.session.scalars(select(Enterprise).where(
        Enterprise.state != EnterpriseState.verified)).all()
    for enterprise in pending:
        enterprise.whitelist_status = status_for(enterprise)
        counts["rechecked"] += 1
    db.session.commit()
    return counts


def _upsert(batch, counts):
    if not batch:
        return
    numbers = {r["sme_number"] for r in batch}
    existing = {e.sme_number: e for e in db.session.scalars(
        select(SmeWhitelistEntry).where(SmeWhitelistEntry.sme_number.in_(numbers)))}
    for record in batch:
        counts["rows"] += 1
        year = int(record["year"]) if record.get("year", "").isdigit() else None
        entry = existing.get(record["sme_number"])
        if entry is None:
            entry = SmeWhitelistEntry(sme_number=record["sme_number"])
            db.session.add(entry)
            existing[entry.sme_number] = entry
            counts["created"] += 1
        else:
            counts["updated"] += 1
        entry.credit_code = record.get("credit_code") or entry.credit_code
        entry.name = record.get("name") or entry.name
        entry.year = year or entry.year
    db.session.flush()  # one transaction for the whole file: a failure imports nothing


def status_for(enterprise) -> WhitelistStatus:
    """Found when the registration number (or credit code) is in the database under the same
    name; name_mismatch when it is there under another name; not_found otherwise."""
    stmt = select(SmeWhitelistEntry)
    if enterprise.sme_number:
        entry = db.session.scalars(stmt.where(
            SmeWhitelistEntry.sme_number == enterprise.sme_number.strip())).first()
    else:
        entry = None
    if entry is None and enterprise.credit_code:
        entry = db.session.scalars(stmt.where(
            SmeWhitelistEntry.credit_code == enterprise.credit_code)).first()
    if entry is None:
        return WhitelistStatus.not_found
    if entry.name and normalise_name(entry.name) != normalise_name(enterprise.name):
        return WhitelistStatus.name_mismatch
    return WhitelistStatus.found
