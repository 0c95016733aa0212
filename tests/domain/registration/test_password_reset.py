"""Forgotten passwords over HTTP: a code by SMS, a link by e-mail, both through the outbox and a
real worker (Redis, an SMS gateway and an SMTP server on loopback); the neutral answer, the
hashed secret, its life, tries and single use, the limits, and the password rule."""
import datetime as dt
import email
import email.policy
import hashlib
import re

import pytest
from helpers import login, work
from sqlalchemy import func, select

from app.models import (
    AppUser,
    AuditLog,
    Channel,
    Notification,
    NotificationState,
    PasswordReset,
)
from app.utils import clock

NEW = "Hankou-Road-2026"
OLD = "pw-Test-123456"
PHONE = "13800002222"


@pytest.fixture()
def english(client):
    """Pages in English, whatever the catalogs say (the lead translates after merging)."""
    client.get("/language/en")
    return client


@pytest.fixture()
def phone_user(make):
    return make.user("Enterprise", PHONE, phone=PHONE)


def _outbox(db_session, user, template="password_reset.code"):
    db_session.expire_all()
    return db_session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.template == template)
        .order_by(Notification.id)).all()


def _resets(db_session, user):
    db_session.expire_all()
    return db_session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id)
                              .order_by(PasswordReset.id)).all()


def _ask(client, account, **kw):
    return client.post("/reset-password", data={"account": account}, **kw)


def _code(db_session, user):
    """The code of the user's newest SMS, read from its outbox row before the worker sends it."""
    row = _outbox(db_session, user)[-1]
    assert re.fullmatch(r"\d{6}", row.payload["secret"])
    return row.payload["secret"]


def _reset(client, code, password=NEW, confirm=None, phone=PHONE, **kw):
    return client.post("/reset-password/code", data={
        "phone": phone, "code": code, "password": password,
        "confirm": password if confirm is None else confirm}, **kw)


def _signs_in(client, username, password):
    client.get("/logout/")
    response = client.post("/login/", data={"username": username, "password": password})
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def _audit(db_session, action, user):
    return db_session.scalars(select(AuditLog).where(AuditLog.action == action,
                                                     AuditLog.subject_id == user.id)).all()


def test_the_sign_in_page_links_to_the_reset(client):
    page = client.get("/login/").get_data(as_text=True)
    assert 'href="/reset-password"' in page
    assert client.get("/reset-password").status_code == 200


def test_full_reset_by_sms(app, english, make, db_session, phone_user, async_queue, sms_gateway):
    client = english
    other = app.test_client()  # the account is also signed in elsewhere
    login(other, PHONE)
    assert other.get("/needmodelview/list/").status_code == 200
    phone_user.fail_login_count, phone_user.locked_until = 3, None
    db_session.commit()
    epoch = phone_user.session_epoch

    response = _ask(client, "138 0000 2222")
    assert response.status_code == 302 and response.headers["Location"] == "/reset-password/code"
    page = client.get("/reset-password/code").get_data(as_text=True)
    assert "If an account has this mobile number" in page
    assert 'value="138 0000 2222"' in page  # filled in from the request

    (row,) = _outbox(db_session, phone_user)
    assert row.channel is Channel.sms and row.state is NotificationState.pending  # not sent yet
    code = _code(db_session, phone_user)
    work(app, async_queue)
    (sent,) = sms_gateway.accepted
    assert sent["phone"] == PHONE and code in sent["text"]
    (row,) = _outbox(db_session, phone_user)
    assert row.state is NotificationState.sent and "secret" not in row.payload  # forgotten

    response = _reset(client, code)
    assert response.status_code == 302 and response.headers["Location"] == "/login/"
    assert "Your password has been changed" in client.get("/login/").get_data(as_text=True)
    assert not _signs_in(client, PHONE, OLD)
    assert _signs_in(client, PHONE, NEW)
    db_session.expire_all()
    user = db_session.get(AppUser, phone_user.id)
    assert user.session_epoch > epoch
    assert other.get("/needmodelview/list/").status_code == 302  # the other session ended
    assert _audit(db_session, "password.reset", user)
    assert _audit(db_session, "password.reset_request", user)


