"""The public 公示 pages: every list published, and one list with its objection form (no
account needed). Thin: the rules are app/domain/funding/publicity.py; the limit per address is
app/core/access/rate_limits.py."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.core.uploads import UploadRejected, discard, store_upload
from app.domain.funding import publicity as rules
from app.extensions import db
from app.models import ProjectState, Publicity
from app.public.blueprint import bp
from app.public.forms import ObjectionForm


@bp.route("/publicity")
def publicity_list():
    publicities = rules.public_publicities()
    return render_template("public/publicity_list.html", publicities=publicities,
                           status_of=rules.status_of, title=_("Publicity of funded projects"))


def _refused(form, error):
    target = getattr(form, error.field, None) if getattr(error, "field", None) else None
    if target is not None:
        target.errors = list(target.errors) + [str(error)]
    else:
        flash(str(error), "danger")


@bp.route("/publicity/<int:publicity_id>", methods=["GET", "POST"])
def publicity_page(publicity_id):
    publicity = db.session.get(Publicity, publicity_id)
    if publicity is None:
        abort(404)
    rows = rules.public_rows(publicity)
    status = rules.status_of(publicity)
    form = ObjectionForm()
    form.project.choices = [("", _("Choose a project"))] + [
        (str(r["id"]), f'{r["number"]} {r["enterprise"]}: {r["need"]}') for r in rows
        if r["state"] is ProjectState.proposed]
    if status == "open" and form.validate_on_submit():
        stored = None
        try:
            if form.attachment.data:
                stored = store_upload(form.attachment.data)
            rules.lodge(publicity, form.project.data, form.name.data, form.phone.data,
                        form.email.data, form.content.data, stored)
            db.session.commit()
        except UploadRejected as error:
            db.session.rollback()
            form.attachment.errors = list(form.attachment.errors) + [str(error)]
        except rules.PublicityRuleError as error:
            db.session.rollback()
            discard([stored])
            _refused(form, error)
        else:
            flash(_("Your objection has been received. The province examines it and may "
                    "contact you at the number you gave."), "success")
            return redirect(url_for("public.publicity_page", publicity_id=publicity_id))
    elif request.method == "POST" and status != "open":
        flash(_("The publicity ended on %(date)s; objections are no longer accepted.",
                date=publicity.ends_on), "danger")
    failed = request.method == "POST"
    announced = rules.announcement(publicity, rows)
    title = (_("Announcement of funded projects") + " · " + publicity.title
             if announced else publicity.title)
    return render_template("public/publicity.html", publicity=publicity, rows=rows,
                           status=status, form=form, title=title, announced=announced,
                           ProjectState=ProjectState), (400 if failed else 200)
