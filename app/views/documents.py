"""The printed documents' downloads on the back-office views (rules: app/domain/documents).

A record outside the user's jurisdiction, or one whose document the user is not among the
readers of, answers 404; a document that does not exist yet (a need not recommended, a project
not evaluated) sends the user back to the record's page with the reason.
"""
from urllib.parse import quote

from flask import Response, abort, current_app, flash, g, redirect, url_for

from app.core.long_reads import short_write
from app.domain import documents


def serve(view, kind: str, pk: int):
    # A GET that writes (a new code and its audit row): in a short transaction of its own
    # that takes the write lock as it begins (on SQLite a write in the GET's deferred
    # transaction was refused at once if anyone had committed since its first read), and the
    # PDF rendered after the commit, holding nothing (app/core/long_reads.py).
    try:
        with short_write():
            item = view.datamodel.get(pk, view._base_filters)
            if item is None:
                abort(404)
            issued = documents.issue_document(kind, item, g.user)
    except documents.DocumentRefused as refused:
        if refused.not_found:
            abort(404)
        flash(str(refused), "warning")
        return redirect(url_for(f"{view.endpoint}.show", pk=pk))
    printed = documents.render_document(issued)
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
