"""The need list as the platform hands it out, and the audit log: Excel sheets made from one
streamed statement of plain columns each (``app/core/workbooks.py``), whatever their rows."""
import json

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.access import masking
from app.core.display import local_date, local_time
from app.core.workbooks import Heading, Sheet, safe_cell, streamed  # noqa: F401 (safe_cell: its home for callers)
from app.domain.needs import need_list
from app.models import (
    AuditLog,
    Enterprise,
    Need,
    NeedCategory,
    Region,
    TechDomain,
    TechField,
)

NEED_COLUMNS = (Need.field_id, TechDomain.name, TechDomain.name_en, TechField.name,
                TechField.name_en, Need.title, Enterprise.name, Region.name, Region.name_en,
                NeedCategory.name, NeedCategory.name_en, Need.amount, Need.published_at,
                Need.contact_name, Need.contact_phone)


def _label(name, name_en, english):
    return name_en if english and name_en else name


def need_list_sheet(filters, user) -> Sheet:
    """The published needs the user may export (a bureau: its own region), in list order and
    grouped by technical field, as one sheet."""
    stmt = need_list.export_statement(filters, user).with_only_columns(*NEED_COLUMNS)
    locale = get_locale()
    english = locale is not None and locale.language == "en"

    def rows():
        current_field, number = None, 0
        for (field_id, domain, domain_en, field, field_en, title, enterprise, region, region_en,
             category, category_en, amount, published_at, contact_name, contact_phone) in (
                streamed(stmt)):
            if field_id != current_field:
                current_field = field_id
                yield Heading(f"{_label(domain, domain_en, english)} › "
                              f"{_label(field, field_en, english)}")
            number += 1
            yield [number, title, enterprise, _label(region, region_en, english),
                   _label(category, category_en, english), _label(field, field_en, english),
                   float(amount), local_date(published_at), contact_name or "",
                   masking.shown("needs", "contact_phone", contact_phone)]

    headers = [_("No."), _("Title"), _("Enterprise"), _("Region"), _("Category"),
               _("Technical field"), _("Intended amount (CNY)"), _("Published"),
               _("Contact person"), _("Contact phone")]
    return Sheet(_("Need list"), headers, rows(), (6, 40, 32, 12, 22, 24, 14, 12, 12, 14))


AUDIT_COLUMNS = (AuditLog.seq, AuditLog.created_at, AuditLog.actor_name, AuditLog.action,
                 AuditLog.subject_type, AuditLog.subject_id, AuditLog.ip, AuditLog.before,
                 AuditLog.after, AuditLog.prev_hash, AuditLog.hash)


def audit_log_sheet() -> Sheet:
    """The audit log, one row per link, with the hashes so a copy can be checked offline."""
    stmt = select(*AUDIT_COLUMNS).order_by(AuditLog.seq)  # Admin only: the whole log

    def rows():
        for seq, at, actor, action, subject_type, subject_id, ip, before, after, prev, hashed \
                in streamed(stmt):
            yield [seq, local_time(at, seconds=True), actor, action, subject_type, subject_id,
                   ip, _json(before), _json(after), prev, hashed]

    headers = (_("Link"), _("Time"), _("By"), _("Action"), _("Record type"), _("Record"),
               _("IP address"), _("Before"), _("After"), _("Previous hash"), _("Hash"))
    return Sheet(_("Audit log"), headers, rows(), (8, 20, 16, 24, 14, 10, 16, 40, 40, 20, 20))


def _json(value):
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
