"""The notification outbox: rows added in the caller's transaction, sent by a job after commit."""
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.access import jurisdiction
from app.core.notifications.delivery import enqueue_send, link
from app.extensions import db
from app.models import AppUser, Channel, Notification, Proposal
from app.models.enums import state_title

SUBJECT_NAMES = {
    "enterprises": lambda: _("enterprise registration"),
    "researchers": lambda: _("researcher registration"),
    "needs": lambda: _("technical need"),
    "proposals": lambda: _("proposal"),
    "contracts": lambda: _("contract"),
    "projects": lambda: _("project"),
    "objections": lambda: _("objection"),
    "payments": lambda: _("subsidy payment"),
}


def owner_users(obj):
    """The participant accounts ``obj`` belongs to (its enterprise's, its researcher's)."""
    model = type(obj)
    # A record of no party (an objection) has no owners to tell.
    keys = model.jurisdiction_keys() if hasattr(model, "jurisdiction_keys") else {}
    users = []
    for key, column in (("enterprise", AppUser.enterprise_id), ("researcher", AppUser.researcher_id)):
        if key not in keys:
            continue
        owner_id = db.session.execute(select(keys[key]).where(model.id == obj.id)).scalar()
        if owner_id is not None:
            users += db.session.scalars(select(AppUser).where(column == owner_id)).all()
    return users


def notify(user, template: str, payload: dict, event_key: str, channels=None):
    """Add one outbox row per channel for ``user``; the send job is queued after commit.

    Idempotent per (event, user, channel): a second call with the same ``event_key`` adds nothing.
    Does not flush or commit.
    """
    channels = channels or [Channel.site] + ([Channel.email] if user.email else [])
    created = []
    for channel in channels:
        key = f"{event_key}:user{user.id}:{channel.value}"
        exists = db.session.execute(
            select(Notification.id).where(Notification.idempotency_key == key)
        ).first()
        if exists:
            continue
        row = Notification(user_id=user.id, channel=channel, template=template,
                           payload=payload, idempotency_key=key)
        db.session.add(row)
        created.append(row)
    if created:
        db.session.flush()
        for row in created:
            enqueue_send(row.id)
    return created


def notify_owners(obj, actor, template, payload, event_key):
    """Tell the participant accounts owning ``obj`` (other than the actor) about an event."""
    for user in owner_users(obj):
        if actor is not None and user.id == getattr(actor, "id", None):
            continue
        notify(user, template, payload, event_key)


def notify_staff(obj, roles, event_key: str, state=None, name=None):
    """Tell the staff a record's new state waits on: the users of ``roles`` whose jurisdiction
    holds ``obj`` get an in-site message ("work.<table>.<state>"), and an e-mail at once if they
    chose so (``AppUser.work_email``: the others get it in their daily digest, or never).
    Idempotent per event, like ``notify``. Flushes, no commit."""
    state = state or obj.state.value
    payload = {"subject_id": obj.id, "state": state, "name": name or _record_name(obj)}
    for role in sorted(roles):
        for user in jurisdiction.staff_of(db.session, obj, role):
            channels = [Channel.site] + (
                [Channel.email] if user.work_email == "immediate" and user.email else [])
            notify(user, f"work.{type(obj).__tablename__}.{state}", payload, event_key,
                   channels=channels)


def _record_name(obj) -> str:
    """How a staff message names the record: its name, title or number."""
    for attribute in ("name", "title", "number"):
        value = getattr(obj, attribute, None)
        if value:
            return str(value)[:120]
    need = getattr(obj, "need", None)
    return str(getattr(need, "title", "") or f"#{obj.id}")[:120]


