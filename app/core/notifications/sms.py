"""SMS through a pluggable gateway: the log in development, an HTTP provider in production.

``SMS_BACKEND`` picks one: ``"log"`` (default) or ``"http"``. The HTTP gateway POSTs JSON
``{"phone", "text", "sign", "request_id"}`` to ``SMS_HTTP_URL`` with ``SMS_HTTP_TOKEN`` in the
``SMS_HTTP_TOKEN_HEADER`` header. ``request_id`` is the notification's idempotency key, so a
provider that de-duplicates on it delivers a retried message once.

``check_quota`` caps the messages per phone number (``SMS_PER_PHONE_LIMIT``, counted in Redis
by app/core/access/rate_limits.py): a bug or a flood of events must not bombard one phone, nor the bill.
"""
import json
import logging
import urllib.error
import urllib.request

from flask import current_app
from flask_babel import gettext as _
from limits import parse_many

from app.core.access import rate_limits

logger = logging.getLogger(__name__)

# One SMS segment holds 70 Chinese characters; the provider adds the sign in front.
SMS_TEXT_LIMIT = 70
# Provider answers that mean "accepted" (they differ in case and type: 0, "0", "OK", "Ok").
SUCCESS_CODES = {"0", "ok", "success", "200"}


class GatewayError(RuntimeError):
    """The gateway did not accept the message; the job records it and may retry."""


class QuotaExceeded(RuntimeError):
    """This phone number has had its share of SMS; the message is not sent."""


def _limit_words() -> str:
    units = {"second": _("second"), "minute": _("minute"), "hour": _("hour"), "day": _("day"),
             "month": _("month"), "year": _("year")}
    return " / ".join(
        _("%(amount)d per %(unit)s", amount=item.amount,
          unit=units.get(item.GRANULARITY.name, item.GRANULARITY.name))
        for item in parse_many(rate_limits.sms_limit_text()))


def check_quota(phone: str) -> None:
    """Count one message to ``phone``, or raise QuotaExceeded (nothing counted, nothing sent)."""
    if not rate_limits.sms_allowed(phone):
        raise QuotaExceeded(_("This mobile number has reached its SMS limit (%(limit)s); the "
                              "message was not sent.", limit=_limit_words()))


def sms_text(subject: str, link: str = "") -> str:
    """The subject cut to one segment, then the link (which a phone makes clickable)."""
    if len(subject) > SMS_TEXT_LIMIT:
        subject = subject[: SMS_TEXT_LIMIT - 1] + "…"
    return f"{subject} {link}".strip()


class LoggingGateway:
    """Development default: the message goes to the log, nothing leaves the machine."""

    def __init__(self, sign=""):
        self.sign = sign

    def send(self, phone: str, text: str, request_id: str) -> None:
        logger.info("SMS to %s [%s]: %s%s", phone, request_id, self.sign, text)


class HttpGateway:
    def __init__(self, url, token="", token_header="Authorization", sign="", timeout=10):
        if not url:
            raise GatewayError("SMS_HTTP_URL is not set")
        self.url, self.token, self.token_header = url, token, token_header
        self.sign, self.timeout = sign, timeout

    def send(self, phone: str, text: str, request_id: str) -> None:
        body = json.dumps({"phone": phone, "text": text, "sign": self.sign,
                           "request_id": request_id}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers[self.token_header] = self.token
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:  # urllib raises for every non-2xx answer
            exc.close()  # it holds the open response
            raise GatewayError(f"SMS gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"SMS gateway unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise GatewayError(f"SMS gateway answered HTTP {status}")
        self._check_body(raw)

    @staticmethod
    def _check_body(raw: bytes) -> None:
        """A 2xx answer may still refuse the message in its JSON ``code``."""
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            return  # a provider answering plain text with 2xx has accepted it
        if isinstance(answer, dict) and "code" in answer:
            if str(answer["code"]).lower() not in SUCCESS_CODES:
                raise GatewayError(
                    f"SMS gateway refused: code {answer['code']} {answer.get('message', '')}".strip())


def gateway(config=None):
    config = config if config is not None else current_app.config
    backend = config.get("SMS_BACKEND", "log")
    sign = config.get("SMS_SIGN", "")
    if backend == "log":
        return LoggingGateway(sign)
    if backend == "http":
        return HttpGateway(config.get("SMS_HTTP_URL"), config.get("SMS_HTTP_TOKEN", ""),
                           config.get("SMS_HTTP_TOKEN_HEADER", "Authorization"), sign,
                           config.get("SMS_HTTP_TIMEOUT", 10))
    raise GatewayError(f"unknown SMS_BACKEND {backend!r} (use 'log' or 'http')")
