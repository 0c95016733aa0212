"""The browser journey's own stack: the real app under gunicorn, a real `flask worker`, on the
PostgreSQL database `test_e2e` (schema dropped and rebuilt by the app's own commands), Redis
database 14, an aiosmtpd inbox on loopback, and Debian's Chromium driven by Playwright.

The journey runs only when asked for (`python -m pytest tests/e2e` or `-m e2e`): the main
suite's two runs skip it, and it skips itself, naming what is missing, without Chromium,
Playwright, PostgreSQL or Redis. Screenshots go to `e2e-screenshots/` (not committed;
`E2E_SCREENSHOTS` to change), printed at the end of the run.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from e2e.people import PASSWORD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
DATABASE_URL = os.environ.get("E2E_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test_e2e")
REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_URL = REDIS_BASE.rsplit("/", 1)[0] + "/14"  # its own database: flushed, others untouched
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "e2e-screenshots"))
# Staff accounts: the only records made outside the pages (FAB's own `fab create-user`).
STAFF = {
    "admin": "Admin", "bureau_wh": "Bureau", "bureau_yc": "Bureau", "platform": "Platform",
    "province": "Province",
}
SKIP_UNASKED = ("the browser journey runs on its own step: python -m pytest tests/e2e "
                "(needs /usr/bin/chromium, Playwright and PostgreSQL)")


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: the whole journey in a real browser (tests/e2e)")


def _asked_for(config) -> bool:
    markexpr = config.option.markexpr or ""
    if "e2e" in markexpr and "not e2e" not in markexpr:
        return True
    base = Path(config.invocation_params.dir)
    for arg in config.invocation_params.args:
        path = (base / str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def _missing() -> list[str]:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -r requirements-dev.txt)")
    try:
        import psycopg

        with psycopg.connect(_maintenance_url(), connect_timeout=3):
            pass
    except Exception as exc:  # any failure to reach it means: no PostgreSQL here
        missing.append(f"PostgreSQL at {_maintenance_url()} ({type(exc).__name__})")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        missing.append(f"Redis at {REDIS_URL} ({type(exc).__name__})")
    return missing


def pytest_collection_modifyitems(config, items):
    journey = [item for item in items if HERE in Path(str(item.path)).parents]
    if not journey:
        return
    if not _asked_for(config):
        reason = SKIP_UNASKED
    else:
        missing = _missing()
        reason = "e2e journey needs " + "; ".join(missing) if missing else None
    if reason:
        for item in journey:
            item.add_marker(pytest.mark.skip(reason=reason))


# One step failing leaves the later ones without their starting point: skip them, naming it;
# "ran" tells the summary to print where the screenshots are.
_journey = {}


def pytest_runtest_makereport(item, call):
    if call.excinfo is not None and call.when == "call" and HERE in Path(str(item.path)).parents:
        _journey.setdefault("failed", item.name)


def pytest_runtest_setup(item):
    if HERE in Path(str(item.path)).parents and "failed" in _journey:
        pytest.skip(f"an earlier step failed: {_journey['failed']}")


def pytest_terminal_summary(terminalreporter):
    if _journey.get("ran") and any(SHOTS.glob("*.png")):
        terminalreporter.write_line(f"e2e screenshots: {SHOTS}")


def _maintenance_url():
    return DATABASE_URL.rsplit("/", 1)[0] + "/postgres"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_database():
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(_maintenance_url(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if address in m.rcpt_tos]


class Stack:
    """What the journey talks to: the web address, the inbox, the worker's output."""

    def __init__(self, base_url, inbox, worker_log, files, env=None):
        self.base_url, self.inbox, self.worker_log, self.files = base_url, inbox, worker_log, files
        self.shots = SHOTS
        self.env = env

    def publicity_days_pass(self):
        """The one step no page can take: the open 公示 lists' working days go by (their
        windows are moved into the past), then the command the hourly job runs funds what
        no objection holds."""
        import psycopg

        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute("UPDATE publicities SET starts_on = CURRENT_DATE - 8, "
                         "ends_on = CURRENT_DATE - 1 WHERE closed_at IS NULL")
        return _flask(self.env, ["projects", "finalise-publicity"])

    def worker_output(self) -> str:
        return self.worker_log.read_text(encoding="utf-8", errors="replace")


# The app's own commands, run in one process (each `flask` start costs seconds of imports):
# the same click commands `flask --app run:app ...` runs, through Flask's CLI runner.
_COMMANDS = """
import json, sys
from flask.cli import FlaskGroup
from run import app
for args in json.loads(sys.argv[1]):
    result = app.test_cli_runner().invoke(FlaskGroup(), args=args)
    print(result.output)
    if result.exit_code != 0 or "Error" in result.output:
        sys.exit(f"flask {' '.join(args)} failed: {result.output}{result.exception!r}")
"""


def _flask(env, *commands):
    done = subprocess.run([sys.executable, "-c", _COMMANDS, json.dumps(commands)], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"setup commands failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_healthy(url, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the web server did not answer /healthz in {timeout}s:\n{log.read_text()}")


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    import redis

    _journey["ran"] = True  # the summary then names the screenshots
    work = tmp_path_factory.mktemp("e2e")
    files = work / "files"
    files.mkdir()
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    _fresh_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SECRET_KEY": "e2e-journey-secret-key-0123456789abcdef",
        "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
        "UPLOAD_FOLDER": str(work / "uploads"),
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
        "SMS_BACKEND": "log", "PUBLIC_BASE_URL": base_url,
        # Plain http on loopback: a Secure cookie would never come back.
        "SESSION_COOKIE_SECURE": "0",
        # Push match digests within seconds instead of every four hours.
        "DIGEST_INTERVAL": "3",
        "PYTHONUNBUFFERED": "1",
    }
    users = [["fab", "create-admin", "--username", "admin", "--firstname", "Admin",
              "--lastname", "E2E", "--email", "admin@e2e.local", "--password", PASSWORD]]
    users += [["fab", "create-user", "--role", role, "--username", username, "--firstname",
               username, "--lastname", role, "--email", f"{username}@e2e.local",
               "--password", PASSWORD] for username, role in STAFF.items() if role != "Admin"]
    _flask(env, ["db", "upgrade"], ["seed"], ["init-roles"], *users)
    worker_log = work / "worker.log"
    web_log = work / "web.log"
    with open(worker_log, "w") as wout, open(web_log, "w") as sout:
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "run:app", "worker"],
                                  cwd=ROOT, env=env, stdout=wout, stderr=subprocess.STDOUT)
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "8",
                                "-b", f"127.0.0.1:{port}", "run:app"],
                               cwd=ROOT, env=env, stdout=sout, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(base_url, web, web_log)
        yield Stack(base_url, inbox, worker_log, files, env)
    finally:
        _stop(web)
        _stop(worker)
        smtp.stop()
        errors = [line for line in web_log.read_text().splitlines() if "Traceback" in line]
        if errors:
            print(f"web server log with tracebacks: {web_log}")


@pytest.fixture(scope="session")
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
