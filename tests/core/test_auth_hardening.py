"""Identity and session hardening over HTTP: password rule on every form that sets a password,
account lockout on both login paths without user enumeration, session expiry, REST API token
lifetimes and refresh (refused for a locked, inactive or expired login), security headers
with a CSP the pages really pass, and rate limits on login, registration and SMS."""
import datetime as dt
import re
import time
from html.parser import HTMLParser

import pytest
from factories import PASSWORD
from helpers import (
    PAYLOAD,
    api_headers,
    credit_code,
    enterprise_form,
    login,
    post_form,
    researcher_form,
    work,
)
from sqlalchemy import select, update

from app.core.notifications.outbox import notify
from app.models import AppUser, Channel, Notification, NotificationState
from app.utils import clock

ROLES = ("Admin", "Platform", "Province", "Bureau", "Enterprise", "Researcher")
# Each breaks the rule (10 characters, 3 of 4 classes) in another way.
WEAK = ("Sh0rt-pw", "alllowercaseletters", "lowercase1234567", "UPPER-CASE-ONLY",
        "1234567890123", "Abcdefghijkl", "")
GOOD = "Hankou-Bridge-1957"
RULE_ZH = "密码至少需要 10 个字符"


def _rule_shown(response):
    text = response.get_data(as_text=True)
    return RULE_ZH in text


def _role_user(make, role):
    links = {}
    if role == "Enterprise":
        links["enterprise_id"] = make.enterprise().id
    elif role == "Researcher":
        links["researcher_id"] = make.researcher().id
    elif role == "Bureau":
        links["region_id"] = make.region("420100").id
    return make.user(role, **links)


# Password rule ---------------------------------------------------------------------------------

@pytest.mark.parametrize("password", [p for p in WEAK if p])
@pytest.mark.parametrize("kind", ["enterprise", "researcher"])
def test_registration_refuses_weak_passwords_with_the_rule(client, make, db_session, kind,
                                                            password):
    form = enterprise_form if kind == "enterprise" else researcher_form
    response = post_form(client, f"/register/{kind}", form(make, password=password, confirm=password))
    assert response.status_code == 400 and _rule_shown(response)
    assert db_session.scalar(select(AppUser).where(AppUser.email.like("%.example.cn"))) is None


@pytest.mark.parametrize("kind", ["enterprise", "researcher"])
def test_registration_accepts_a_good_password(client, make, db_session, kind):
    form = enterprise_form if kind == "enterprise" else researcher_form
    response = post_form(client, f"/register/{kind}", form(make, password=GOOD, confirm=GOOD))
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db_session.scalar(select(AppUser).where(AppUser.email.like("%.example.cn")))
    assert user is not None


def _user_add_form(make, username, password):
    return {"first_name": "张", "last_name": "三", "username": username, "active": "y",
            "email": f"{username}@test.local", "roles": [make.app.appbuilder.sm.find_role(
                "Platform").id], "password": password, "conf_password": password}


def test_user_add_form_refuses_weak_passwords_and_accepts_a_good_one(client, make, db_session):
    login(client, make.user("Admin").username)
    for n, password in enumerate(p for p in WEAK if p):
        response = client.post("/users/add", data=_user_add_form(make, f"weak{n}", password))
        assert response.status_code == 200 and _rule_shown(response), password
        assert db_session.scalar(select(AppUser).where(AppUser.username == f"weak{n}")) is None
    response = client.post("/users/add", data=_user_add_form(make, "strong1", GOOD))
    assert response.status_code == 302
    login(client, "strong1", GOOD)


@pytest.mark.parametrize("role", ROLES)
def test_reset_my_password_refuses_weak_ones_for_every_role(client, make, db_session, role):
    user = _role_user(make, role)
    login(client, user.username)
    for password in WEAK[:3]:
        response = client.post("/resetmypassword/form", data={
            "current_password": PASSWORD, "password": password, "conf_password": password})
        assert response.status_code == 200 and _rule_shown(response), (role, password)
    login(client, user.username)  # the old password still works
    response = client.post("/resetmypassword/form", data={
        "current_password": PASSWORD, "password": GOOD, "conf_password": GOOD})
    assert response.status_code == 302
    login(client, user.username, GOOD)


