"""Public forms: registration and the forgotten password. Rules that need the database live in
app/domain/registration/."""
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from app.core.access.auth_policy import StrongPassword, password_rule
from app.models import InstitutionType, Position

REQUIRED = DataRequired(message=_l("This field is required."))


class _Account:
    phone = StringField(_l("Mobile phone (your sign-in name)"), [REQUIRED, Length(max=20)])
    email = StringField(_l("E-mail"), [REQUIRED, Length(max=120)])
    password = PasswordField(_l("Password"), [REQUIRED, Length(max=128), StrongPassword()])
    confirm = PasswordField(_l("Repeat the password"),
                            [REQUIRED, EqualTo("password", message=_l("The passwords differ."))])


class EnterpriseRegistrationForm(_Account, FlaskForm):
    name = StringField(_l("Enterprise name"), [REQUIRED, Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), [REQUIRED, Length(max=24)])
    sme_number = StringField(_l("Tech-SME registration number"), [REQUIRED, Length(max=40)])
    region_id = SelectField(_l("Region"), [REQUIRED], coerce=int)
    zone_id = SelectField(_l("High-tech zone"), [Optional()], coerce=int)
    field_id = SelectField(_l("Technical field"), [REQUIRED], coerce=int)
    address = StringField(_l("Address"), [REQUIRED, Length(max=300)])
    contact_name = StringField(_l("Contact person"), [REQUIRED, Length(max=60)])
    license_file = FileField(_l("Business licence (PDF, JPG or PNG)"))
    sme_proof_file = FileField(_l("Tech-SME registration proof (PDF, JPG or PNG)"))
    FILES = ("license_file", "sme_proof_file")


class ResearcherRegistrationForm(_Account, FlaskForm):
    name = StringField(_l("Name"), [REQUIRED, Length(max=60)])
    institution_name = StringField(_l("Institution (dispatching unit)"), [REQUIRED, Length(max=200)])
    institution_type = SelectField(_l("Institution type"), [REQUIRED],
                                   choices=[SelectChoice(t.value, t.title) for t in InstitutionType])
    region_id = SelectField(_l("Region of the institution"), [Optional()], coerce=int)
    position = SelectField(_l("Position"), [REQUIRED], choices=[SelectChoice(p.value, p.title) for p in Position])
    title = StringField(_l("Professional title"), [Optional(), Length(max=60)])
    degree = StringField(_l("Degree"), [Optional(), Length(max=40)])
    field_ids = SelectMultipleField(_l("Technical fields"), [REQUIRED], coerce=int)
    keywords = StringField(_l("Expertise keywords (separated by spaces)"), [REQUIRED, Length(max=300)])
    expertise = TextAreaField(_l("Expertise summary"), [REQUIRED, Length(max=4000)])
    achievements = TextAreaField(_l("Achievements"), [Optional(), Length(max=4000)])
    proof_file = FileField(_l("Work certificate or student ID (PDF, JPG or PNG)"))
    willing_to_serve = BooleanField(
        _l("I am willing to provide technical services on the enterprise's production front line."))
    FILES = ("proof_file",)


class ForgotPasswordForm(FlaskForm):
    account = StringField(_l("Mobile number or e-mail address of your account"),
                          [REQUIRED, Length(max=120)],
                          render_kw={"autocomplete": "username", "autofocus": True})


def _new_password():
    """The new password and its repetition (new fields each time: WTForms orders a form's
    fields by when they were made)."""
    return (PasswordField(_l("New password"), [REQUIRED, Length(max=128), StrongPassword()],
                          description=LazyString(password_rule),
                          render_kw={"autocomplete": "new-password"}),
            PasswordField(_l("Repeat the new password"),
                          [REQUIRED, EqualTo("password", message=_l("The passwords differ."))],
                          render_kw={"autocomplete": "new-password"}))


class ResetWithCodeForm(FlaskForm):
    phone = StringField(_l("Mobile number"), [REQUIRED, Length(max=20)],
                        render_kw={"autocomplete": "username", "inputmode": "tel"})
    code = StringField(_l("Code from the SMS"),
                       [REQUIRED, Regexp(r"^\s*\d{6}\s*$",
                                         message=_l("Enter the 6 digits of the SMS."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "maxlength": 8})
    password, confirm = _new_password()


class ResetWithLinkForm(FlaskForm):
    password, confirm = _new_password()


class ObjectionForm(FlaskForm):
    """异议 against one project of an open 公示 list (the rules: app/domain/funding/publicity.py)."""
    project = SelectField(_l("Project"), [REQUIRED], choices=[])
    name = StringField(_l("Your name"), [REQUIRED, Length(max=60)])
    phone = StringField(_l("Mobile phone"), [REQUIRED, Length(max=20)],
                        description=_l("The province may call you about your objection; it is "
                                       "not published."))
    email = StringField(_l("E-mail (optional)"), [Optional(), Length(max=120)])
    content = TextAreaField(_l("What you object to, and why"), [REQUIRED, Length(max=2000)],
                            render_kw={"rows": 6})
    attachment = FileField(_l("Supporting document (optional: PDF or image)"))
