"""Permissions as an administrator reads them on the role and permission pages: "合同：审核办理"
rather than FAB's "can decide on ContractModelView".

A permission is a verb on a view. The verb is translated here (or is a workflow action, titled
by its enum); the view is named by its own title, from the app's registry: a model view's list
title, a page's menu label, an API after its model's view. A name no screen carries stays as
the identifier it is, marked as English code.
"""
from flask import current_app, g, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.models import Action

VERBS = {
    "can_list": _l("see the list"), "can_show": _l("open a record"), "can_add": _l("add"),
    "can_edit": _l("edit"), "can_delete": _l("delete"), "can_download": _l("download files"),
    "can_decide": _l("review and decide"), "menu_access": _l("menu entry"),
    "can_get": _l("read (API)"), "can_post": _l("create (API)"), "can_put": _l("change (API)"),
    "can_info": _l("describe (API)"), "can_this_form_get": _l("open the form"),
    "can_this_form_post": _l("send the form"), "can_userinfo": _l("own profile"),
    "can_chart": _l("chart"), "can_compare": _l("compare proposals"),
    "can_dismiss": _l("dismiss"), "can_evaluate": _l("performance evaluation"),
    "can_export": _l("export"), "can_import": _l("import"), "can_index": _l("home page"),
    "can_need": _l("proposals to a need"), "can_overdue": _l("overdue projects"),
    "can_recommendation_pdf": _l("recommendation form (PDF)"),
    "can_approval_pdf": _l("project approval form (PDF)"),
    "can_record_pdf": _l("project record (PDF)"), "can_run": _l("run"),
    "can_service_record": _l("certificate of service (PDF)"),
    "can_simulate": _l("funding simulation"), "can_thread": _l("messages"),
    "copyrole": _l("copy the role"), "resend": _l("send again"),
    "resetmypassword": _l("change own password"), "resetpasswords": _l("reset passwords"),
    "return_selected": _l("return the selected"), "userinfoedit": _l("edit own profile"),
    "compare": _l("compare proposals"),
    "can_publish": _l("publish the list for objections"),
    "can_reconcile": _l("reconcile the payments"),
    "can_support": _l("support conditions"),
}


def _view_titles() -> dict:
    """{view's permission name: its title}, read from the app's registry (once a request)."""
    if "_view_titles" not in g:
        g._view_titles = _read_view_titles()
    return g._view_titles


def _read_view_titles() -> dict:
    appbuilder = current_app.appbuilder
    titles, by_model = {}, {}
    for view in appbuilder.baseviews:
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        title = getattr(view, "list_title", None) or getattr(view, "chart_title", None)
        if title and not type(view).__name__.endswith("Api"):
            titles[view.class_permission_name] = str(title)
            by_model.setdefault(model, str(title))
    for view in appbuilder.baseviews:
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if type(view).__name__.endswith("Api") and model in by_model:
            titles[view.class_permission_name] = f"{by_model[model]} API"
    for category in appbuilder.menu.get_list():
        for item in [category, *(category.childs or [])]:
            if item.baseview is not None and item.baseview.class_permission_name not in titles:
                titles[item.baseview.class_permission_name] = str(item.label)
    return titles


def view_title(name: str) -> str | None:
    """A view or menu name as the screens call it; None if no screen or catalog does."""
    if not name:
        return None
    title = _view_titles().get(name) if has_app_context() else None
    if title:
        return title
    translated = _(name)
    return translated if translated != name else None


def verb_title(name: str) -> str | None:
    if name in VERBS:
        return str(VERBS[name])
    code = name.removeprefix("can_")
    return str(Action(code).title) if code in Action._value2member_map_ else None


def _code(name) -> Markup:
    return Markup('<code lang="en">{}</code>').format(name)


def permission_text(permission_view) -> str:
    """Plain text (a form's choice): 合同：审核办理."""
    view = str(getattr(permission_view.view_menu, "name", "") or "")
    verb = str(getattr(permission_view.permission, "name", "") or "")
    return _("%(view)s: %(verb)s", view=view_title(view) or view, verb=verb_title(verb) or verb)


def permission_markup(permission_view) -> Markup:
    view = str(getattr(permission_view.view_menu, "name", "") or "")
    verb = str(getattr(permission_view.permission, "name", "") or "")
    return Markup(_("%(view)s: %(verb)s", view=Markup.escape(view_title(view)) if view_title(view)
                    else _code(view), verb=Markup.escape(verb_title(verb)) if verb_title(verb)
                    else _code(verb)))


def permissions_joined(permission_views) -> Markup:
    separator = ", " if str(get_locale() or "zh") == "en" else "、"
    return Markup(separator).join(permission_markup(p) for p in permission_views or [])


def name_markup(kind):
    """A formatter of a permission's (``verb``) or a view menu's (``view``) own name."""
    title = verb_title if kind == "verb" else view_title

    def formatter(name):
        shown = title(str(name or ""))
        return shown if shown else _code(name)
    return formatter