# The staff messages of work waiting for them, by (table, state): what waits, and for what.
WORK = {
    ("enterprises", "submitted"): lambda: _("A registration waits for your verification: "
                                            "%(name)s"),
    ("researchers", "submitted"): lambda: _("A researcher waits to be vetted: %(name)s"),
    ("needs", "submitted"): lambda: _("A need waits for your recommendation: %(name)s"),
    ("needs", "recommended"): lambda: _("A recommended need waits for publication: %(name)s"),
    ("contracts", "submitted"): lambda: _("A contract waits for approval (立项): %(name)s"),
    ("projects", "reported"): lambda: _("A summary report was submitted: %(name)s"),
    ("projects", "accepted"): lambda: _("A project was self-accepted and waits for its "
                                        "evaluation: %(name)s"),
    ("objections", "lodged"): lambda: _("An objection to the publicity of project %(name)s "
                                        "waits for your decision"),
    ("notifications", "failed"): lambda: _("A notification could not be delivered: %(name)s"),
    ("audit_checks", "broken"): lambda: _("The audit log's hash chain is broken at link "
                                          "%(name)s: see the audit log"),
}


def _render_work(notification, payload) -> tuple[str, str]:
    _work, table, state = (notification.template.split(".") + ["", ""])[:3]
    phrase = WORK.get((table, state))
    subject = (phrase() if phrase else _("Work waits for you: %(name)s")) % {
        "name": payload.get("name", "")}
    body = subject
    if notification.token:
        body += "\n\n" + _("Details: %(link)s", link=link(notification))
    return str(subject), str(body)


def _render_work_digest(notification, payload) -> tuple[str, str]:
    subject = _("%(count)d items wait for you on the platform", count=payload.get("count", 0))
    lines = [f"- {line}" for line in payload.get("lines", [])]
    body = "\n".join([str(subject), *lines, "", str(_("Sign in: your desk lists them all."))])
    return str(subject), body


def _render_digest(notification, payload) -> tuple[str, str]:
    count = payload.get("count", 0)
    if payload.get("side") == "researcher":
        subject = _("%(count)d technical needs are recommended to you", count=count)
    else:
        subject = _("%(count)d researchers are recommended for your technical needs", count=count)
    body = subject + "\n" + _("Sign in and open “Recommended for me” to see why.")
    if notification.token:
        body += "\n\n" + _("Details: %(link)s", link=link(notification))
    return str(subject), str(body)


def _render_message(notification, payload) -> tuple[str, str]:
    subject = _("New message about “%(title)s”", title=payload.get("need_title", ""))
    body = subject + "\n\n" + payload.get("excerpt", "")
    if notification.token:
        body += "\n\n" + _("Reply: %(link)s", link=link(notification))
    return str(subject), str(body)


def _proposal_subject(notification, payload):
    """A proposal's news reads differently for its researcher and for the need's enterprise."""
    proposal = db.session.get(Proposal, payload.get("subject_id"))
    if proposal is None:
        return None
    state = state_title("proposals", payload.get("state"))
    if notification.user.researcher_id == proposal.researcher_id:
        return _("Your proposal to “%(title)s” is now “%(state)s”", title=proposal.need.title,
                 state=state)
    return _("A proposal to your need “%(title)s” is now “%(state)s”", title=proposal.need.title,
             state=state)


def _render_report_reminder(notification, payload) -> tuple[str, str]:
    days = payload.get("days", 0)
    if days:
        subject = _("Project %(number)s: summary report and self-acceptance due in %(days)d "
                    "day(s), by %(deadline)s", number=payload.get("number", ""), days=days,
                    deadline=payload.get("deadline", ""))
    else:
        subject = _("Project %(number)s: summary report and self-acceptance due today",
                    number=payload.get("number", ""))
    body = subject + "\n" + _("The enterprise submits the summary report, the researcher "
                               "co-signs it, then the enterprise records the self-acceptance.")
    if notification.token:
        body += "\n\n" + _("Details: %(link)s", link=link(notification))
    return str(subject), str(body)


def _render_publicity_listed(notification, payload) -> tuple[str, str]:
    subject = _("Project %(number)s is on the publicity list until %(ends_on)s",
                number=payload.get("number", ""), ends_on=payload.get("ends_on", ""))
    body = "\n".join([str(subject), _(
        "The list “%(title)s” is on the platform's public site from %(starts_on)s to "
        "%(ends_on)s; anyone may object to a project on it until then. The funding becomes "
        "final once the publicity is over and any objection decided.",
        title=payload.get("title", ""), starts_on=payload.get("starts_on", ""),
        ends_on=payload.get("ends_on", ""))])
    if notification.token:
        body += "\n\n" + _("Details: %(link)s", link=link(notification))
    return str(subject), str(body)


