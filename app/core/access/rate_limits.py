"""Rate limits (Flask-Limiter, stored in Redis) on the doors that attackers hammer.

* Sign-in, form and REST, per client address: ``LOGIN_RATE_LIMIT``. It slows password guessing
  over many accounts; the lockout (app/core/access/auth_policy.py) guards each account.
* Public registration (enterprise and researcher): accepted registrations per address
  (``REGISTRATION_RATE_LIMIT``; a form sent back with errors does not count, so corrections
  never lock out a campus behind one address), and every attempt per mobile number
  (``REGISTRATION_PHONE_RATE_LIMIT``).
* The public check of a printed document's verification code (``/verify/<code>``), every view
  per address: ``VERIFY_RATE_LIMIT``.
* Objections to a 公示 list, accepted per address (``OBJECTION_RATE_LIMIT``).
* SMS, per phone number: ``SMS_PER_PHONE_LIMIT``. A message over the limit is not sent.
* Forgotten passwords: requests for a code or link per mobile number or e-mail address, from
  any address (``PASSWORD_RESET_RATE_LIMIT``; whether or not an account has it, so the limit
  tells nothing), and per client address (``PASSWORD_RESET_ADDRESS_RATE_LIMIT``); entering a
  code or a new password, per client address (``PASSWORD_RESET_CHECK_RATE_LIMIT``), on top of
  the tries each code has.

FAB already builds a Flask-Limiter (``appbuilder.sm.limiter``, configured by the ``RATELIMIT_*``
keys): we use that one and only point its storage at our Redis. ``RATE_LIMITS_ENABLED`` turns
all of them off (the test suite, which signs in hundreds of times from one address).
The client address is ``request.remote_addr``: behind a reverse proxy, the proxy must be
trusted (ProxyFix) or every user shares one address and one limit.
"""
from flask import current_app, request
from flask_babel import gettext as _
from limits import parse_many

# (endpoint, config key of its limit, what is counted); only POST counts, showing a form costs
# nothing, except on a page that is itself the answer (EVERY_VIEW).
EVERY_ATTEMPT, ACCEPTED, PER_PHONE = "every attempt", "accepted", "per phone"
EVERY_VIEW = "every view"
PER_ACCOUNT = "per phone or e-mail"
REGISTRATION_PAGES = ("public.register_enterprise_page", "public.register_researcher_page")
RESET_CHECK_PAGES = ("public.reset_password_with_code", "public.reset_password_with_link")
LIMITED_ENDPOINTS = (
    ("AuthDBView.login", "LOGIN_RATE_LIMIT", EVERY_ATTEMPT),
    ("PlatformSecurityApi.login", "LOGIN_RATE_LIMIT", EVERY_ATTEMPT),
    *((page, "REGISTRATION_RATE_LIMIT", ACCEPTED) for page in REGISTRATION_PAGES),
    *((page, "REGISTRATION_PHONE_RATE_LIMIT", PER_PHONE) for page in REGISTRATION_PAGES),
    ("public.verify_document", "VERIFY_RATE_LIMIT", EVERY_VIEW),
    ("public.publicity_page", "OBJECTION_RATE_LIMIT", ACCEPTED),
    ("public.forgot_password", "PASSWORD_RESET_ADDRESS_RATE_LIMIT", EVERY_ATTEMPT),
    ("public.forgot_password", "PASSWORD_RESET_RATE_LIMIT", PER_ACCOUNT),
    *((page, "PASSWORD_RESET_CHECK_RATE_LIMIT", EVERY_ATTEMPT) for page in RESET_CHECK_PAGES),
)


def _accepted(response) -> bool:
    """A registration was accepted: the form redirects to its confirmation."""
    return response.status_code in (301, 302, 303)


def _phone_of_the_form() -> str:
    phone = "".join(ch for ch in request.form.get("phone", "") if ch.isdigit())
    return f"phone:{phone}" if phone else f"address:{request.remote_addr}"


def _account_of_the_form() -> str:
    """The mobile number (digits only) or the e-mail address (lower case) of the forgotten-
    password form's ``account`` field, so that spellings of one do not count apart."""
    value = request.form.get("account", "").strip()
    if "@" in value:
        return f"email:{value.lower()}"
    phone = "".join(ch for ch in value if ch.isdigit()).removeprefix("86")[-11:]
    return f"phone:{phone}" if phone else f"address:{request.remote_addr}"


def storage_uri(redis_url: str) -> str:
    """Flask-Limiter's name for our Redis (it spells a socket ``redis+unix://``)."""
    if not redis_url:
        return "memory://"  # the CLI without Redis; run.py always gives one
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def configure_storage(app):
    """Before FAB builds its limiter: store the counters in the app's Redis."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config.get("REDIS_URL", "")))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "ratelimit")


def limits_off() -> bool:
    return not current_app.config.get("RATE_LIMITS_ENABLED", True)


def too_many_message() -> str:
    return _("Too many attempts from your address. Please wait a while and try again.")


def too_many_for_the_phone() -> str:
    return _("Too many attempts with this mobile number. Please wait a while and try again.")


def too_many_for_the_account() -> str:
    return _("Too many requests for this mobile number or e-mail address. Please wait a while "
             "and try again.")


def init_rate_limits(app, appbuilder):
    """After the views exist: wrap the limited endpoints and answer 429 in the user's language."""
    limiter = appbuilder.sm.limiter
    for endpoint, key, counted in LIMITED_ENDPOINTS:
        options = {}
        if counted == ACCEPTED:
            options["deduct_when"] = _accepted
        message = too_many_message
        if counted == PER_PHONE:
            options.update(key_func=_phone_of_the_form, scope="registration-phone")
            message = too_many_for_the_phone
        if counted == PER_ACCOUNT:
            options.update(key_func=_account_of_the_form, scope="password-reset-account")
            message = too_many_for_the_account
        methods = None if counted == EVERY_VIEW else ["POST"]
        limit = limiter.limit(lambda key=key: current_app.config[key], methods=methods,
                              exempt_when=limits_off, error_message=message, **options)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    # The 429 page itself is ``app/public/errors.py``, with the other error pages.


def sms_allowed(phone: str) -> bool:
    """Count one SMS to ``phone``; False (and nothing counted) when a limit is reached."""
    if limits_off():
        return True
    strategy = current_app.appbuilder.sm.limiter.limiter
    items = parse_many(current_app.config["SMS_PER_PHONE_LIMIT"])
    if not all(strategy.test(item, "sms", phone) for item in items):
        return False
    for item in items:
        strategy.hit(item, "sms", phone)
    return True


def sms_limit_text() -> str:
    return current_app.config["SMS_PER_PHONE_LIMIT"]