def test_reset_my_password_asks_for_the_current_one(client, make, db_session):
    user = make.user("Bureau")
    login(client, user.username)
    for current in (None, "", "Wrong-Password-1"):
        data = {"password": GOOD, "conf_password": GOOD}
        if current is not None:
            data["current_password"] = current
        response = client.post("/resetmypassword/form", data=data)
        assert response.status_code == 200, current
        assert "当前密码不正确" in response.get_data(as_text=True), current
    db_session.refresh(user)
    assert user.fail_login_count == 3  # each wrong one counts towards the lockout
    login(client, user.username)  # unchanged
    response = client.post("/resetmypassword/form", data={
        "current_password": PASSWORD, "password": GOOD, "conf_password": GOOD})
    assert response.status_code == 302
    login(client, user.username, GOOD)


def test_admin_reset_of_a_users_password_follows_the_rule(client, make, db_session):
    target = make.user("Bureau")
    login(client, make.user("Admin").username)
    url = f"/resetpassword/form?pk={target.id}"
    for password in WEAK:
        response = client.post(url, data={"password": password, "conf_password": password})
        assert response.status_code == 200, password
        if password:  # empty is "required", not the rule
            assert _rule_shown(response), password
    assert client.post(url, data={"password": GOOD, "conf_password": GOOD}).status_code == 302
    login(client, target.username, GOOD)


def test_security_manager_refuses_a_weak_password_from_scripts(app, db_session):
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    sm = app.appbuilder.sm
    with pytest.raises(PasswordComplexityValidationError):
        sm.add_user("script1", "a", "b", "s1@test.local", sm.find_role("Platform"),
                    password="weakpass")
    assert sm.find_user(username="script1") is None
    assert sm.add_user("script2", "a", "b", "s2@test.local", sm.find_role("Platform"),
                       password=PASSWORD)


# Lockout ---------------------------------------------------------------------------------------

def _form_login(client, username, password):
    """The form login's whole answer: status, redirect, body and the message it flashes."""
    client.get("/logout/")
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    response = client.post("/login/", data={"username": username, "password": password})
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return (response.status_code, response.headers.get("Location"), response.get_data(),
            tuple(map(tuple, flashes)))


def _api_login(client, username, password):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"})
    return response.status_code, response.get_data()


LOGINS = {"form": _form_login, "api": _api_login}


def _signed_in(path, answer):
    return answer[0] == 302 and "/login" not in answer[1] if path == "form" else answer[0] == 200


def _user(db_session, user_id):
    db_session.expire_all()
    return db_session.get(AppUser, user_id)


@pytest.mark.parametrize("path", ["form", "api"])
@pytest.mark.parametrize("role", ["Enterprise", "Bureau", "Admin"])
def test_five_wrong_passwords_lock_the_account_on_both_paths(client, make, db_session, path,
                                                             role):
    user = _role_user(make, role)
    attempt = LOGINS[path]
    unknown = attempt(client, "nobody-here", "Wrong-Pass-0001")
    assert not _signed_in(path, unknown)
    for n in range(5):
        wrong = attempt(client, user.username, f"Wrong-Pass-{n:04d}")
        assert wrong == unknown, "a wrong password must answer like an unknown user"
    assert _user(db_session, user.id).locked_until is not None
    # Locked: the right password is refused, on this path and on the other, identically.
    assert attempt(client, user.username, PASSWORD) == unknown
    other = "api" if path == "form" else "form"
    assert LOGINS[other](client, user.username, PASSWORD) == LOGINS[other](
        client, "nobody-here", "Wrong-Pass-0001")
    # The lock runs out (moved back in the database, not waited for): the password works.
    db_session.execute(update(AppUser).where(AppUser.id == user.id).values(
        locked_until=clock.utcnow()
        - dt.timedelta(seconds=1)))
    db_session.commit()
    assert _signed_in(path, attempt(client, user.username, PASSWORD))
    fresh = _user(db_session, user.id)
    assert fresh.locked_until is None and fresh.fail_login_count == 0


