"""Proof documents: the one place that decides what an upload may be and where it goes.

Accepted by content (PDF, PNG, JPEG magic bytes), never by the name the browser sent; limited in
size; stored under UPLOAD_FOLDER (outside the web root) as ``<random>_sep_<original name>`` so the
download keeps the Chinese name while the path on disk is unguessable. Downloads go through the
back-office views, which apply the jurisdiction rule.

The same decompression-bomb limits guard the spreadsheets staff import (``zip_problem``: an
.xlsx is a zip archive, judged before any reader opens it).
"""
import io
import os
import os.path as op
import re
import struct
import time
import uuid
import zipfile
import zlib

from flask import current_app
from flask_babel import gettext as _

from app.core.field_rules import clean_line

# magic bytes → canonical extension
SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
# PDF streams: inflating stops past this many bytes and the file is refused. Text and vector
# pages deflate about 3-10:1 and scans are already-compressed images, so a real document
# never comes near 100 times its size; a bomb (zeros, 1000:1) reaches it at once. The floor
# keeps small, highly compressible but honest files (a form of blank pages) acceptable.
PDF_INFLATE_RATIO = 100
PDF_INFLATE_FLOOR = 16 * 1024 * 1024
# Active or hidden content a proof document never needs (ASVS 12.2: files are inert).
PDF_FORBIDDEN = (b"/Encrypt", b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile",
                 b"/EmbeddedFiles", b"/RichMedia", b"/XFA")
_PDF_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n")


class UploadRejected(ValueError):
    """The message is translated and fit for the user."""


def sniff(head: bytes) -> str | None:
    for magic, extension in SIGNATURES:
        if head.startswith(magic):
            return extension
    return None


# A stored name is ``<32 hex>_sep_<name>``; file systems allow 255 bytes, and a Chinese
# character takes 3 of them in UTF-8: 300 of them made "file name too long".
STORED_NAME_MAX_BYTES = 200


def clean_name(filename: str, extension: str) -> str:
    """The user's name without path parts, control or format characters (a right-to-left
    override makes ``fdp.exe`` read as ``exe.pdf``), with the true extension, shortened at a
    character boundary so that the stored name stays within ``STORED_NAME_MAX_BYTES``."""
    base = op.basename((filename or "").replace("\\", "/"))
    base = clean_line(base)
    base = re.sub(r'[\\/:*?"<>|]+', "_", base).lstrip(".").strip() or "file"
    stem = op.splitext(base)[0] or "file"
    room = STORED_NAME_MAX_BYTES - len("0" * 32 + "_sep_") - len(extension) - 1
    while len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    return f"{stem.rstrip() or 'file'}.{extension}"


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
    data = stream.read()
    stream.seek(0)
    problem = inspect_content(extension, data)
    if problem:
        raise UploadRejected(_("The file “%(name)s” was refused: %(reason)s",
                               name=storage.filename, reason=problem))
    return extension


# -- decompression bombs and active content ----------------------------------------------------

def inspect_content(extension: str, data: bytes) -> str | None:
    """Why ``data`` must not be stored, translated; ``None`` if it may."""
    if extension in ("png", "jpg"):
        size = png_size(data) if extension == "png" else jpeg_size(data)
        limit = current_app.config.get("UPLOAD_MAX_PIXELS", MAX_PIXELS)
        # Without a readable size no viewer decodes the file either: nothing to explode.
        if size and size[0] * size[1] > limit:
            return _("the image declares %(width)d × %(height)d pixels (at most %(limit)d "
                     "million allowed).", width=size[0], height=size[1],
                     limit=limit // 1_000_000)
        return None
    return pdf_problem(data)


def png_size(data: bytes):
    """(width, height) from the IHDR chunk that must follow the signature."""
    if len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def jpeg_size(data: bytes):
    """(width, height) from the first start-of-frame segment (SOF0-SOF15 but DHT/JPG/DAC)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header: give up
            return None
        i += 2 + length
    return None


def _names(chunk: bytes) -> set[bytes]:
    """PDF name tokens with #xx escapes decoded (``/Java#53cript`` is ``/JavaScript``)."""
    return {_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), n)
            for n in _PDF_NAME.findall(chunk)}


def _forbidden(chunk: bytes) -> bytes | None:
    found = _names(chunk) & set(PDF_FORBIDDEN)
    return min(found) if found else None


