"""Registration of enterprises and researchers (notice §一(三)1, §二), and its rules.

Accounts can sign in at once but see only their own profile; an enterprise files needs once
verified (need_filing.py), a researcher is matched once approved (入库).
"""
import re
import uuid

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from stdnum.cn import uscc
from werkzeug.security import generate_password_hash

from app.core import audit
from app.core.access.auth_policy import password_is_strong, password_rule
from app.core.notifications.outbox import notify, notify_staff
from app.domain.registration.whitelist import status_for
from app.extensions import db
from app.models import (
    Action,
    AppUser,
    Channel,
    Enterprise,
    EnterpriseState,
    HighTechZone,
    Institution,
    InstitutionType,
    Position,
    Researcher,
    ResearcherState,
)
from app.workflows.engine import apply_action
from app.workflows.errors import RuleViolation

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EDITABLE_ENTERPRISE = (EnterpriseState.draft, EnterpriseState.returned)
EDITABLE_RESEARCHER = (ResearcherState.returned,)


class RegistrationError(RuleViolation):
    """``field`` names the form field the message belongs to (or None)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def clean_credit_code(value: str) -> str:
    """统一社会信用代码, upper-cased, with its check character verified (GB 32100-2015)."""
    try:
        return uscc.validate(value or "")
    except Exception:
        raise RegistrationError(_("This is not a valid unified social credit code (18 characters "
                                  "with a correct check character)."), "credit_code") from None


def clean_mobile(value: str, field="phone") -> str:
    value = re.sub(r"[\s-]", "", value or "").removeprefix("+86")
    if not MOBILE.match(value):
        raise RegistrationError(_("Please enter an 11-digit mainland mobile number."), field)
    return value


def clean_email(value: str, field="email") -> str:
    try:
        return validate_email(value or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise RegistrationError(_("Please enter a valid e-mail address."), field) from None


def check_eligibility(institution_type: InstitutionType, position: Position):
    """Notice §二(一): staff researchers, postdocs and full-time PhD students of universities,
    state-run research institutes, provincial-or-higher labs, or recognised new R&D institutions."""
    if not InstitutionType(institution_type).eligible:
        raise RegistrationError(
            _("Researchers of “%(type)s” cannot register: the notice admits universities, state-run "
              "research institutes, provincial or higher laboratories and recognised new R&D "
              "institutions.", type=InstitutionType(institution_type).title), "institution_type")
    if Position(position) not in Position:
        raise RegistrationError(_("Unknown position."), "position")


class AlreadyRegistered(RegistrationError):
    """The mobile number or e-mail address is already an account's. The applicant is told no
    more than a new applicant is, as the sign-in tells nothing of which numbers exist; the
    account's owner is told on that number or address instead (``tell_owner``)."""

    def __init__(self, owner, channel):
        super().__init__(_("Already registered."))
        self.owner, self.channel = owner, channel


def _ensure_unique(phone, email, credit_code=None):
    """Refuse a credit code that is registered (public business data: the enterprise must
    know, and ask its bureau); raise ``AlreadyRegistered`` for a number or address that is."""
    if credit_code and db.session.scalar(
            select(func.count()).where(Enterprise.credit_code == credit_code)):
        raise RegistrationError(_("An enterprise with this credit code is already registered."),
                                "credit_code")
    for channel, value, columns in (
            (Channel.sms, phone, (AppUser.username, AppUser.phone, Enterprise.phone,
                                  Researcher.phone)),
            (Channel.email, email, (AppUser.email, Enterprise.email, Researcher.email))):
        if any(db.session.scalar(select(func.count()).where(func.lower(column) == value))
               for column in columns):
            column = AppUser.phone if channel is Channel.sms else AppUser.email
            owner = db.session.scalars(select(AppUser).where(or_(
                func.lower(column) == value, AppUser.username == value))).first()
            raise AlreadyRegistered(owner, channel)


def tell_owner(refusal: AlreadyRegistered) -> None:
    """Write to the outbox of the account whose number or address an applicant gave: someone
    tried to register with it (if it was its owner: sign in, or reset the password). The per-
    phone SMS limit keeps a flood of attempts from flooding the phone. Flushes, no commit."""
    if refusal.owner is not None:
        notify(refusal.owner, "registration.repeated", {},
               event_key=f"registration-repeated:{uuid.uuid4().hex}", channels=[refusal.channel])


def _check_password(password):
    if not password_is_strong(password):
        raise RegistrationError(password_rule(), "password")