def test_four_wrong_passwords_then_the_right_one_resets_the_count(client, make, db_session):
    user = make.user("Enterprise")
    for n in range(4):
        _form_login(client, user.username, f"Wrong-Pass-{n:04d}")
    assert _signed_in("form", _form_login(client, user.username, PASSWORD))
    for n in range(4):  # four more: still not five in a row
        _api_login(client, user.username, f"Wrong-Pass-{n:04d}")
    assert _api_login(client, user.username, PASSWORD)[0] == 200


def test_the_lock_is_not_lifted_before_its_time(client, make, db_session):
    user = make.user("Platform")
    for n in range(5):
        _api_login(client, user.username, f"Wrong-Pass-{n:04d}")
    locked_until = _user(db_session, user.id).locked_until
    now = clock.utcnow()
    assert dt.timedelta(minutes=29) < locked_until - now <= dt.timedelta(minutes=30)
    # One minute left: still locked.
    db_session.execute(update(AppUser).where(AppUser.id == user.id).values(
        locked_until=now + dt.timedelta(minutes=1)))
    db_session.commit()
    assert _api_login(client, user.username, PASSWORD)[0] == 401


def test_an_inactive_account_answers_like_an_unknown_one(client, make, db_session):
    user = make.user("Researcher", active=False)
    assert _form_login(client, user.username, PASSWORD) == _form_login(
        client, "nobody-here", PASSWORD)
    assert _api_login(client, user.username, PASSWORD) == _api_login(
        client, "nobody-here", PASSWORD)


def test_an_admin_password_reset_lifts_a_lock(client, make, db_session):
    target = make.user("Bureau")
    for n in range(5):
        _api_login(client, target.username, f"Wrong-Pass-{n:04d}")
    login(client, make.user("Admin").username)
    response = client.post(f"/resetpassword/form?pk={target.id}",
                           data={"password": GOOD, "conf_password": GOOD})
    assert response.status_code == 302
    assert _api_login(client, target.username, GOOD)[0] == 200


# Session expiry --------------------------------------------------------------------------------

def _back_office(client):
    return client.get("/needmodelview/list/")


@pytest.mark.parametrize("role", ["Enterprise", "Platform"])
def test_an_idle_session_is_signed_out(client, make, db_session, role):
    user = _role_user(make, role)
    login(client, user.username)
    assert _back_office(client).status_code == 200
    with client.session_transaction() as session:
        session["_seen_at"] = time.time() - 29 * 60  # within the idle limit
    assert _back_office(client).status_code == 200
    with client.session_transaction() as session:
        session["_seen_at"] = time.time() - 31 * 60
    response = _back_office(client)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "会话已过期" in page
    assert _back_office(client).status_code == 302  # stays signed out


def test_a_session_past_its_absolute_lifetime_is_signed_out_even_if_active(client, make,
                                                                          db_session):
    login(client, make.user("Platform").username)
    with client.session_transaction() as session:
        session["_auth_at"] = time.time() - 11 * 3600
    assert _back_office(client).status_code == 200
    with client.session_transaction() as session:
        session["_auth_at"] = time.time() - 13 * 3600
        session["_seen_at"] = time.time()
    response = _back_office(client)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_without_a_login_time_is_not_trusted(client, make, db_session):
    login(client, make.user("Platform").username)
    with client.session_transaction() as session:
        del session["_auth_at"]
        del session["_seen_at"]
    assert _back_office(client).status_code == 302


# REST API tokens -------------------------------------------------------------------------------

def _api_tokens(client, username, password=PASSWORD):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": True})
    assert response.status_code == 200, response.json
    return response.json["access_token"], response.json["refresh_token"]


def _refresh(client, refresh_token):
    return client.post("/api/v1/security/refresh",
                       headers={"Authorization": f"Bearer {refresh_token}"})


def _claims(token):
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def _api_reads(client, access_token):
    return client.get("/api/v1/need/", headers={"Authorization": f"Bearer {access_token}"})


def test_api_tokens_last_15_minutes_and_the_session_lifetime(client, make, db_session):
    access, refresh = _api_tokens(client, make.user("Platform").username)
    assert _claims(access)["exp"] - _claims(access)["iat"] == 15 * 60
    # Not Flask-JWT-Extended's 30 days: a refresh token ends with the session (12 hours).
    assert _claims(refresh)["exp"] - _claims(refresh)["iat"] == 12 * 3600


