"""The back office's menu, made once per set of roles and language.

FAB renders the whole menu on every page, asking for each of its ~40 items whether the user
may see it: a quarter of a list page's time. Which items a user sees depends only on the
roles the user holds (directly and through groups), on what those roles may do and on the
language, so the rendered menu is kept per process for each (roles, language) under the
"permissions" cache token (``app/core/cache_tokens.py``), which every change of a role's
permissions replaces: a change shows from the next request, in every process. A change of
the user's own roles shows at once (the roles are read with the user on every request).
"""
from flask import current_app, render_template
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from app.core import cache_tokens

MAX_KEPT = 500  # (roles, language) pairs; a handful in practice


def roles_key(user) -> tuple:
    role_ids = {role.id for role in user.roles}
    role_ids |= {role.id for group in getattr(user, "groups", None) or () for role in group.roles}
    return tuple(sorted(role_ids))


def render_menu() -> Markup:
    """The menu made now, as FAB does for every page."""
    return Markup(render_template("appbuilder/navbar_menu.html",
                                  menu=current_app.appbuilder.menu))


def kept_menu() -> Markup:
    """The menu's items (``appbuilder/navbar_menu.html``) for the signed-in user."""
    if not current_user.is_authenticated:
        return render_menu()  # the login page: no token has been read, and it is rare
    key = (roles_key(current_user), str(get_locale()))
    return cache_tokens.kept("permissions", "kept_menu", key, render_menu, MAX_KEPT)


def init_menu(app):
    app.jinja_env.globals["kept_menu"] = kept_menu
