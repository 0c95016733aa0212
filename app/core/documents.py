"""How a stored proof document appears on a back-office page: a link the viewer may follow,
with its name, type and size, and for staff a preview in the page.

A file column holds ``<32 hex>_sep_<name>`` (``app/core/uploads.py``); FAB printed that as text,
so a bureau verified a business licence it could not open. The link goes to the view's own
``download`` (the jurisdiction rule decides), the preview to its ``preview``, which serves the
same file inline under a restrictive Content-Security-Policy (``inline_headers``).
"""
import os
import os.path as op

from flask import current_app, g, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from app.core.access.jurisdiction import STAFF_ROLES

KINDS = {"pdf": "PDF", "png": "PNG", "jpg": "JPG"}
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def original_name(stored: str) -> str:
    """The name the user uploaded the file under (FAB's ``uuid_originalname`` fails on a name
    without ``_sep_``, as files stored before the naming rule have)."""
    return stored.split("_sep_", 1)[1] if "_sep_" in stored else stored


def extension(stored: str) -> str:
    return op.splitext(stored)[1].lower().lstrip(".")


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(size).1f MB", size=size / (1024 * 1024))
    return _("%(size)d KB", size=max(1, round(size / 1024)))


def _size_of(stored: str) -> int | None:
    try:
        return os.stat(op.join(current_app.config["UPLOAD_FOLDER"], stored)).st_size
    except (OSError, ValueError):
        return None


def _viewer_is_staff() -> bool:
    user = getattr(g, "user", None)
    roles = getattr(user, "role_names", None) or set()
    return bool(roles & STAFF_ROLES)


def document(stored, endpoint: str, may_download: bool) -> Markup | str:
    """``stored`` as a link (name · type · size) to ``<endpoint>.download`` when the viewer
    may download it, plus an inline preview of a PDF or an image for staff."""
    if not stored:
        return ""
    name = original_name(stored)
    kind = extension(stored)
    size = _size_of(stored)
    facts = " · ".join(x for x in (KINDS.get(kind, kind.upper()),
                                   readable_size(size) if size is not None else "") if x)
    if size is None:
        return Markup('<span class="doc doc-missing">{} <small>({})</small></span>').format(
            name, _("file not found"))
    if not may_download:
        return Markup('<span class="doc">{} <small>({})</small></span>').format(name, facts)
    link = Markup('<a class="doc" href="{}" download>{}</a> <small class="text-muted">{}</small>'
                  ).format(url_for(f"{endpoint}.download", filename=stored), name, facts)
    if not _viewer_is_staff() or kind not in KINDS:
        return link
    preview_url = url_for(f"{endpoint}.preview", filename=stored)
    if kind in IMAGE_TYPES:
        frame = Markup('<img class="doc-preview doc-image" src="{}" alt="{}" loading="lazy">'
                       ).format(preview_url, name)
    else:
        frame = Markup('<iframe class="doc-preview" src="{}" title="{}" loading="lazy">'
                       '</iframe>').format(preview_url, name)
    return Markup('{}<details class="doc-details" open><summary>{}</summary>{}'
                  '<p><a href="{}" target="_blank" rel="noopener">{}</a></p></details>').format(
        link, _("Preview"), frame, preview_url, _("Open in a new tab"))


def inline_headers(stored: str) -> dict:
    """Headers of a preview: shown in the page, never run. An image gets the ``sandbox``
    directive (no script, no same-origin rights). A PDF cannot: Chromium's and Firefox's PDF
    viewers refuse to draw a document under ``sandbox``; it is inert already, since uploads
    with scripts, actions or embedded files are refused (``uploads.pdf_problem``), and
    ``default-src 'none'`` keeps it from loading anything."""
    policy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; " \
             "frame-ancestors 'self'"
    if extension(stored) in IMAGE_TYPES:
        policy = "sandbox; " + policy
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store", "X-Frame-Options": "SAMEORIGIN"}

