"""The back office's frame (FAB's ``base.html``: head, navbar, footer, scripts) kept per process
around pages made for each user anyway: the desk and the inbox.

FAB renders the frame for every page, and for the desk it was half the request (1.4 of 3 ms):
more than the to-do list, the panels and the user's row together. The frame shows no record,
only the user's name, roles (the menu), language and unread count, so it is kept per
(user, name, roles, language, unread count) under the "permissions" cache token, like the menu
(``app/views/menu.py``); the page's own content is rendered into it. The inline scripts' CSP
nonce is a placeholder in the kept frame, replaced by the request's own. A request with a
flashed message (shown inside the frame) gets the whole page made as FAB makes it.

A page served this way extends ``frame_template`` and fills only the ``content`` block.
"""
from flask import current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from app.core import cache_tokens
from app.core.access.headers import csp_nonce
from app.views.menu import roles_key

MAX_KEPT = 2000  # frames per process: about 12 kB each
WHOLE, CONTENT = "appbuilder/base.html", "office/_content.html"
_MARK = "<!--frame:content-->"
_NONCE = "frame-nonce-placeholder"


def _context(context: dict) -> dict:
    return dict(context, appbuilder=current_app.appbuilder,
                base_template=current_app.appbuilder.base_template)


def keeps_frame() -> bool:
    """Whether this request's page may go into a kept frame: a signed-in user, no message
    flashed (messages are shown inside the frame)."""
    return bool(current_user.is_authenticated and not session.get("_flashes"))


def language_key() -> tuple:
    """What the frame's and a page's language depend on."""
    return (str(get_locale()), session.get("locale"))


def _make_frame() -> tuple[str, str]:
    """The frame's markup before and after the content, with a placeholder nonce."""
    kept_nonce = g.pop("csp_nonce", None)
    g.csp_nonce = _NONCE
    try:
        html = render_template("office/_frame.html", **_context({"mark": _MARK}))
    finally:
        g.pop("csp_nonce", None)
        if kept_nonce is not None:
            g.csp_nonce = kept_nonce
    top, bottom = html.split(_MARK, 1)
    return top, bottom


def render_whole(template: str, **context) -> str:
    """The page as FAB makes it, frame and all."""
    return render_template(template, **_context(dict(context, frame_template=WHOLE)))


def render_content(template: str, **context) -> str:
    """The page's content alone (its ``content`` block)."""
    return render_template(template, **_context(dict(context, frame_template=CONTENT)))


def in_frame(content: str) -> Markup:
    """``content`` in the signed-in user's kept frame, with this request's nonce."""
    user = current_user
    key = (user.id, user.get_full_name(), roles_key(user), language_key(),
           getattr(user, "unread_notices", 0), request.script_root)
    top, bottom = cache_tokens.kept("permissions", "office_frames", key, _make_frame, MAX_KEPT)
    nonce = csp_nonce()
    return Markup(top.replace(_NONCE, nonce) + content + bottom.replace(_NONCE, nonce))


def render_framed(template: str, **context) -> str:
    """``template`` (a page that fills ``content`` of ``frame_template``) in the kept frame,
    or whole when the frame may not be kept."""
    if not keeps_frame():
        return render_whole(template, **context)
    return in_frame(render_content(template, **context))
