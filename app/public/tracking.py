"""The link in every e-mail and SMS: ``/n/<token>`` records the first opening and redirects.

Open to anonymous visitors (a phone's browser is rarely signed in): it reveals nothing but the
address of the record's page, which asks for a login as usual.
"""
from flask import abort, redirect

from app.core.notifications.delivery import open_link
from app.extensions import db
from app.public.blueprint import bp


@bp.route("/n/<token>")
def open_notification(token):
    target = open_link(db.session, token)
    if target is None:
        abort(404)
    return redirect(target)
