"""Public need pages kept per process for visitors who are not signed in.

Every anonymous visitor gets the same need list or need page for the same address and
language, and that page changes only when a public need does, which replaces the list's
version token at commit (``need_list.list_token``). So a kept page is served after one
statement, the token; a new token drops every kept page of the process. Signed-in users
(whose pages show their own offers and contacts) and requests with a flashed message get pages
made for them, around the parts that are the same for everyone: the frame around every public
page (``frame``), the need list's body (``kept_part``) and a need's own parts (``kept_item``,
app/public/need_page.py). Pages also expire after ``PAGE_TTL``, as the reference labels they
show do.
"""
import functools
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, get_template_attribute, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from app.domain.needs.need_list import OPTIONS_TTL, list_token

PAGE_TTL = OPTIONS_TTL
MAX_PAGES = 1000  # per process: about 15 MB of HTML for pages of 50 needs (a need's: 5 kB)


def language() -> str:
    """The page language, as the reference labels are kept: "en" or "zh"."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


class _Pages:
    """Pages and parts of pages under one token, the least recently used dropped first."""

    def __init__(self, token):
        self.token = token
        self.pages = OrderedDict()

    def get(self, key):
        hit = self.pages.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        self.pages.move_to_end(key)
        return hit[1]

    def put(self, key, value):
        self.pages[key] = (time.monotonic() + PAGE_TTL, value)
        self.pages.move_to_end(key)
        while len(self.pages) > MAX_PAGES:
            self.pages.popitem(last=False)


def _pages():
    """This process's kept pages and parts, under the list's current token."""
    token = list_token()
    store = current_app.extensions.get("public_pages")
    if store is None or store.token != token or token is None:
        store = current_app.extensions["public_pages"] = _Pages(token)
    return store


@dataclass(frozen=True)
class Frame:
    """The markup around a public page's own content (``public/_frame.html``)."""

    top: Markup
    app_name: Markup
    nav: Markup
    bottom: Markup


def frame() -> Frame:
    """The public pages' frame for this language and sign-in state, rendered once per process:
    it shows no data, only links and translated labels, so no token is needed. Made per request
    it was a quarter of a signed-in visitor's page."""
    key = (language(), current_user.is_authenticated, request.script_root)
    frames = current_app.extensions.setdefault("public_frames", {})
    kept_frame = frames.get(key)
    if kept_frame is None:
        def part(name, *args):
            return Markup(get_template_attribute("public/_frame.html", name)(*args))

        kept_frame = frames[key] = Frame(
            top=part("top", key[0]), app_name=part("app_name"),
            nav=part("nav", key[0], key[1], current_app.appbuilder), bottom=part("bottom"))
    return kept_frame


def for_anonymous_visitors(view):
    """Serve a kept copy of the view's page to anonymous visitors while the token holds; an
    answer that is not a page (a redirect, a 404) is never kept."""
    @functools.wraps(view)
    def kept(*args, **kwargs):
        if current_user.is_authenticated or session.get("_flashes"):
            return view(*args, **kwargs)
        store = _pages()
        key = ("page", request.full_path, language())
        html = store.get(key)
        if html is None:
            html = view(*args, **kwargs)
            if isinstance(html, str) and store.token is not None:
                store.put(key, html)
        return html

    return kept


def kept_part(make):
    """The part of a page that is the same for everyone at this address and language (the need
    list below the navigation: signed-in users get it too), made by ``make`` at most once per
    token; returned as markup."""
    return kept_item(("part", request.full_path, language()), lambda: Markup(make()))


def kept_item(key, make):
    """``make()``, kept under ``key`` while the list's token holds (and for ``PAGE_TTL`` at
    most); None is never kept."""
    store = _pages()
    item = store.get(key)
    if item is None:
        item = make()
        if item is not None and store.token is not None:
            store.put(key, item)
    return item
