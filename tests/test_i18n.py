"""The catalogs: no drift from the source, nothing missing in zh or en, compiled files current."""
import os
import re
import subprocess
import sys

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from helpers import api_headers, login

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = os.path.join(ROOT, "translations")


def _po(locale):
    with open(os.path.join(TRANSLATIONS, locale, "LC_MESSAGES", "messages.po"), "rb") as fh:
        return read_po(fh, locale=locale)


def test_committed_template_equals_a_fresh_extraction(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output",
                    "--omit-header", "--width=100", "-o", str(fresh), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(os.path.join(TRANSLATIONS, "messages.pot"), encoding="utf-8") as fh:
        committed = fh.read()
    assert fresh.read_text(encoding="utf-8") == committed, (
        "translations/messages.pot is stale: run `flask translate extract && flask translate update`")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_message_is_translated(locale):
    with open(os.path.join(TRANSLATIONS, "messages.pot"), "rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    catalog = _po(locale)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert template - translated == set(), f"untranslated in {locale}"


def test_chinese_catalog_is_chinese():
    catalog = _po("zh")
    assert catalog.get("Technical needs").string == "技术需求"
    # Chinese words, or punctuation alone (a list separator); never English left as it was.
    for m in catalog:
        text = re.sub(r"%\(\w+\)[sd]", "", m.string) if m.id else ""
        assert not m.id or any("\u4e00" <= ch <= "\u9fff" for ch in text) or not re.search(
            "[A-Za-z]", text), (m.id, m.string)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_compiled_catalog_matches_its_source(locale):
    with open(os.path.join(TRANSLATIONS, locale, "LC_MESSAGES", "messages.mo"), "rb") as fh:
        compiled = read_mo(fh)
    source = _po(locale)
    pairs = lambda cat: {(m.id, m.string) for m in cat if m.id}
    assert pairs(compiled) == pairs(source), "run `flask translate compile`"


def test_pages_are_chinese_by_default_and_english_on_switch(client):
    page = client.get("/").get_data(as_text=True)
    assert "需求征集" in page and "Needs filing" not in page
    switched = client.get("/language/en", headers={"Referer": "http://localhost/"})
    assert switched.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Needs filing" in page and "需求征集" not in page
    assert "2020 Hubei Special Action" in page  # reference data follows the language too


def test_unknown_language_is_ignored(client):
    client.get("/language/xx")
    assert "需求征集" in client.get("/").get_data(as_text=True)


def test_back_office_labels_follow_the_language(client, make):
    make.user("Platform", "plat_i18n")
    login(client, "plat_i18n")
    assert "技术需求" in client.get("/needmodelview/list/").get_data(as_text=True)
    client.get("/language/en")
    assert "Technical needs" in client.get("/needmodelview/list/").get_data(as_text=True)


def test_api_info_labels_switch_with_the_locale_parameter(client, make):
    make.user("Platform", "plat_api_i18n")
    headers = api_headers(client, "plat_api_i18n")
    zh = client.get("/api/v1/need/_info?_l_=zh", headers=headers).json
    en = client.get("/api/v1/need/_info?_l_=en", headers=headers).json
    zh_labels = {f["name"]: f["label"] for f in zh["add_columns"]}
    en_labels = {f["name"]: f["label"] for f in en["add_columns"]}
    assert en_labels["title"] == "Title" and zh_labels["title"] == "标题"


def test_every_back_office_page_title_is_translated(app):
    """No FAB default title ("Show Project", "Add Program Round") reaches a page: every list,
    show, add and edit title a view can render is Chinese under zh and English under en."""
    from flask_appbuilder import ModelView
    from flask_babel import force_locale

    # Our views; FAB's own user and role pages (Admin only) keep FAB's wording.
    views = [v for v in app.appbuilder.baseviews
             if isinstance(v, ModelView) and type(v).__module__.startswith("app.")]
    assert views
    with app.test_request_context():
        for view in views:
            for kind in ("list", "show", "add", "edit"):
                if f"can_{kind}" not in view.base_permissions:
                    continue
                title = getattr(view, f"{kind}_title")
                with force_locale("zh"):
                    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(title)), (
                        f"{type(view).__name__}.{kind}_title: {title}")
                with force_locale("en"):
                    assert str(title).isascii(), f"{type(view).__name__}.{kind}_title: {title}"


def test_the_round_form_has_a_chinese_title(client, make):
    make.user("Province", "prov_titles")
    login(client, "prov_titles")
    html = client.get("/programroundmodelview/add").get_data(as_text=True)
    assert "专项批次：新增" in html and "Add Program Round" not in html


def _chinese(text) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))


def test_every_column_label_of_every_back_office_page_is_translated(app):
    """Every column a view lists, shows, searches, adds or edits has a Chinese label under zh
    and an English one under en: none is FAB's prettified column name ("Created At", "Name
    Pinyin")."""
    from flask_appbuilder import ModelView
    from flask_babel import force_locale

    views = [v for v in app.appbuilder.baseviews if isinstance(v, ModelView)]
    untranslated = []
    with app.test_request_context():
        for view in views:
            columns = set(view.list_columns) | set(view.show_columns) | set(
                view.search_columns) | set(view.add_columns) | set(view.edit_columns)
            for column in sorted(columns):
                label = view.label_columns.get(column, column)
                with force_locale("zh"):
                    if not _chinese(label):
                        untranslated.append(f"{type(view).__name__}.{column}: {label}")
                with force_locale("en"):
                    if _chinese(label):
                        untranslated.append(f"{type(view).__name__}.{column} (en): {label}")
    assert untranslated == [], "\n".join(untranslated)


def test_every_string_of_fabs_templates_is_translated():
    """FAB's templates say "Add", "Edit", "Delete"... through gettext; its own zh catalog lacks
    some, so ours must have them (app/views/fab_strings.py)."""
    import flask_appbuilder
    from babel.messages.mofile import read_mo

    root = os.path.dirname(flask_appbuilder.__file__)
    strings = set()
    for folder, _dirs, files in os.walk(os.path.join(root, "templates")):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                strings |= set(re.findall(r"_\(\s*['\"]([^'\"]+)['\"]\s*\)", fh.read()))
    assert len(strings) > 20
    with open(os.path.join(root, "translations", "zh", "LC_MESSAGES", "messages.mo"), "rb") as fh:
        fab = {m.id for m in read_mo(fh) if m.id and m.string}
    ours = {m.id for m in _po("zh") if m.id and m.string}
    assert sorted(strings - fab - ours) == []
