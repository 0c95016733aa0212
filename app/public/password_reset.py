"""The forgotten password's pages. Thin: the form, the rule's call, one commit.

The rules (who gets a code, its life, tries and use) are app/domain/registration/
password_reset.py; the limits per number, address and client are app/core/access/rate_limits.py.
"""
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.domain.registration import password_reset
from app.domain.registration.accounts import RegistrationError
from app.extensions import db
from app.models import Channel
from app.public.blueprint import bp
from app.public.forms import ForgotPasswordForm, ResetWithCodeForm, ResetWithLinkForm

# The number last asked for, to fill in the code page (a convenience, never a proof).
PHONE_KEY = "password_reset_phone"


def _page(form, title, intro, submit, status=200, action=""):
    return render_template("public/password_reset.html", form=form, title=title, intro=intro,
                           submit=submit, action=action), status


def _refused(form, error: RegistrationError):
    """Put a refusal beside its field (or above the form); keep what was typed."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = list(target.errors) + [str(error)]
    else:
        flash(str(error), "danger")


@bp.route("/reset-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            kind = password_reset.request_reset(form.account.data)
        except RegistrationError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            db.session.commit()
            # The same words whether or not an account has the number or address.
            if kind is Channel.sms:
                session[PHONE_KEY] = form.account.data.strip()
                flash(_("If an account has this mobile number, a code has been sent to it by "
                        "SMS. Enter it below within %(minutes)d minutes.",
                        minutes=password_reset.minutes()), "info")
                return redirect(url_for("public.reset_password_with_code"))
            flash(_("If an account has this e-mail address, a link to reset the password has "
                    "been sent to it. It works within %(minutes)d minutes.",
                    minutes=password_reset.minutes()), "info")
            return redirect(url_for("public.forgot_password"))
    return _page(form, _("Forgotten password"),
                 _("Enter the mobile number you sign in with, or the e-mail address of your "
                   "account. We send a code by SMS, or a link by e-mail."),
                 _("Send the code or link"), 400 if request.method == "POST" else 200)


def _done():
    session.pop(PHONE_KEY, None)
    flash(_("Your password has been changed. Sign in with the new password."), "success")
    return redirect(url_for("AuthDBView.login"))


@bp.route("/reset-password/code", methods=["GET", "POST"])
def reset_password_with_code():
    form = ResetWithCodeForm()
    if request.method == "GET" and not form.phone.data:
        form.phone.data = session.get(PHONE_KEY, "")
    if form.validate_on_submit():
        try:
            password_reset.reset_with_code(form.phone.data, form.code.data, form.password.data)
        except password_reset.PasswordResetError as error:
            if error.counted:
                db.session.commit()  # the wrong code stays counted
            else:
                db.session.rollback()
            _refused(form, error)
        except RegistrationError as error:  # not a mobile number
            db.session.rollback()
            _refused(form, error)
        else:
            db.session.commit()
            return _done()
    return _page(form, _("Reset the password"),
                 _("Enter the code of the SMS and choose a new password."),
                 _("Change the password"), 400 if request.method == "POST" else 200)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password_with_link(token):
    if password_reset.find_link(token) is None:
        flash(password_reset.link_is_dead(), "danger")
        return _page(ForgotPasswordForm(formdata=None), _("Forgotten password"), None,
                     _("Send the code or link"), 404,
                     action=url_for("public.forgot_password"))
    form = ResetWithLinkForm()
    if form.validate_on_submit():
        try:
            password_reset.reset_with_link(token, form.password.data)
        except RegistrationError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            db.session.commit()
            return _done()
    return _page(form, _("Reset the password"), _("Choose a new password for your account."),
                 _("Change the password"), 400 if request.method == "POST" else 200)