def test_lockout_is_lifted_by_a_reset(app, english, make, db_session, phone_user, async_queue):
    phone_user.fail_login_count = 5
    phone_user.locked_until = clock.utcnow() \
        + dt.timedelta(minutes=30)
    db_session.commit()
    _ask(english, PHONE)
    code = _code(db_session, phone_user)
    assert _reset(english, code).status_code == 302
    db_session.expire_all()
    user = db_session.get(AppUser, phone_user.id)
    assert user.locked_until is None and not user.fail_login_count
    assert _signs_in(english, PHONE, NEW)


def test_full_reset_by_email_link(app, english, make, db_session, smtp, async_queue):
    user = make.user("Researcher", "13800003333", phone="13800003333")
    user.email = "Li.Ming@Campus.example.cn"
    db_session.commit()
    response = _ask(english, "li.ming@campus.example.cn")
    assert response.status_code == 302 and response.headers["Location"] == "/reset-password"
    assert "If an account has this e-mail address" in english.get(
        "/reset-password").get_data(as_text=True)
    work(app, async_queue)
    (message,) = smtp.messages
    assert message.rcpt_tos == ["Li.Ming@Campus.example.cn"]
    body = email.message_from_bytes(message.content, policy=email.policy.default) \
        .get_body().get_content()
    link = re.search(r"(http://127\.0\.0\.1:5000/reset-password/([\w-]+))", body)
    assert link, body
    path, token = link.group(1)[len("http://127.0.0.1:5000"):], link.group(2)
    (reset,) = _resets(db_session, user)
    assert reset.channel is Channel.email and token not in reset.secret_hash
    (row,) = _outbox(db_session, user, "password_reset.link")
    assert "secret" not in row.payload

    assert english.get(path).status_code == 200
    weak = english.post(path, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 400 and "at least 10 characters" in weak.get_data(as_text=True)
    response = english.post(path, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/login/"
    assert _signs_in(english, "13800003333", NEW)
    # Single use: the link is dead now.
    again = english.get(path)
    assert again.status_code == 404 and "no longer valid" in again.get_data(as_text=True)
    assert english.post(path, data={"password": "Other-Pass-2027",
                                    "confirm": "Other-Pass-2027"}).status_code == 404
    assert english.get("/reset-password/not-a-real-token").status_code == 404


@pytest.mark.parametrize("known,unknown", [
    (PHONE, "13800009999"), ("known@campus.example.cn", "nobody@campus.example.cn")])
def test_unknown_accounts_get_the_same_answer(app, client, make, db_session, phone_user, known,
                                              unknown):
    phone_user.email = "known@campus.example.cn"
    db_session.commit()
    answers = []
    for account in (known, unknown):
        client.get("/logout/")
        response = _ask(client, account)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        answers.append((response.status_code, response.headers["Location"],
                        re.sub(r'value="[^"]*"', "", page)))
    assert answers[0] == answers[1]
    sent = db_session.scalar(select(func.count()).select_from(Notification).where(
        Notification.template.like("password_reset.%")))
    assert sent == 1  # for the known account only


def test_inactive_accounts_get_nothing(client, make, db_session, phone_user):
    phone_user.active = False
    db_session.commit()
    assert _ask(client, PHONE).status_code == 302
    assert _outbox(db_session, phone_user) == [] and _resets(db_session, phone_user) == []


def test_input_that_is_no_number_nor_address_is_refused_beside_the_field(english):
    response = _ask(english, "zhang san")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "11-digit mainland mobile number" in page and 'value="zhang san"' in page
    assert "has-error" in page


def test_the_code_is_stored_hashed_only(app, client, db_session, phone_user, async_queue):
    _ask(client, PHONE)
    code = _code(db_session, phone_user)
    (reset,) = _resets(db_session, phone_user)
    assert re.fullmatch(r"[0-9a-f]{64}", reset.secret_hash)
    assert code not in reset.secret_hash
    assert reset.secret_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed, not bare


def test_a_code_expires_after_ten_minutes(english, db_session, phone_user, async_queue):
    _ask(english, PHONE)
    code = _code(db_session, phone_user)
    (reset,) = _resets(db_session, phone_user)
    reset.issued_at -= dt.timedelta(minutes=10, seconds=1)
    db_session.commit()
    response = _reset(english, code)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "no longer valid" in page
    assert not _signs_in(english, PHONE, NEW) and _signs_in(english, PHONE, OLD)


def test_five_wrong_codes_kill_it(english, db_session, phone_user, async_queue):
    _ask(english, PHONE)
    code = _code(db_session, phone_user)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(5):
        response = _reset(english, wrong)
        assert response.status_code == 400, n
    assert "Too many wrong codes" in response.get_data(as_text=True)
    (reset,) = _resets(db_session, phone_user)
    assert reset.attempts == 5 and reset.revoked_at is not None
    assert _reset(english, code).status_code == 400  # the right code is dead too
    assert _signs_in(english, PHONE, OLD)
    _ask(english, PHONE)  # a new one must be asked for
    assert _reset(english, _code(db_session, phone_user)).status_code == 302


def test_a_code_is_used_once(english, db_session, phone_user, async_queue):
    _ask(english, PHONE)
    code = _code(db_session, phone_user)
    assert _reset(english, code).status_code == 302
    response = _reset(english, code, password="Other-Pass-2027")
    assert response.status_code == 400
    assert _signs_in(english, PHONE, NEW)


def test_a_new_request_supersedes_the_old(english, db_session, phone_user, async_queue):
    _ask(english, PHONE)
    first = _code(db_session, phone_user)
    _ask(english, PHONE)
    second = _code(db_session, phone_user)
    if first != second:  # one in a million they are equal
        assert _reset(english, first).status_code == 400
    assert _reset(english, second).status_code == 302
    resets = _resets(db_session, phone_user)
    assert resets[0].revoked_at is not None and resets[1].used_at is not None


def test_the_password_rule_with_errors_beside_the_fields_and_input_kept(
        english, db_session, phone_user, async_queue):
    _ask(english, PHONE)
    code = _code(db_session, phone_user)
    response = _reset(english, code, password="short")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'has-error">\s*<label[^>]*for="password".*?at least 10 characters', page,
                     re.S)
    assert f'value="{PHONE}"' in page and f'value="{code}"' in page
    response = _reset(english, code, confirm="Hankou-Road-2027")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'has-error">\s*<label[^>]*for="confirm".*?The passwords differ', page,
                     re.S)
    (reset,) = _resets(db_session, phone_user)
    assert reset.attempts == 0 and reset.used_at is None  # a rejected password costs no try
    assert _reset(english, code).status_code == 302