def pdf_problem(data: bytes) -> str | None:
    """Encryption, scripts, launch actions, embedded files (also inside compressed object
    streams), or streams that inflate past ``PDF_INFLATE_RATIO`` times the file's size."""
    name = _forbidden(data)
    budget = max(PDF_INFLATE_RATIO * len(data), PDF_INFLATE_FLOOR)
    for match in _STREAM.finditer(data):
        end = data.find(b"endstream", match.end())
        raw = data[match.end():end if end != -1 else len(data)]
        inflater = zlib.decompressobj()
        tail = b""
        try:
            while raw and budget > 0 and name is None:
                chunk = inflater.decompress(raw, min(budget, 1 << 20))
                raw = inflater.unconsumed_tail
                budget -= len(chunk)
                name = _forbidden(tail + chunk)
                tail = chunk[-64:]
                if not chunk:
                    break
        except zlib.error:
            continue  # not a Flate stream (an image, a font): nothing to inflate
        if name is not None:
            break
        if budget <= 0:
            return _("its compressed content would expand more than %(ratio)d times its size.",
                     ratio=PDF_INFLATE_RATIO)
    if name == b"/Encrypt":
        return _("encrypted PDF documents cannot be checked; please upload it without a "
                 "password.")
    if name is not None:
        return _("the PDF contains active or embedded content (%(name)s).",
                 name=name.decode("latin-1"))
    return None


# Zip containers (.xlsx): a workbook's XML deflates about 5-20:1, so the ratio and floor of the
# PDF streams apply; the cap bounds what any single import may cost in memory (openpyxl keeps
# the shared strings of a sheet in memory), and a workbook of even a hundred sheets has a few
# hundred parts, far below the member limit (a million empty members is a bomb of its own: the
# directory alone is read into memory).
ZIP_INFLATE_RATIO = PDF_INFLATE_RATIO
ZIP_INFLATE_FLOOR = PDF_INFLATE_FLOOR
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_MEMBERS = 1000


def zip_problem(data: bytes) -> str | None:
    """Why a zip container (an .xlsx) must not be opened, translated; ``None`` if it may.

    Judged on the sizes the archive's directory declares, before anything is inflated. That is
    enough because Python's zipfile, which openpyxl reads through, never inflates a member past
    its declared size: a member that lies is cut off there and fails its CRC check.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return _("it is not a readable Excel (.xlsx) file.")
    if len(members) > ZIP_MAX_MEMBERS:
        return _("it consists of more than %(limit)d parts.", limit=ZIP_MAX_MEMBERS)
    total = sum(member.file_size for member in members)
    if total > ZIP_MAX_UNCOMPRESSED:
        return _("its content would expand to more than %(limit)d MB.",
                 limit=ZIP_MAX_UNCOMPRESSED // (1024 * 1024))
    if total > max(ZIP_INFLATE_RATIO * len(data), ZIP_INFLATE_FLOOR):
        return _("its compressed content would expand more than %(ratio)d times its size.",
                 ratio=ZIP_INFLATE_RATIO)
    return None


def store_upload(storage) -> str:
    """Check and save an upload; return the stored name (kept in a file column)."""
    extension = check_upload(storage)
    stored = f"{uuid.uuid4().hex}_sep_{clean_name(storage.filename, extension)}"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = op.join(folder, stored)
    storage.save(path)
    os.chmod(path, 0o600)  # proofs of identity and money: the service's own user only
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


# -- files held across a refused form ------------------------------------------------------------
# A registration refused for a typo elsewhere must not make the applicant choose the files again:
# each accepted file is held under its future stored name in HELD_SUBFOLDER, the page carries
# that name in a hidden field, and the session lists the names this browser may claim (a name
# seen elsewhere is useless). The next submit claims them (moved, not copied); files held and
# never claimed are removed after HELD_MAX_AGE.
HELD_SUBFOLDER = "held"
HELD_MAX_AGE = 24 * 3600
_HELD_NAME = re.compile(r"^[0-9a-f]{32}_sep_[^/\\\x00]{1,200}$")


def _held_folder() -> str:
    folder = op.join(current_app.config["UPLOAD_FOLDER"], HELD_SUBFOLDER)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def hold_upload(storage) -> str:
    """Check ``storage`` and keep it aside; return its held name (raises UploadRejected)."""
    extension = check_upload(storage)
    prune_held()
    name = f"{uuid.uuid4().hex}_sep_{clean_name(storage.filename, extension)}"
    path = op.join(_held_folder(), name)
    storage.save(path)
    os.chmod(path, 0o600)
    return name


def is_held(name: str) -> bool:
    return bool(name and _HELD_NAME.match(name)) and op.isfile(op.join(_held_folder(), name))


def claim_held(name: str) -> str:
    """Move a held file to the stored uploads; return its stored name."""
    os.replace(op.join(_held_folder(), name), op.join(current_app.config["UPLOAD_FOLDER"], name))
    return name


def hold_again(stored_names):
    """Put claimed files back aside when the registration that claimed them was refused."""
    folder = current_app.config["UPLOAD_FOLDER"]
    for name in stored_names:
        if name and op.isfile(op.join(folder, name)):
            os.replace(op.join(folder, name), op.join(_held_folder(), name))


def prune_held(now: float | None = None):
    """Remove held files older than HELD_MAX_AGE (abandoned forms)."""
    limit = (now or time.time()) - HELD_MAX_AGE
    folder = _held_folder()
    for entry in os.scandir(folder):
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                os.remove(entry.path)
        except FileNotFoundError:
            pass
