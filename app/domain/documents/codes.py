"""Verification codes: random, unguessable, readable aloud, kept with what they were issued for.

A code is 15 characters of a 31-letter alphabet without the look-alikes 0/O, 1/I/L (about
2^74 codes), shown in groups of five: ``K7M2Q-XW9PD-3HTRN``. The same document printed again
with the same key facts keeps its code and its day of issue; a change of a key fact gives the
next print a new code, and the old one then verifies as "issued before a change".
"""
import hashlib
import json
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.extensions import db
from app.models import DocumentCode
from app.models.mixins import utcnow

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 15
GROUP = 5


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """``K7M2QXW9PD3HTRN`` → ``K7M2Q-XW9PD-3HTRN``."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalized(text: str) -> str | None:
    """A code as typed or linked (any case, with dashes or spaces) in its stored form, or
    None if it cannot be one."""
    code = "".join(ch for ch in str(text or "").upper() if ch not in "- \t")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def facts_hash(facts: dict) -> str:
    """SHA-256 of the key facts, in one canonical JSON (keys sorted, values as text)."""
    canonical = json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _existing(kind, record_id, digest):
    return db.session.scalars(select(DocumentCode).where(
        DocumentCode.kind == kind, DocumentCode.record_id == record_id,
        DocumentCode.facts_hash == digest)).first()


def issue(kind: str, record, title: str, enterprise_name: str, facts: dict,
          user=None) -> DocumentCode:
    """The code of this document with these facts: the one already issued, or a new one (added
    to the session with its audit row; the caller commits)."""
    digest = facts_hash(facts)
    found = _existing(kind, record.id, digest)
    if found is not None:
        return found
    for _attempt in range(3):
        row = DocumentCode(code=new_code(), kind=kind, record_id=record.id,
                           title=title[:300], enterprise_name=enterprise_name[:200],
                           facts_hash=digest, issued_at=utcnow(),
                           issued_by_id=getattr(user, "id", None))
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            # The same document issued a moment ago by another request, or (never in
            # practice) a code drawn twice: take the other request's code, else draw again.
            found = _existing(kind, record.id, digest)
            if found is not None:
                return found
            continue
        audit.record("documents.issue", record, after={"kind": kind, "code": row.code},
                     actor=user)
        return row
    raise RuntimeError("no free verification code after three draws")


def find(text: str) -> DocumentCode | None:
    code = normalized(text)
    if code is None:
        return None
    return db.session.scalars(select(DocumentCode).where(DocumentCode.code == code)).first()
