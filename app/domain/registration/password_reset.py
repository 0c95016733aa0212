"""Forgotten passwords: a 6-digit code by SMS, or a link by e-mail, then a new password.

* Asking (``request_reset``) answers the same whether or not an account has the mobile number
  or e-mail address: the caller shows one neutral message. For an active account a request row
  is written, any older live one is superseded, and the code or link goes to the account's own
  number or address through the notification outbox, sent by a job after the commit (retried
  by the worker; nothing is sent inside the request).
* Only an HMAC-SHA256 of the code or token is kept, keyed by the app's secret key, so the table
  alone gives no live code (a 6-digit code's plain SHA-256 is reversed by trying all of them).
  The outbox row carries the code to the worker and forgets it once sent or given up
  (app/core/notifications/delivery.py).
* A request lives ``PASSWORD_RESET_MINUTES``, dies after ``PASSWORD_RESET_MAX_ATTEMPTS``
  wrong codes, and is spent by one reset (a conditional UPDATE, so two resets at once cannot
  both use it).
* A reset sets the password under the password rule, hashed as FAB does, lifts a lockout, ends
  every session and API token of the account (its session epoch), supersedes the account's
  other requests, and writes an audit row.

Requests are also limited per number or address and per client (app/core/access/rate_limits.py).
"""
import hashlib
import hmac
import secrets

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from werkzeug.security import generate_password_hash

from app.core import audit
from app.core.access.auth_policy import (
    end_sessions,
    password_is_strong,
    password_rule,
    unlock,
)
from app.core.notifications.outbox import notify
from app.domain.registration.accounts import (
    RegistrationError,
    clean_email,
    clean_mobile,
)
from app.extensions import db
from app.models import AppUser, Channel, PasswordReset
from app.models.mixins import utcnow

CODE_DIGITS = 6
SMS_TEMPLATE, EMAIL_TEMPLATE = "password_reset.code", "password_reset.link"


class PasswordResetError(RegistrationError):
    """A refusal, with the form field it belongs to. ``counted`` is True when a wrong code was
    counted against the request: the caller commits then, so that the try stays counted."""

    def __init__(self, message, field=None, counted=False):
        super().__init__(message, field)
        self.counted = counted


def minutes() -> int:
    return current_app.config["PASSWORD_RESET_MINUTES"]


def _max_attempts() -> int:
    return current_app.config["PASSWORD_RESET_MAX_ATTEMPTS"]


def secret_hash(channel: Channel, secret: str, user_id: int | None = None) -> str:
    """The keyed hash kept for a code (bound to its account: codes repeat across accounts) or
    for a link's token (looked up by it: the token alone names the request)."""
    message = f"{channel.value}:{user_id if channel is Channel.sms else ''}:{secret}"
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def account_kind(value: str) -> Channel:
    """An e-mail address has an ``@``; anything else is read as a mobile number."""
    return Channel.email if "@" in (value or "") else Channel.sms


def _account_by_phone(phone: str):
    """The account signing in with this number (its user name), else the one that has it as
    its phone; the code goes to the account's own number on record."""
    users = db.session.scalars(select(AppUser).where(
        or_(AppUser.username == phone, AppUser.phone == phone)).order_by(AppUser.id)).all()
    users.sort(key=lambda user: user.username != phone)
    return next(iter(users), None)


def _account_by_email(email: str):
    return db.session.scalars(select(AppUser).where(func.lower(AppUser.email) == email)
                              .order_by(AppUser.id)).first()


