"""The platform's day is Beijing's, whatever the server's zone (app/utils/clock.py), and no
module reads the system clock around it."""
import ast
import datetime as dt
import pathlib

import pytest

from app.utils import clock

APP = pathlib.Path(__file__).resolve().parents[2] / "app"
UTC = dt.timezone.utc


def _at(monkeypatch, *moment):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(*moment, tzinfo=UTC))


@pytest.mark.parametrize(("moment", "day"), [
    ((2026, 12, 7, 15, 59), dt.date(2026, 12, 7)),   # 23:59 in Wuhan
    ((2026, 12, 7, 16, 0), dt.date(2026, 12, 8)),    # midnight in Wuhan, still the 7th in UTC
    ((2026, 12, 31, 23, 0), dt.date(2027, 1, 1)),
])
def test_today_is_the_day_in_beijing(monkeypatch, moment, day):
    _at(monkeypatch, *moment)
    assert clock.today() == day
    assert clock.utcnow() == dt.datetime(*moment)  # stored times stay UTC, without a zone


def test_the_configured_zone_decides_the_day(app, monkeypatch):
    _at(monkeypatch, 2026, 12, 7, 20, 0)
    with app.app_context():
        assert clock.today() == dt.date(2026, 12, 8)
        monkeypatch.setitem(app.config, "DISPLAY_TIMEZONE", "UTC")
        assert clock.today() == dt.date(2026, 12, 7)


def test_a_beijing_day_starts_at_1600_utc_the_day_before():
    assert clock.start_of(dt.date(2026, 12, 8)) == dt.datetime(2026, 12, 7, 16, 0)


# The calls that read the server's clock in its own zone (or in UTC, for a day), and the
# midnight of a date taken as a stored (UTC) time: "since the 7th" began at 16:00 UTC on the 6th.
_SYSTEM_CLOCK = {("date", "today"), ("datetime", "today"), ("datetime", "now"),
                 ("datetime", "utcnow"), ("time", "localtime"), ("datetime", "combine")}


def _name(node) -> str:
    """``b`` of ``a.b``, ``b`` of ``b``, ``b`` of ``a.b()``."""
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _system_clock_calls(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (_name(owner), node.func.attr) in _SYSTEM_CLOCK:
                yield node.lineno
            # The day of a UTC moment (utcnow().date()) is yesterday in Wuhan until 08:00.
            if node.func.attr == "date" and isinstance(owner, ast.Call) \
                    and _name(owner) in ("utcnow", "now"):
                yield node.lineno


def test_no_module_reads_the_system_clock_but_the_clock():
    """A rule that asked ``date.today()`` counted days in the server's zone: on a UTC host an
    objection window closed eight hours late. Every module asks app.utils.clock."""
    found = [f"{path.relative_to(APP.parent)}:{line}"
             for path in sorted(APP.rglob("*.py")) if path.name != "clock.py"
             for line in _system_clock_calls(path)]
    assert found == []
