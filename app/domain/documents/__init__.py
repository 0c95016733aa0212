"""Printable documents with a verification code: 推荐表 (a recommended need), 立项审批表 (a
funded project's approval), 项目档案 (a project's record) and 服务企业证明 (a researcher's
certificate of service, once the project is evaluated).

``print_document`` checks who may print what (``sheets.check_printable``), gives the document
its code (``codes.issue``: the same facts keep the same code) and renders the PDF
(``pdf.render``). ``verification`` is what the public page ``/verify/<code>`` may say of a code:
the kind, the record's title and enterprise, the day of issue and whether the record's key
facts are still those printed — no phone, no identity number, no amount.
The caller commits (a new code is a new row and an audit row).
"""
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.core.display import local_date
from app.domain.documents import codes, pdf
from app.domain.documents.sheets import (
    KINDS,
    DocumentRefused,
    check_printable,
    holder_of,
    may_print,
    record_of,
    sheet_of,
)

__all__ = ["KINDS", "DocumentRefused", "Issued", "Printed", "Verification", "issue_document",
           "may_print", "print_document", "render_document", "verification", "verify_url"]


@dataclass(frozen=True)
class Printed:
    data: bytes
    file_name: str  # ASCII, for old clients
    display_name: str  # in the reader's language
    code: str  # grouped


@dataclass(frozen=True)
class Verification:
    code: str
    kind_title: str
    title: str
    enterprise_name: str
    issued_on: str
    holder: str | None  # a certificate's researcher, the given name masked
    current: bool  # the record's key facts are still those printed


def verify_url(code: str) -> str:
    """The public address where a code is checked (the site's public address, as in the
    notifications' links: a document outlives the intranet address it was printed from)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/verify/{codes.grouped(code)}"


def _reference(kind, record) -> str:
    return getattr(record, "number", None) or str(record.id)


@dataclass(frozen=True)
class Issued:
    """A document given its code, with everything its PDF needs: plain values, no rows."""
    kind: str
    sheet: object  # Sheet, its values read while the record was loaded
    code: str
    issued_at: object
    reference: str


def issue_document(kind: str, record, user) -> Issued:
    """Check and give the document of ``kind`` for ``record`` its code; raises
    ``DocumentRefused``. A new code is a row and an audit row: the caller commits."""
    check_printable(kind, record, user)
    sheet = sheet_of(kind, record)
    row = codes.issue(kind, record, sheet.title, sheet.enterprise_name, sheet.facts, user)
    return Issued(kind=kind, sheet=sheet, code=row.code, issued_at=row.issued_at,
                  reference=_reference(kind, record))


def render_document(issued: Issued) -> Printed:
    """The PDF of an issued document. Reads nothing from the database: it may run after the
    commit, so a slow rendering holds no lock (app/core/long_reads.py)."""
    grouped, url = codes.grouped(issued.code), verify_url(issued.code)
    platform = _("Researchers Serving Enterprises Platform")
    issued_on = local_date(issued.issued_at)
    texts = {
        "code_label": _("Verification code"),
        "issued": _("Issued on %(date)s by the %(platform)s. Verification code: %(code)s",
                    date=issued_on, platform=platform, code=grouped),
        "check": _("Anyone may check this document at %(url)s, or by scanning the QR code.",
                   url=url),
        "page": _("Page %(page)s"),
    }
    data = pdf.render(issued.sheet, code=grouped, verify_url=url,
                      platform=platform, font_path=current_app.config["PDF_FONT_PATH"],
                      texts=texts)
    kind = KINDS[issued.kind]
    return Printed(data=data, file_name=f"{kind.file_stem}-{issued.reference}.pdf",
                   display_name=f"{kind.title} {issued.reference}.pdf", code=grouped)


def print_document(kind: str, record, user) -> Printed:
    """The PDF of ``kind`` for ``record``; raises ``DocumentRefused``."""
    return render_document(issue_document(kind, record, user))


def verification(text: str) -> Verification | None:
    """What the public may learn of a code, or None for a code nobody was given."""
    row = codes.find(text)
    if row is None or row.kind not in KINDS:
        return None
    record = record_of(row.kind, row.record_id)
    current = record is not None and codes.facts_hash(sheet_of(row.kind, record).facts) == (
        row.facts_hash)
    return Verification(code=codes.grouped(row.code), kind_title=str(KINDS[row.kind].title),
                        title=row.title, enterprise_name=row.enterprise_name,
                        issued_on=local_date(row.issued_at), holder=holder_of(row.kind, record),
                        current=current)