def _supersede(user_id: int, now) -> None:
    """End every request of the account still open: the newest request, or a reset, wins."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None),
               PasswordReset.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False))


def request_reset(account: str) -> Channel:
    """Send a code (mobile number) or a link (e-mail address) to the account that has it, if
    there is one, it is active and it can be reached there. Returns the kind of the answer
    given, which depends on the input only. Raises ``PasswordResetError`` (field "account")
    for input that is neither a mobile number nor an e-mail address. Flushes, no commit."""
    kind = account_kind(account)
    if kind is Channel.email:
        value = clean_email(account, field="account")
        user = _account_by_email(value)
        reachable = user is not None and bool(user.email)
    else:
        value = clean_mobile(account, field="account")
        user = _account_by_phone(value)
        reachable = user is not None and bool((user.phone or "").strip())
    if user is None or not user.active or not reachable:
        return kind
    now = utcnow()
    _supersede(user.id, now)
    if kind is Channel.email:
        secret = secrets.token_urlsafe(32)
        digest = secret_hash(kind, secret)
    else:
        secret = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        digest = secret_hash(kind, secret, user.id)
    reset = PasswordReset(user_id=user.id, channel=kind, secret_hash=digest, issued_at=now,
                          attempts=0)
    db.session.add(reset)
    db.session.flush()
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if kind is Channel.email:
        # The configured public address, never the request's Host header (which a requester
        # chooses, and would then receive the token of someone else's link).
        payload = {"secret": base + url_for("public.reset_password_with_link", token=secret)}
    else:
        payload = {"secret": secret, "path": url_for("public.reset_password_with_code")}
    payload["minutes"] = minutes()
    notify(user, SMS_TEMPLATE if kind is Channel.sms else EMAIL_TEMPLATE, payload,
           event_key=f"password-reset:{reset.id}", channels=[kind])
    audit.record("password.reset_request", user, subject_type="ab_user",
                 actor_name=user.username, after={"channel": kind.value})
    return kind


def _wrong_code(message=None) -> PasswordResetError:
    return PasswordResetError(
        message or _("The code is wrong or no longer valid. Check it, or ask for a new one."),
        "code")


def _live(user_id: int, channel: Channel):
    """The account's current request on ``channel`` if it may still be used."""
    reset = db.session.scalars(
        select(PasswordReset).where(PasswordReset.user_id == user_id,
                                    PasswordReset.channel == channel)
        .order_by(PasswordReset.id.desc())).first()
    if reset is None or not reset.is_live(utcnow(), minutes(), _max_attempts()):
        return None
    return reset


def _count_wrong_try(reset) -> PasswordResetError:
    """Count one wrong code in the database (tries in parallel all count); the last one kills
    the request. Flushed; the caller commits."""
    table = PasswordReset.__table__
    db.session.execute(update(table).where(table.c.id == reset.id)
                       .values(attempts=table.c.attempts + 1))
    attempts = db.session.scalar(select(table.c.attempts).where(table.c.id == reset.id))
    if attempts >= _max_attempts():
        db.session.execute(update(table).where(table.c.id == reset.id, table.c.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))
        error = _wrong_code(_("Too many wrong codes: this code no longer works. Ask for a new "
                              "one."))
    else:
        error = _wrong_code()
    error.counted = True
    return error


def check_code(phone: str, code: str) -> PasswordReset:
    """The live SMS request of the account with this number whose code this is. A wrong code
    is counted; an unknown number or no live request is refused in the same words."""
    phone = clean_mobile(phone)
    code = "".join((code or "").split())
    user = _account_by_phone(phone)
    reset = _live(user.id, Channel.sms) if user is not None and user.active else None
    if reset is None:
        raise _wrong_code()
    if not hmac.compare_digest(reset.secret_hash, secret_hash(Channel.sms, code, user.id)):
        raise _count_wrong_try(reset)
    return reset


def find_link(token: str) -> PasswordReset | None:
    """The live e-mail request this link's token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    reset = db.session.scalars(select(PasswordReset).where(
        PasswordReset.channel == Channel.email,
        PasswordReset.secret_hash == secret_hash(Channel.email, token))).first()
    if reset is None or not reset.is_live(utcnow(), minutes(), _max_attempts()) \
            or not reset.user.active:
        return None
    return reset


def link_is_dead() -> str:
    return _("This link is no longer valid: it was used, replaced by a newer one, or is older "
             "than %(minutes)d minutes. Ask for a new one.", minutes=minutes())


def reset_with_code(phone: str, code: str, password: str) -> AppUser:
    """Check the code, then set the password. Flushes, no commit (commit also on a refusal
    whose ``counted`` is set)."""
    _check_password(password)
    return _reset(check_code(phone, code), password)


def reset_with_link(token: str, password: str) -> AppUser:
    _check_password(password)
    reset = find_link(token)
    if reset is None:
        raise PasswordResetError(link_is_dead())
    return _reset(reset, password)


def _check_password(password: str) -> None:
    if not password_is_strong(password):
        raise PasswordResetError(password_rule(), "password")


def _reset(reset: PasswordReset, password: str) -> AppUser:
    now = utcnow()
    table = PasswordReset.__table__
    spent = db.session.execute(
        update(table).where(table.c.id == reset.id, table.c.used_at.is_(None),
                            table.c.revoked_at.is_(None),
                            table.c.attempts < _max_attempts())
        .values(used_at=now))
    if spent.rowcount != 1:  # another reset used it a moment ago
        if reset.channel is Channel.email:
            raise PasswordResetError(link_is_dead())
        raise _wrong_code()
    user = reset.user
    config = current_app.config
    user.password = generate_password_hash(
        password, method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))
    unlock(user)
    db.session.flush()
    end_sessions(db.session, user.id)
    _supersede(user.id, now)
    audit.record("password.reset", user, subject_type="ab_user", actor=user,
                 after={"via": reset.channel.value})
    return user
