"""The printed documents' downloads on the back-office views (rules: app/domain/documents).

A record outside the user's jurisdiction, or one whose document the user is not among the
readers of, answers 404; a document that does not exist yet (a need not recommended, a project
not evaluated) sends the user back to the record's page with the reason.
"""
from urllib.parse import quote

from flask import Response, abort, current_app, flash, g, redirect, url_for

from app.domain import documents
from app.extensions import db


def serve(view, kind: str, pk: int):
    item = view.datamodel.get(pk, view._base_filters)
    if item is None:
        abort(404)
    try:
        printed = documents.print_document(kind, item, g.user)
        db.session.commit()  # a new code and its audit row
    except documents.DocumentRefused as refused:
        db.session.rollback()
        if refused.not_found:
            abort(404)
        flash(str(refused), "warning")
        return redirect(url_for(f"{view.endpoint}.show", pk=pk))
    disposition = (f"attachment; filename={quote(printed.file_name)}; "
                   f"filename*=UTF-8''{quote(printed.display_name)}")
    return Response(printed.data, mimetype="application/pdf",
                    headers={"Content-Disposition": disposition,
                             "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})


def links(view, item, offered) -> list:
    """(label, url) of the documents of ``item`` the user may print now; ``offered`` lists
    (kind, the view's method that serves it, that method's permission name)."""
    user, security = g.user, current_app.appbuilder.sm
    return [(f"{documents.KINDS[kind].title} (PDF)", url_for(f"{view.endpoint}.{method}",
                                                              pk=item.id))
            for kind, method, permission in offered
            if security.has_access(f"can_{permission}", view.class_permission_name)
            and documents.may_print(kind, item, user)]
