"""The platform's clock: the moment in UTC (as every time is stored) and the day in Beijing
(as every rule counts days: a 公示 window, a deadline, a milestone due, a payment date).

A server's local date is not the programme's: on a host set to UTC, ``date.today()`` still
reads yesterday until 08:00 in Hubei, so a window that closed at midnight in Wuhan stayed open
eight hours longer. Every rule asks this module instead; tests move the clock by patching
``now``.
"""
import datetime as dt
from zoneinfo import ZoneInfo

# The zone of the programme (the notice's dates are Beijing dates); ``DISPLAY_TIMEZONE`` in the
# configuration names it, the same zone the pages show times in.
DEFAULT_ZONE = "Asia/Shanghai"


def now() -> dt.datetime:
    """This moment, aware, in UTC: the one place the platform reads the system clock."""
    return dt.datetime.now(dt.timezone.utc)


def utcnow() -> dt.datetime:
    """This moment as the database stores times: UTC without a zone."""
    return now().replace(tzinfo=None)


def zone() -> ZoneInfo:
    from flask import current_app, has_app_context

    name = current_app.config.get("DISPLAY_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def today() -> dt.date:
    """Today's date in Beijing (the configured zone), whatever the server's own zone."""
    return now().astimezone(zone()).date()


def start_of(day: dt.date) -> dt.datetime:
    """The first moment of a Beijing day as the database stores times (UTC, naive): a rule
    that asks for what was written "since the 7th" means since midnight in Wuhan, which is
    16:00 on the 6th in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone()).astimezone(
        dt.timezone.utc).replace(tzinfo=None)
