"""What the audit log records by itself, wherever the change comes from.

- Permission changes: a user's roles or active flag, a role's permissions. Seen on the ORM
  objects at flush (FAB's user and role forms, ``flask init-roles``, a script), so no screen or
  command can change who may do what without a row. One row per user or role and flush, with
  the lists before and after (a role: the permissions added and removed).
- Failed logins that FAB's security manager hooks cannot see: an unknown user name, an inactive
  account, an empty password (``auth_user_db`` returns before ``on_user_login_failed``). Known
  users' logins and failures are recorded by ``PlatformSecurityManager.on_user_login*``.
"""
from flask import g, request
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import inspect
from sqlalchemy.orm.attributes import NO_VALUE

from app.core import audit
from app.extensions import db
from app.models import AppUser

LOGIN_ENDPOINTS = {"AuthDBView.login", "PlatformSecurityApi.login"}
RECORDED = "audit_login_recorded"


def _names(items):
    return sorted(str(i) for i in items or ())


def _history(obj, attribute):
    """(before, after) of a collection or value attribute, or None when unchanged."""
    state = inspect(obj)
    hist = state.attrs[attribute].history
    if not hist.has_changes():
        return None
    if attribute == "active":
        before = hist.deleted[0] if hist.deleted else None
        return before, hist.added[0] if hist.added else None
    before = [x for x in (hist.unchanged or ()) if x is not NO_VALUE] + list(hist.deleted or ())
    return before, list(hist.unchanged or ()) + list(hist.added or ())


def _permission_changes(session):
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, AppUser):
            new = obj in session.new
            roles = _history(obj, "roles")
            active = None if new else _history(obj, "active")
            if roles is None and active is None:
                continue
            before, after = {}, {}
            if roles is not None:
                before["roles"], after["roles"] = _names(roles[0]), _names(roles[1])
            if active is not None:
                before["active"], after["active"] = active
            audit.record("users.create" if new else "users.permissions", obj,
                         subject_type="ab_user", before=None if new else before, after=after,
                         session=session)
        elif isinstance(obj, Role):
            perms = _history(obj, "permissions")
            if perms is None:
                continue
            old, now = set(_names(perms[0])), set(_names(perms[1]))
            if old == now:
                continue
            audit.record("roles.permissions", obj, subject_type="ab_role",
                         before={"role": obj.name, "removed": sorted(old - now)},
                         after={"role": obj.name, "added": sorted(now - old)},
                         session=session)


def keep_old_active(_target, _value, _old, _initiator):
    """Makes SQLAlchemy load the old value, so the row can say active: true → false."""


def record_permission_changes(session, _flush_context, _instances):
    _permission_changes(session)


def note_login_recorded():
    g.setdefault(RECORDED, True)


def record_other_failed_login(response):
    """``after_request``: a login POST that failed without reaching the security manager's
    hooks (unknown user, inactive account) still leaves a row."""
    if request.method != "POST" or request.endpoint not in LOGIN_ENDPOINTS or g.get(RECORDED):
        return response
    if request.endpoint == "PlatformSecurityApi.login":
        failed = response.status_code == 401
        username = (request.get_json(silent=True) or {}).get("username")
    else:
        failed = response.status_code == 302 and "/login" in response.headers.get("Location", "")
        username = request.form.get("username")
    if failed:
        audit.record("login.failed", None, subject_type="ab_user",
                     actor_name=str(username or "")[:100] or "?",
                     after={"via": "api" if request.endpoint == "PlatformSecurityApi.login" else "form",
                            "known_user": False})
        db.session.commit()
    return response
