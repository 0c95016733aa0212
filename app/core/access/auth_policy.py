"""Identity and session rules (等保 2.0 身份鉴别, OWASP ASVS V2/V3), as plain functions.

* Passwords: at least ``PASSWORD_MIN_LENGTH`` characters drawn from ``PASSWORD_CLASSES`` of the
  four classes lower case, upper case, digits and symbols. One rule for every place a password
  is set: the public registration, FAB's user add and reset forms (through
  ``FAB_PASSWORD_COMPLEXITY_VALIDATOR``) and the security manager's ``add_user`` and
  ``reset_password`` (CLI, seed scripts).
* Lockout: ``LOGIN_MAX_FAILURES`` wrong passwords in a row lock the account for
  ``LOGIN_LOCKOUT_MINUTES``. The security manager calls these functions from ``auth_user_db``,
  which both the form login and the REST login use, so both share one counter. A locked
  account is refused exactly like a wrong password: no one learns that the account exists.
* Sessions: a signed-in session ends after ``SESSION_IDLE_MINUTES`` without a request and
  ``SESSION_ABSOLUTE_HOURS`` after the login, whatever the browser keeps.
* REST API tokens: the refresh token of an API login lives ``JWT_REFRESH_TOKEN_EXPIRES``
  (= ``SESSION_ABSOLUTE_HOURS``); a refresh is refused for an account that may no longer sign
  in (locked or inactive), and the access token it gives ends no later than the refresh token.
"""
import datetime as dt
import logging
import secrets
import string
import time

import click
from flask import current_app, flash, session
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _
from flask_login import logout_user, user_logged_in, user_logged_out
from sqlalchemy import case, func, select, update
from werkzeug.security import check_password_hash
from wtforms import ValidationError

from app.extensions import db
from app.models import AppUser
from app.utils import clock

logger = logging.getLogger(__name__)

SYMBOLS = "!@#$%^&*-_=+?.,:;~"
CHARACTER_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)

# Session keys: the time of the login and of the last request (seconds since the epoch).
AUTH_AT, SEEN_AT, EPOCH = "_auth_at", "_seen_at", "_epoch"
# The last-request time is rewritten at most this often, so that not every request (each
# image, each script) sends a new session cookie.
SEEN_RESOLUTION = 30


def init_auth_policy(app):
    """Wire the rules into an app: FAB's forms call ``check_password``; the session timestamps
    are set at every login and checked before anything else runs on each request."""
    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password)
    user_logged_in.connect(_stamp_login, app)
    user_logged_out.connect(end_sessions_at_sign_out, app)
    # First in line, before FAB's own hook copies the signed-in user to ``g.user``.
    app.before_request_funcs.setdefault(None, []).insert(0, expire_session)


# Passwords ------------------------------------------------------------------------------------

def _classes_used(password: str) -> int:
    used = sum(any(c in chars for c in password) for chars in CHARACTER_CLASSES)
    others = any(not any(c in chars for chars in CHARACTER_CLASSES) for c in password)
    return used + others  # every other character (symbols, spaces, Chinese) is a "symbol"


def password_rule() -> str:
    config = current_app.config
    return _("The password needs at least %(length)d characters and at least %(classes)d of "
             "these four kinds: lower-case letters, upper-case letters, digits, symbols.",
             length=config["PASSWORD_MIN_LENGTH"], classes=config["PASSWORD_CLASSES"])


def password_is_strong(password: str) -> bool:
    config = current_app.config
    password = password or ""
    return (len(password) >= config["PASSWORD_MIN_LENGTH"]
            and _classes_used(password) >= config["PASSWORD_CLASSES"])


class PasswordRefused(click.ClickException, PasswordComplexityValidationError):
    """The rule refused a password. FAB's forms catch it as the complexity error it is and show
    the rule beside the field; a ``flask`` command (``fab create-admin``, ``reset-password``)
    prints it and exits 1, where the plain error printed a traceback."""


def check_password(password: str) -> None:
    """FAB's FAB_PASSWORD_COMPLEXITY_VALIDATOR: raise with the rule as the message."""
    if not password_is_strong(password):
        raise PasswordRefused(password_rule())


class StrongPassword:
    """WTForms validator for our own forms (the public registration)."""

    def __call__(self, form, field):
        if not password_is_strong(field.data):
            raise ValidationError(password_rule())


def generate_password(length: int = 16) -> str:
    """A random password that passes the rule whatever it is configured to (demo accounts)."""
    length = max(length, current_app.config["PASSWORD_MIN_LENGTH"], 4)
    alphabet = "".join(CHARACTER_CLASSES) + SYMBOLS
    chars = [secrets.choice(group) for group in CHARACTER_CLASSES + (SYMBOLS,)]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# Lockout --------------------------------------------------------------------------------------

def is_locked(user, now=None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or clock.utcnow())


