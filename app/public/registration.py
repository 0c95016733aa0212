"""Public registration pages. Thin: the form, the workflow call, one commit."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from app.core.uploads import UploadRejected, check_upload, discard, store_upload
from app.domain.registration.accounts import (
    AlreadyRegistered,
    RegistrationError,
    register_enterprise,
    register_researcher,
    tell_owner,
)
from app.extensions import db
from app.models import HighTechZone, Region, TechField
from app.public.blueprint import bp
from app.public.forms import EnterpriseRegistrationForm, ResearcherRegistrationForm


def _regions():
    return db.session.scalars(select(Region).order_by(Region.sort_order)).all()


def _fields():
    return db.session.scalars(select(TechField).order_by(TechField.code)).all()


def _field_choices():
    return [SelectChoice(f.id, f"{f.domain.label} / {f.label}") for f in _fields()]


def _fill_enterprise_choices(form):
    form.region_id.choices = [SelectChoice(r.id, r.label) for r in _regions()]
    zones = db.session.scalars(select(HighTechZone).order_by(HighTechZone.code)).all()
    # The page shows only the chosen region's zones (data-region); the workflow re-checks.
    form.zone_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(z.id, z.label, render_kw={"data-region": str(z.region_id)}) for z in zones]
    form.field_id.choices = _field_choices()


def _fill_researcher_choices(form):
    form.region_id.choices = [SelectChoice(0, _("Not in Hubei / not stated"))] + [
        SelectChoice(r.id, r.label) for r in _regions()]
    form.field_ids.choices = _field_choices()


def _save_uploads(form):
    """Check every file before writing any; return the stored names."""
    for name in form.FILES:
        storage = form[name].data
        if not storage or not getattr(storage, "filename", ""):
            raise RegistrationError(_("Please attach this proof document."), name)
        try:
            check_upload(storage)
        except UploadRejected as err:
            raise RegistrationError(str(err), name) from None
    return {name: store_upload(form[name].data) for name in form.FILES}


def _register(form, create):
    """Run ``create(files)``; on any refusal roll back and delete the saved files."""
    files = {}
    try:
        files = _save_uploads(form)
        create(files)
        db.session.commit()
        return True
    except AlreadyRegistered as refusal:
        # Answered as a new registration is; the number's or address's owner is told.
        db.session.rollback()
        discard(files.values())
        tell_owner(refusal)
        db.session.commit()
        return True
    except RegistrationError as err:
        db.session.rollback()
        discard(files.values())
        target = getattr(form, err.field, None) if err.field else None
        if target is not None:
            target.errors = list(target.errors) + [str(err)]
        else:
            flash(str(err), "danger")
    except IntegrityError:
        # Two registrations with the same data at the same moment: the database decides.
        db.session.rollback()
        discard(files.values())
        flash(_("This credit code, mobile number or e-mail address is already registered."),
              "danger")
    except Exception:
        # Anything else (the database connection lost mid-request): leave no orphan files;
        # app/core/outages.py answers the person.
        discard(files.values())
        raise
    return False


@bp.route("/register")
def register():
    return render_template("public/register_choice.html")


def _registration_page(form, create, done_message, title):
    """GET shows the form; a valid POST registers, then sends the applicant to sign in."""
    if form.validate_on_submit() and _register(form, lambda files: create(form, files)):
        flash(done_message, "success")
        return redirect(url_for("AuthDBView.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("public/register_form.html", form=form, title=title), status


def _create_enterprise(form, files):
    return register_enterprise(dict(form.data, zone_id=form.zone_id.data or None), files)


def _create_researcher(form, files):
    fields = [f for f in _fields() if f.id in set(form.field_ids.data)]
    return register_researcher(dict(form.data, region_id=form.region_id.data or None), files,
                               fields)


@bp.route("/register/enterprise", methods=["GET", "POST"])
def register_enterprise_page():
    form = EnterpriseRegistrationForm()
    _fill_enterprise_choices(form)
    return _registration_page(
        form, _create_enterprise,
        _("Your registration has been submitted to the science bureau of your region. "
          "Sign in with your mobile number to follow it."), _("Enterprise registration"))


@bp.route("/register/researcher", methods=["GET", "POST"])
def register_researcher_page():
    form = ResearcherRegistrationForm()
    _fill_researcher_choices(form)
    return _registration_page(
        form, _create_researcher,
        _("Your registration has been submitted to the platform for vetting. "
          "Sign in with your mobile number to follow it."), _("Researcher registration"))