def test_refresh_gives_a_working_access_token_to_a_normal_account(client, make, db_session):
    _access, refresh = _api_tokens(client, make.user("Platform").username)
    response = _refresh(client, refresh)
    assert response.status_code == 200
    renewed = response.json["access_token"]
    assert _api_reads(client, renewed).status_code == 200
    assert _claims(renewed)["exp"] <= _claims(refresh)["exp"]


def test_refresh_is_refused_once_the_account_is_locked(client, make, db_session):
    user = make.user("Enterprise", enterprise_id=make.enterprise().id)
    _access, refresh = _api_tokens(client, user.username)
    assert _refresh(client, refresh).status_code == 200
    for n in range(5):  # someone guesses the password meanwhile: the account locks
        assert _api_login(client, user.username, f"Wrong-Pass-{n:04d}")[0] == 401
    assert _user(db_session, user.id).locked_until is not None
    response = _refresh(client, refresh)
    assert response.status_code == 401 and "access_token" not in (response.json or {})
    # The lock runs out: the same refresh token works again (it has not expired).
    db_session.execute(update(AppUser).where(AppUser.id == user.id).values(
        locked_until=clock.utcnow()
        - dt.timedelta(seconds=1)))
    db_session.commit()
    assert _refresh(client, refresh).status_code == 200


def test_refresh_is_refused_once_the_account_is_deactivated(client, make, db_session):
    user = make.user("Bureau", region_id=make.region("420100").id)
    access, refresh = _api_tokens(client, user.username)
    login(client, make.user("Admin").username)
    response = client.post(f"/users/edit/{user.id}", data={
        "first_name": user.first_name, "last_name": user.last_name, "username": user.username,
        "email": user.email, "roles": [str(r.id) for r in user.roles]})  # "active" unticked
    assert response.status_code == 302
    assert _user(db_session, user.id).active is False
    response = _refresh(client, refresh)
    assert response.status_code == 401 and "access_token" not in (response.json or {})
    assert _api_reads(client, access).status_code == 401  # nor does the old access token work


def test_an_expired_refresh_token_is_refused(client, make, db_session, app, monkeypatch):
    user = make.user("Platform")
    # Issued already expired (a lifetime of -1 s) rather than waited for.
    monkeypatch.setitem(app.config, "JWT_REFRESH_TOKEN_EXPIRES", dt.timedelta(seconds=-1))
    _access, expired = _api_tokens(client, user.username)
    response = _refresh(client, expired)
    assert response.status_code == 401 and "access_token" not in (response.json or {})
    # A refresh token near its end gives an access token that ends with it, not 15 min later.
    monkeypatch.setitem(app.config, "JWT_REFRESH_TOKEN_EXPIRES", dt.timedelta(seconds=60))
    _access, ending = _api_tokens(client, user.username)
    renewed = _refresh(client, ending).json["access_token"]
    assert _claims(renewed)["exp"] <= _claims(ending)["exp"]


# Security headers and the CSP ------------------------------------------------------------------

class Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
        self.handlers += [(tag, name) for name in attrs if name.startswith("on")]
        self.handlers += [(tag, name) for name, value in attrs.items()
                          if (value or "").strip().lower().startswith("javascript:")]


def _check_page(response):
    assert response.status_code == 200
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    (nonce,) = [s[len("'nonce-"):-1] for s in script_src if s.startswith("'nonce-")]
    parser = Scripts()
    parser.feed(response.get_data(as_text=True))
    for script in parser.scripts:
        if "src" in script:  # allowed by 'self' only if it is ours
            assert script["src"].startswith("/"), script
        if "src" not in script or "nonce" in script:  # FAB puts one on its files too
            assert script.get("nonce") == nonce, script
    assert parser.handlers == []  # inline handlers would be blocked by the CSP
    return parser.scripts


PUBLIC_PAGES = ("/", "/register", "/register/enterprise", "/register/researcher", "/needs",
                "/login/")
BACK_OFFICE = {
    "Admin": ("/users/list/", "/users/add", "/resetmypassword/form"),
    "Platform": ("/needmodelview/list/", "/enterprisemodelview/list/"),
    "Province": ("/needmodelview/list/",),
    "Bureau": ("/needmodelview/list/", "/enterprisemodelview/list/"),
    "Enterprise": ("/needmodelview/list/", "/needmodelview/add", "/resetmypassword/form"),
    "Researcher": ("/proposalmodelview/list/", "/needmodelview/list/"),
}