def may_attempt_login(user) -> bool:
    """False while the account is locked; then the caller refuses the login as if the password
    were wrong, without looking at it. A lock that has run out is lifted with its count."""
    if is_locked(user):
        # Spend the time of a password check, as for a wrong password.
        check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], "password")
        logger.warning("login refused: account %s is locked until %s", user.id, user.locked_until)
        return False
    if user.locked_until is not None:
        user.locked_until = None
        user.fail_login_count = 0
    return True


def count_failed_login(db_session, user) -> None:
    """Count a wrong password and lock the account at the limit, in one UPDATE committed at
    once, before anything else of the request (its audit row, its page) can fail and take the
    count down with it. The count is raised in the database, not from the value this request
    read, so attempts in parallel all count."""
    config = current_app.config
    table = user.__table__
    count = func.coalesce(table.c.fail_login_count, 0) + 1
    until = clock.utcnow() + dt.timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    db_session.execute(update(table).where(table.c.id == user.id).values(
        fail_login_count=count,
        locked_until=case((count >= config["LOGIN_MAX_FAILURES"], until),
                          else_=table.c.locked_until)))
    db_session.commit()
    db_session.refresh(user)
    if user.locked_until is not None:
        logger.warning("account %s locked until %s after %s wrong passwords", user.id,
                       user.locked_until, user.fail_login_count)


def note_login(user) -> None:
    """A right password clears the lock (FAB resets the count and commits)."""
    user.locked_until = None


def unlock(user) -> None:
    """An administrator's password reset also lifts a lock."""
    user.locked_until = None
    user.fail_login_count = 0


# Sessions -------------------------------------------------------------------------------------

def _stamp_login(sender, user, **extra):
    now = time.time()
    session[AUTH_AT] = session[SEEN_AT] = now
    session[EPOCH] = user.session_epoch or 0


def session_is_current(user) -> bool:
    """Whether the signed-in session was made since the user last signed out, changed or was
    given a new password, or was deactivated (each raises ``session_epoch``)."""
    return session.get(EPOCH) == (user.session_epoch or 0)


def end_sessions(db_session, user_id: int) -> int:
    """End every session and API token of the user: raise its epoch (flushed, in the caller's
    transaction). Returns the new epoch."""
    user_id = int(user_id)  # FAB's reset form passes the id as the text of its query string
    table = AppUser.__table__
    db_session.execute(update(table).where(table.c.id == user_id)
                       .values(session_epoch=func.coalesce(table.c.session_epoch, 0) + 1))
    return db_session.scalar(select(table.c.session_epoch).where(table.c.id == user_id))


def end_sessions_at_sign_out(sender, user, **extra):
    """``user_logged_out``: the cookie taken before /logout/ must not work after it."""
    if getattr(user, "id", None) is not None:
        end_sessions(db.session, user.id)
        db.session.commit()
    session.pop(EPOCH, None)


def end_sessions_when_deactivated(target, value, oldvalue, _initiator):
    """Listener of ``AppUser.active``: a deactivated account's sessions and tokens end with the
    flush that deactivates it."""
    if oldvalue is True and not value:
        target.session_epoch = (target.session_epoch or 0) + 1


def expire_session():
    """Sign out a session that was idle too long or is too old, or that has no login time
    (made before these rules; fail closed). The request then goes on as anonymous, so a page
    that needs a login sends the user to sign in again, with a message saying why."""
    if "_user_id" not in session:
        return
    config = current_app.config
    now = time.time()
    auth_at = session.get(AUTH_AT)
    seen_at = session.get(SEEN_AT, auth_at)
    if (auth_at is None or now - seen_at > config["SESSION_IDLE_MINUTES"] * 60
            or now - auth_at > config["SESSION_ABSOLUTE_HOURS"] * 3600):
        logout_user()
        session.pop(AUTH_AT, None)
        session.pop(SEEN_AT, None)
        flash(_("Your session has expired. Please sign in again."), "warning")
        return
    if now - seen_at >= SEEN_RESOLUTION:
        session[SEEN_AT] = now


# REST API tokens ------------------------------------------------------------------------------

def may_refresh(user) -> bool:
    """A refresh is a sign-in without the password, so the account must still be one that
    may sign in: active and not locked (a lock set by wrong passwords after the API login
    stops the token being renewed). The access token already issued runs out by itself
    within ``JWT_ACCESS_TOKEN_EXPIRES``."""
    if user is None or not user.is_active:
        return False
    if is_locked(user):
        logger.warning("token refresh refused: account %s is locked until %s", user.id,
                       user.locked_until)
        return False
    return True


def refreshed_access_lifetime(refresh_expires_at) -> dt.timedelta:
    """How long an access token made from a refresh token may live: the configured time, but
    never past the refresh token's own end, so that refreshing just before the end does not
    stretch the API session beyond ``SESSION_ABSOLUTE_HOURS`` after the login."""
    configured = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    if not isinstance(configured, dt.timedelta):
        configured = dt.timedelta(seconds=int(configured))
    left = dt.timedelta(seconds=int(refresh_expires_at - time.time()))
    # At least one second: Flask-JWT-Extended reads a zero lifetime as "never expires".
    return max(min(configured, left), dt.timedelta(seconds=1))