def _render_progress_reminder(notification, payload) -> tuple[str, str]:
    """A milestone due soon (both parties), or a service entry waiting for the enterprise."""
    if notification.template == "milestones.reminder":
        subject = _("Project %(number)s: the milestone “%(title)s” is due in %(days)d day(s), "
                    "on %(date)s", number=payload.get("number", ""),
                    title=payload.get("title", ""), days=payload.get("days", 0),
                    date=payload.get("due_on", ""))
    else:
        subject = _("Project %(number)s: the researcher's service entry of %(date)s waits for "
                    "your confirmation", number=payload.get("number", ""),
                    date=payload.get("starts_on", ""))
    body = str(subject)
    if notification.token:
        body += "\n\n" + _("Details: %(link)s", link=link(notification))
    return str(subject), body


def _render_repeated_registration(notification, payload) -> tuple[str, str]:
    subject = _("Someone tried to register again with your account's details")
    body = subject + "\n" + _("If it was you: you already have an account; sign in with your "
                               "mobile number, or ask the platform's support to reset your "
                               "password. If it was not you, nothing changed in your account.")
    return str(subject), str(body)


def _render_password_reset(notification, payload) -> tuple[str, str]:
    """The code (SMS: the subject is the text) or the link (e-mail) of a forgotten password.
    Once the row was sent or given up, its secret is gone (``delivery.forget_secret``)."""
    secret, minutes = payload.get("secret"), payload.get("minutes", 10)
    if not secret:
        subject = _("This password reset message is no longer valid: ask for a new code or "
                    "link on the sign-in page.")
        return str(subject), str(subject)
    if notification.template == "password_reset.code":
        subject = _("Password reset code: %(code)s, valid %(minutes)d minutes. Not you? Ignore "
                    "this.", code=secret, minutes=minutes)
        return str(subject), str(subject)
    subject = _("Reset your password")
    body = "\n\n".join([
        _("Someone, we hope you, asked to reset the password of your account on the platform. "
          "Open this link within %(minutes)d minutes to choose a new password:",
          minutes=minutes),
        secret,
        _("The link works once. If you did not ask for it, ignore this e-mail: your password "
          "stays as it is."),
    ])
    return str(subject), str(body)


def render(notification, locale: str | None = None) -> tuple[str, str]:
    """Subject and body of a notification in ``locale``, by default its recipient's language
    (an e-mail); the inbox renders it at read time in the reader's current language."""
    payload = notification.payload or {}
    table = notification.template.split(".")[0]
    with force_locale(locale or notification.user.locale or "zh"):
        if notification.template.startswith("match.digest"):
            return _render_digest(notification, payload)
        if notification.template == "messages.new":
            return _render_message(notification, payload)
        if notification.template == "projects.report_reminder":
            return _render_report_reminder(notification, payload)
        if notification.template.startswith("password_reset."):
            return _render_password_reset(notification, payload)
        if notification.template in ("milestones.reminder", "service_logs.reminder"):
            return _render_progress_reminder(notification, payload)
        if notification.template == "publicity.listed":
            return _render_publicity_listed(notification, payload)
        if notification.template == "registration.repeated":
            return _render_repeated_registration(notification, payload)
        if notification.template == "work.digest":
            return _render_work_digest(notification, payload)
        if notification.template.startswith("work."):
            return _render_work(notification, payload)
        subject = _proposal_subject(notification, payload) if table == "proposals" else None
        if subject is None:
            noun = SUBJECT_NAMES.get(table, lambda: table)()
            subject = _("Your %(noun)s #%(id)s is now “%(state)s”", noun=noun,
                        id=payload.get("subject_id"),
                        state=state_title(table, payload.get("state")))
        body = subject
        if payload.get("opinion"):
            body += "\n" + _("Opinion: %(opinion)s", opinion=payload["opinion"])
        if notification.token:
            body += "\n\n" + _("Details: %(link)s", link=link(notification))
        return str(subject), str(body)