def test_public_pages_carry_the_headers_and_pass_the_csp(client, db_session):
    with_nonce = 0
    for url in PUBLIC_PAGES:
        scripts = _check_page(client.get(url))
        with_nonce += sum("nonce" in s for s in scripts)
    assert with_nonce > 0  # the login page has FAB's scripts: the nonce is really compared


@pytest.mark.parametrize("role", ROLES)
def test_back_office_pages_carry_the_headers_and_pass_the_csp(client, make, db_session, role):
    login(client, _role_user(make, role).username)
    nonces, inline = set(), 0
    urls = BACK_OFFICE[role] + ("/office/",)
    for url in urls:
        response = client.get(url)
        inline += sum("src" not in s for s in _check_page(response))
        nonces.add(response.headers["Content-Security-Policy"])
    assert inline > 0  # FAB's list and form pages have inline scripts: the nonce is compared
    assert len(nonces) == len(urls)  # a fresh nonce per response


def test_api_answers_carry_the_headers(client, make, db_session):
    headers = api_headers(client, make.user("Platform").username)
    response = client.get("/api/v1/need/", headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_session_cookie_flags(client, make, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = client.post("/login/", data={"username": make.user("Platform").username,
                                            "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


# Rate limits -----------------------------------------------------------------------------------

TOO_MANY_ZH = "请求过于频繁"


@pytest.fixture()
def limits_on(app, monkeypatch):
    """Low limits for one test, on an empty counter store, emptied again afterwards."""
    limiter = app.appbuilder.sm.limiter
    monkeypatch.setitem(app.config, "RATE_LIMITS_ENABLED", True)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "2 per hour")
    monkeypatch.setitem(app.config, "REGISTRATION_PHONE_RATE_LIMIT", "3 per hour")
    monkeypatch.setitem(app.config, "SMS_PER_PHONE_LIMIT", "2 per hour;3 per day")
    limiter.reset()
    yield limiter
    limiter.reset()


def test_limits_live_in_redis(app, limits_on):
    assert type(limits_on.storage).__name__ == "RedisStorage"


def test_form_login_is_limited_per_address(client, make, db_session, limits_on):
    user = make.user("Enterprise")
    for n in range(3):
        assert _form_login(client, "nobody-here", "Wrong-Pass-0001")[0] == 302
    response = client.post("/login/", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429 and TOO_MANY_ZH in response.get_data(as_text=True)
    assert client.get("/login/").status_code == 200  # showing the form is not limited
    assert _api_login(client, user.username, PASSWORD)[0] == 200  # its own counter
    assert _user(db_session, user.id).locked_until is None  # refused before any password check


def test_api_login_is_limited_per_address(client, make, db_session, limits_on):
    user = make.user("Enterprise")
    for n in range(3):
        assert _api_login(client, user.username, PASSWORD)[0] == 200
    response = client.post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db"})
    assert response.status_code == 429 and TOO_MANY_ZH in response.json["message"]
    assert "Retry-After" in response.headers


def test_other_addresses_are_not_limited_by_one(client, make, db_session, limits_on):
    for n in range(4):
        client.post("/api/v1/security/login", json={"username": "x", "password": "y",
                                                    "provider": "db"})
    response = client.post("/api/v1/security/login", json={
        "username": "x", "password": "y", "provider": "db"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 401


@pytest.mark.parametrize("kind", ["enterprise", "researcher"])
def test_corrections_do_not_count_against_an_address_accepted_registrations_do(
        client, make, db_session, limits_on, kind):
    form = enterprise_form if kind == "enterprise" else researcher_form
    for n in range(6):  # six refused forms from one address, each another number
        refused = post_form(client, f"/register/{kind}", form(make, phone=f"1391000000{n}",
                                                               confirm="not the same"))
        assert refused.status_code == 400, n
    for n in range(2):  # then accepted: they count
        accepted = post_form(client, f"/register/{kind}", form(
            make, phone=f"1392000000{n}", email=f"r{n}@campus.example.cn",
            **({"name": f"武汉光谷第{n}科技有限公司", "credit_code": credit_code(f"91420100MA4K12{n}0")}
               if kind == "enterprise" else {})))
        assert accepted.status_code == 302, accepted.get_data(as_text=True)
    response = post_form(client, f"/register/{kind}", form(make, phone="13920000009",
                                                            email="r9@campus.example.cn"))
    assert response.status_code == 429 and TOO_MANY_ZH in response.get_data(as_text=True)
    assert client.get(f"/register/{kind}").status_code == 200


@pytest.mark.parametrize("kind", ["enterprise", "researcher"])
def test_attempts_are_limited_per_mobile_number_from_any_address(client, make, limits_on,
                                                                 kind):
    for n in range(3):
        response = client.post(f"/register/{kind}", data={"phone": "139-3000-0000"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
        assert response.status_code == 400
    response = client.post(f"/register/{kind}", data={"phone": "13930000000"},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 429 and "手机号" in response.get_data(as_text=True)
    other = client.post(f"/register/{kind}", data={"phone": "13930000001"},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 400


def test_sms_beyond_the_per_phone_limit_is_refused_and_not_sent(
        app, make, db_session, async_queue, sms_gateway, limits_on):  # noqa: F811
    user = make.user("Enterprise", phone="13800005678")
    other = make.user("Enterprise", phone="13800005679")
    for n in range(3):
        notify(user, "needs.return_by_bureau", PAYLOAD, f"review:95{n}", channels=[Channel.sms])
    notify(other, "needs.return_by_bureau", PAYLOAD, "review:959", channels=[Channel.sms])
    db_session.commit()
    work(app, async_queue)
    db_session.expire_all()
    rows = db_session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()
    assert [r.state for r in rows] == [NotificationState.sent] * 2 + [NotificationState.failed]
    assert "短信已达上限" in rows[2].last_error and "每小时 2 条" in rows[2].last_error
    assert [r["body"]["phone"] for r in sms_gateway.requests].count("13800005678") == 2
    assert [r["body"]["phone"] for r in sms_gateway.requests].count("13800005679") == 1


# -- sessions end server-side --------------------------------------------------------------

def _signed_in_elsewhere(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def _page_opens(response) -> bool:
    return response.status_code == 200


def test_a_cookie_taken_before_sign_out_no_longer_works(app, client, make, db_session):
    user = make.user("Bureau")
    login(client, user.username)
    copy = _signed_in_elsewhere(app, client)
    assert _page_opens(copy.get("/needmodelview/list/"))
    client.get("/logout/")
    response = copy.get("/needmodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_the_other_sessions_and_keeps_its_own(app, client, make,
                                                                    db_session):
    user = make.user("Bureau")
    other = app.test_client()
    login(other, user.username)
    login(client, user.username)
    response = client.post("/resetmypassword/form", data={
        "current_password": PASSWORD, "password": GOOD, "conf_password": GOOD})
    assert response.status_code == 302
    assert _page_opens(client.get("/needmodelview/list/"))
    assert other.get("/needmodelview/list/").status_code == 302


def test_an_admin_reset_and_a_deactivation_end_every_session_and_token(app, client, make,
                                                                       db_session):
    for end in ("reset", "deactivate"):
        user = make.user("Bureau")
        login(client, user.username)
        headers = api_headers(client, user.username)
        assert client.get("/api/v1/need/", headers=headers).status_code == 200
        admin = app.test_client()
        login(admin, make.user("Admin").username)
        if end == "reset":
            response = admin.post(f"/resetpassword/form?pk={user.id}",
                                  data={"password": GOOD, "conf_password": GOOD})
            assert response.status_code == 302
        else:
            db_session.refresh(user)
            user.active = False
            db_session.commit()
        assert client.get("/needmodelview/list/").status_code == 302, end
        assert client.get("/api/v1/need/", headers=headers).status_code == 401, end


def test_an_api_token_ends_with_sign_out(client, make, db_session):
    user = make.user("Bureau")
    login(client, user.username)
    headers = api_headers(client, user.username)
    refresh = client.post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db", "refresh": True}
    ).json["refresh_token"]
    client.get("/logout/")
    assert client.get("/api/v1/need/", headers=headers).status_code == 401
    response = client.post("/api/v1/security/refresh",
                           headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 401
