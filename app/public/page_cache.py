"""Public need pages kept per process for visitors who are not signed in.

Every anonymous visitor gets the same need list or need page for the same address and
language, and that page changes only when a public need does, which replaces the list's
version token at commit (``need_list.list_token``). So a kept page is served after one
statement, the token; a new token drops every kept page of the process. Signed-in users
(whose pages show their own offers and contacts) and requests with a flashed message get pages
made for them, around the parts that are the same for everyone (``kept_part``: the need list's
body). Pages also expire after ``PAGE_TTL``, as the reference labels they show do.
"""
import functools
import time
from collections import OrderedDict

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from ..need_list import OPTIONS_TTL, list_token

PAGE_TTL = OPTIONS_TTL
MAX_PAGES = 1000  # per process: about 15 MB of HTML for pages of 50 needs


def language() -> str:
    """The page language, as the reference labels are kept: "en" or "zh"."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


class _Pages:
    def __init__(self, token):
        self.token = token
        self.pages = OrderedDict()

    def get(self, key):
        hit = self.pages.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        self.pages.move_to_end(key)
        return hit[1]

    def put(self, key, html):
        self.pages[key] = (time.monotonic() + PAGE_TTL, html)
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
    store = _pages()
    key = ("part", request.full_path, language())
    html = store.get(key)
    if html is None:
        html = Markup(make())
        if store.token is not None:
            store.put(key, html)
    return html