def _new_account(role_name, name, phone, email, password, **links):
    """The sign-in account: the mobile number is the user name."""
    sm = current_app.appbuilder.sm
    _check_password(password)
    user = AppUser(
        first_name=name[:64], last_name="", username=phone, email=email, phone=phone, active=True,
        roles=[sm.find_role(role_name)],
        password=generate_password_hash(
            password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")),
        **links)
    db.session.add(user)
    return user


def register_enterprise(data: dict, files: dict) -> Enterprise:
    """Create the enterprise (submitted, whitelist checked) and its account; flush, no commit.

    ``data`` holds the form values, ``files`` the stored upload names. Raises
    RegistrationError before anything is added to the session.
    """
    credit_code = clean_credit_code(data["credit_code"])
    phone, email = clean_mobile(data["phone"]), clean_email(data["email"])
    _check_password(data["password"])
    zone = db.session.get(HighTechZone, data["zone_id"]) if data.get("zone_id") else None
    check_zone_in_region(zone, int(data["region_id"]))
    # Last of the checks: an applicant whose other answers are wrong hears about those, as a
    # new applicant would, before the number's owner is told of anything.
    _ensure_unique(phone, email, credit_code)
    enterprise = Enterprise(
        name=data["name"].strip(), credit_code=credit_code, sme_number=data["sme_number"].strip(),
        region_id=int(data["region_id"]), zone=zone, field_id=data.get("field_id") or None,
        address=data.get("address", "").strip(), contact_name=data["contact_name"].strip(),
        phone=phone, email=email, license_file=files.get("license_file"),
        sme_proof_file=files.get("sme_proof_file"), state=EnterpriseState.draft)
    enterprise.whitelist_status = status_for(enterprise)
    db.session.add(enterprise)
    db.session.flush()
    user = _new_account("Enterprise", enterprise.contact_name, phone, email, data["password"],
                        enterprise_id=enterprise.id)
    db.session.flush()
    apply_action(enterprise, Action.submit, user)
    return enterprise


def _institution(data) -> Institution:
    name = data["institution_name"].strip()
    found = db.session.scalars(select(Institution).where(Institution.name == name)).first()
    if found is not None:
        return found
    institution = Institution(name=name, type=InstitutionType(data["institution_type"]),
                              region_id=data.get("region_id") or None)
    db.session.add(institution)
    return institution


def register_researcher(data: dict, files: dict, fields: list) -> Researcher:
    """Create the researcher (submitted, awaiting the platform's vetting) and the account.

    The institution is found by name or created with the type given. Flushes, no commit.
    """
    phone, email = clean_mobile(data["phone"]), clean_email(data["email"])
    if not data.get("willing_to_serve"):
        raise RegistrationError(_("Please confirm that you are willing to serve on the "
                                  "enterprise's front line."), "willing_to_serve")
    if not fields:
        raise RegistrationError(_("Please choose at least one technical field."), "field_ids")
    with db.session.no_autoflush:
        existing = db.session.scalars(select(Institution).where(
            Institution.name == data["institution_name"].strip())).first()
    institution_type = existing.type if existing else InstitutionType(data["institution_type"])
    check_eligibility(institution_type, data["position"])
    _check_password(data["password"])
    _ensure_unique(phone, email)
    researcher = Researcher(
        name=data["name"].strip(), institution=_institution(data), position=Position(data["position"]),
        title=data.get("title", "").strip(), degree=data.get("degree", "").strip(), fields=fields,
        keywords=data.get("keywords", "").strip(), expertise=data.get("expertise", "").strip(),
        achievements=data.get("achievements", "").strip(), phone=phone, email=email,
        proof_file=files.get("proof_file"), willing_to_serve=True, state=ResearcherState.submitted)
    db.session.add(researcher)
    db.session.flush()
    user = _new_account("Researcher", researcher.name, phone, email, data["password"],
                        researcher_id=researcher.id)
    db.session.flush()
    audit.record("researchers.register", researcher, after={"state": "submitted"}, actor=user)
    # Registered straight into "submitted" (no transition): the platform hears of it here.
    notify_staff(researcher, ("Platform",), event_key=f"researchers.register:{researcher.id}")
    return researcher


def check_zone_in_region(zone, region_id):
    if zone is not None and zone.region_id != region_id:
        raise RegistrationError(_("The high-tech zone does not lie in the chosen region."),
                                "zone_id")


def check_profile_editable(record):
    """An applicant corrects a registration while it is a draft or returned, then resubmits."""
    editable = EDITABLE_ENTERPRISE if isinstance(record, Enterprise) else EDITABLE_RESEARCHER
    if record.state not in editable:
        raise RegistrationError(_("A registration can only be changed while it is a draft or "
                                  "returned; ask the platform if something must be corrected."))


def recheck_whitelist(enterprise):
    """Called when an applicant edits the registration number or name."""
    enterprise.whitelist_status = status_for(enterprise)
    return enterprise.whitelist_status


__all__ = ["RegistrationError", "register_enterprise", "register_researcher", "check_eligibility",
           "check_profile_editable", "check_zone_in_region", "recheck_whitelist",
           "clean_credit_code"]
