"""Public registration pages. Thin: the form, the workflow call, one commit."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from app.core.documents import original_name
from app.core.uploads import (
    UploadRejected,
    claim_held,
    discard,
    hold_again,
    hold_upload,
    is_held,
)
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


HELD_KEY = "held_uploads"


def _hold_uploads(form) -> dict:
    """Each proof document of the form, newly chosen or held from an earlier refused submit:
    ``{field name: held name}``. A missing or refused file is an error beside its field; the
    others are kept aside, so the applicant never chooses them again."""
    mine = set(session.get(HELD_KEY, []))
    held = {}
    for name in form.FILES:
        storage = form[name].data
        if storage and getattr(storage, "filename", ""):
            try:
                held[name] = hold_upload(storage)
                mine.add(held[name])
            except UploadRejected as err:
                form[name].errors = list(form[name].errors) + [str(err)]
            continue
        earlier = request.form.get(f"{name}__held", "")
        if earlier in mine and is_held(earlier):
            held[name] = earlier
        else:
            form[name].errors = list(form[name].errors) + [_("Please attach this proof document.")]
    session[HELD_KEY] = sorted(mine)[-10:]
    return held


def _register(form, create, held):
    """Run ``create(files)``; on any refusal roll back and put the files aside again."""
    files = {}
    try:
        files = {name: claim_held(stored) for name, stored in held.items()}
        create(files)
        db.session.commit()
        session[HELD_KEY] = [n for n in session.get(HELD_KEY, []) if n not in files.values()]
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
        hold_again(files.values())
        target = getattr(form, err.field, None) if err.field else None
        if target is not None:
            target.errors = list(target.errors) + [str(err)]
        else:
            flash(str(err), "danger")
    except IntegrityError:
        # Two registrations with the same data at the same moment: the database decides.
        db.session.rollback()
        hold_again(files.values())
        flash(_("This credit code, mobile number or e-mail address is already registered."),
              "danger")
    except Exception:
        # Anything else (the database connection lost mid-request): the files stay aside for
        # a retry; app/core/outages.py answers the person.
        hold_again(files.values())
        raise
    return False


@bp.route("/register")
def register():
    return render_template("public/register_choice.html")


def _registration_page(form, create, done_message, title):
    """GET shows the form; a valid POST registers, then sends the applicant to sign in."""
    held = {}
    if form.is_submitted():
        # Every error at once: the fields' own rules, then the files beside theirs.
        valid = form.validate()
        held = _hold_uploads(form)
        if valid and len(held) == len(form.FILES) and _register(
                form, lambda files: create(form, files), held):
            flash(done_message, "success")
            return redirect(url_for("AuthDBView.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("public/register_form.html", form=form, title=title, held=held,
                           held_names={k: original_name(v) for k, v in held.items()}), status


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