# Rate limits -----------------------------------------------------------------------------------

@pytest.fixture()
def limits_on(app, monkeypatch):
    limiter = app.appbuilder.sm.limiter
    monkeypatch.setitem(app.config, "RATE_LIMITS_ENABLED", True)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_RATE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_ADDRESS_RATE_LIMIT", "3 per hour")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_CHECK_RATE_LIMIT", "4 per hour")
    limiter.reset()
    yield limiter
    limiter.reset()


def test_requests_are_limited_per_number_from_any_address(english, db_session, phone_user,
                                                          limits_on):
    for n, spelling in enumerate((PHONE, "138-0000-2222")):
        assert _ask(english, spelling, environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}) \
            .status_code == 302
    response = _ask(english, PHONE, environ_base={"REMOTE_ADDR": "10.0.1.9"})
    assert response.status_code == 429
    assert "this mobile number or e-mail address" in response.get_data(as_text=True)
    assert len(_outbox(db_session, phone_user)) == 2
    # An unknown number is counted the same way: the limit tells nothing either.
    for n in range(2):
        assert _ask(english, "13800009999", environ_base={"REMOTE_ADDR": f"10.0.2.{n}"}) \
            .status_code == 302
    assert _ask(english, "13800009999", environ_base={"REMOTE_ADDR": "10.0.2.9"}) \
        .status_code == 429
    assert english.get("/reset-password").status_code == 200  # showing the form is free


def test_requests_are_limited_per_address(english, limits_on):
    for n in range(3):
        assert _ask(english, f"1380000300{n}").status_code == 302
    response = _ask(english, "13800003009")
    assert response.status_code == 429 and "from your address" in response.get_data(as_text=True)
    assert _ask(english, "13800003009", environ_base={"REMOTE_ADDR": "10.0.3.1"}) \
        .status_code == 302


def test_code_entries_are_limited_per_address(english, db_session, phone_user, limits_on):
    for n in range(4):
        assert _reset(english, "000000", phone=f"1380000400{n}").status_code == 400
    assert _reset(english, "000000").status_code == 429
