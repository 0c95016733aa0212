"""Proof documents: the one place that decides what an upload may be and where it goes.

Accepted by content (PDF, PNG, JPEG magic bytes), never by the name the browser sent; limited in
size; stored under UPLOAD_FOLDER (outside the web root) as ``<random>_sep_<original name>`` so the
download keeps the Chinese name while the path on disk is unguessable. Downloads go through the
back-office views, which apply the jurisdiction rule.
"""
import os
import os.path as op
import re
import uuid

from flask import current_app
from flask_babel import gettext as _

# magic bytes → canonical extension
SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadRejected(ValueError):
    """The message is translated and fit for the user."""


def sniff(head: bytes) -> str | None:
    for magic, extension in SIGNATURES:
        if head.startswith(magic):
            return extension
    return None


def clean_name(filename: str, extension: str) -> str:
    """The user's name without path parts or control characters, with the true extension."""
    base = op.basename((filename or "").replace("\\", "/"))
    base = re.sub(r'[\x00-\x1f\\/:*?"<>|]+', "_", base).lstrip(".").strip() or "file"
    stem = op.splitext(base)[0][:80] or "file"
    return f"{stem}.{extension}"


def check_upload(storage) -> str:
    """Validate a werkzeug FileStorage; return its true extension. Leaves the stream at 0."""
    if storage is None or not getattr(storage, "filename", ""):
        raise UploadRejected(_("Please choose a file."))
    stream = storage.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    limit = current_app.config.get("MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES)
    if size == 0:
        raise UploadRejected(_("The file “%(name)s” is empty.", name=storage.filename))
    if size > limit:
        raise UploadRejected(_("The file “%(name)s” is larger than %(limit)d MB.",
                               name=storage.filename, limit=limit // (1024 * 1024)))
    extension = sniff(stream.read(16))
    stream.seek(0)
    if extension is None:
        raise UploadRejected(_("The file “%(name)s” is not a PDF, JPG or PNG document.",
                               name=storage.filename))
    return extension


def store_upload(storage) -> str:
    """Check and save an upload; return the stored name (kept in a file column)."""
    extension = check_upload(storage)
    stored = f"{uuid.uuid4().hex}_sep_{clean_name(storage.filename, extension)}"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    storage.save(op.join(folder, stored))
    return stored


def discard(stored_names):
    """Remove files saved for a registration that was then refused (nothing half-stored)."""
    folder = current_app.config["UPLOAD_FOLDER"]
    for name in stored_names:
        if name:
            try:
                os.remove(op.join(folder, name))
            except FileNotFoundError:
                pass
