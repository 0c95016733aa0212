"""A slow read never blocks writes (issue 28), on a database committed to for real: a SQLite
file as ``python run.py`` uses it, or the PostgreSQL of TEST_DATABASE_URL.

A staff export runs in a thread, its read held open by a hook on the engine for longer than
SQLite's busy timeout, while the main thread posts a registration: the registration goes
through at once, and the export, whose audit row is written after the read, completes too
(app/core/long_reads.py)."""
import io
import threading
import time

import pytest
from factories import Factories
from helpers import enterprise_form, post_form, researcher_form
from openpyxl import load_workbook
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from test_contention import SQLITE_ONLY, _file_app, _signed_in

from app.core.long_reads import long_read, short_write
from app.extensions import db
from app.models import (
    AuditLog,
    CacheToken,
    Enterprise,
    NeedState,
    Researcher,
    ReviewRecord,
)

BUSY_TIMEOUT_MS = 1000  # the writers' patience in these tests
READ_SECONDS = 2.5  # a read held open longer than that
WAIT = 60  # a thread that has not answered by then is a failure, not a hang


@pytest.fixture()
def busy_app(app, tmp_path):
    embedded = _file_app(app, tmp_path, suffix="slow_reads",
                         SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    yield embedded
    with embedded.app_context():
        db.engine.dispose()


class HeldRead:
    """Holds the first statement of ``thread`` that reads ``table`` open (its transaction
    with it) until ``release`` is set and at least ``READ_SECONDS`` have passed."""

    def __init__(self, engine, table):
        self.engine, self.marker = engine, f"FROM {table}"
        self.thread, self.reading, self.release = None, threading.Event(), threading.Event()
        event.listen(engine, "after_cursor_execute", self._hold)

    def _hold(self, _conn, _cursor, statement, *_args):
        if threading.current_thread() is not self.thread or self.reading.is_set():
            return
        if self.marker in statement:
            started = time.monotonic()
            self.reading.set()
            self.release.wait(WAIT)
            time.sleep(max(0.0, READ_SECONDS - (time.monotonic() - started)))

    def remove(self):
        event.remove(self.engine, "after_cursor_execute", self._hold)


EXPORTS = {
    "dashboard": ("/dashboard/export.xlsx", "Province", "program_rounds"),
    "need list": ("/needlist/export.xlsx", "Province", "needs"),
    "audit log": ("/auditlogmodelview/export.xlsx", "Admin", "audit_log"),
}
REGISTRATIONS = {
    "enterprise": ("/register/enterprise", enterprise_form, Enterprise),
    "researcher": ("/register/researcher", researcher_form, Researcher),
}


@pytest.mark.parametrize("export,registration", [
    ("dashboard", "researcher"), ("need list", "enterprise"), ("audit log", "enterprise")])
def test_a_registration_goes_through_while_an_export_reads(busy_app, export, registration):
    url, role, table = EXPORTS[export]
    register_url, form_of, model = REGISTRATIONS[registration]
    with busy_app.app_context():
        make = Factories(busy_app)
        make.need(make.enterprise("420100"), NeedState.published)  # and the open round
        staff = make.user(role).username
        form = form_of(make)
        registered_before = db.session.scalar(select(func.count(model.id)))
        exports_before = db.session.scalar(select(func.count(AuditLog.id)))
        engine = db.engine
        db.session.remove()
    staff_client = _signed_in(busy_app, staff)
    held = HeldRead(engine, table)
    exported = {}

    def run_export():
        try:
            exported["response"] = staff_client.get(url)
        except Exception as exc:  # a failure to look at, not a lost thread
            exported["response"] = exc

    held.thread = threading.Thread(target=run_export)
    held.thread.start()
    try:
        assert held.reading.wait(WAIT), "the export never reached its read"
        started = time.monotonic()
        response = post_form(busy_app.test_client(), register_url, form)
        waited = time.monotonic() - started
    finally:
        held.release.set()
        held.thread.join(WAIT)
        held.remove()
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True))
    assert waited < BUSY_TIMEOUT_MS / 1000, f"the registration waited {waited:.1f} s for a read"
    exported = exported["response"]
    assert not isinstance(exported, Exception), exported
    assert exported.status_code == 200, (exported.status_code, exported.get_data(as_text=True))
    assert load_workbook(io.BytesIO(exported.data)).sheetnames
    with busy_app.app_context():
        assert db.session.scalar(select(func.count(model.id))) == registered_before + 1
        # the export's own audit row, and the registration's, both committed
        assert db.session.scalar(select(func.count(AuditLog.id))) >= exports_before + 2


def test_a_long_read_cannot_write_and_leaves_its_connection_writable(busy_app):
    with busy_app.app_context():
        with pytest.raises(DBAPIError):  # SQLite query_only, PostgreSQL READ ONLY
            with long_read():
                raw = db.session.connection().connection.dbapi_connection
                db.session.execute(text("UPDATE cache_tokens SET token = token"))
        db.session.rollback()
        # back in the pool, the connection is a writer's again
        if db.engine.dialect.name == "sqlite":
            assert raw.execute("PRAGMA query_only").fetchone()[0] == 0
        else:
            assert not raw.read_only
        with short_write():
            db.session.execute(text("UPDATE cache_tokens SET token = 'after' "
                                    "WHERE name = 'need_list'"))
        assert db.session.scalar(select(CacheToken.token).where(
            CacheToken.name == "need_list")) == "after"
        db.session.remove()


@SQLITE_ONLY
def test_the_real_engine_waits_its_busy_timeout_in_wal_mode(app, tmp_path, monkeypatch):
    """The production config on the embedded database: WAL and the configured busy timeout
    on the app's own engine (pysqlite's default, 5 s, is what failed the registrations)."""
    from app import create_app

    url = f"sqlite:///{tmp_path}/prod.db"
    monkeypatch.setenv("DATABASE_URL", url)
    production = create_app("config.ProductionConfig", SQLALCHEMY_DATABASE_URI=url,
                            SECRET_KEY="x" * 48, REDIS_URL=app.config["REDIS_URL"])
    with production.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == (
                production.config["SQLITE_BUSY_TIMEOUT_MS"]) >= 15000
        db.engine.dispose()


def _hold_write_lock(engine, seconds, taken):
    """Another writer: holds SQLite's write lock ``seconds``, then commits a change."""
    with engine.connect() as conn:
        conn.exec_driver_sql("UPDATE cache_tokens SET token = token")  # BEGIN IMMEDIATE
        taken.set()
        time.sleep(seconds)
        conn.commit()


@SQLITE_ONLY
@pytest.mark.parametrize("hold,status", [(BUSY_TIMEOUT_MS / 2000, 200),
                                         (BUSY_TIMEOUT_MS * 3 / 1000, 503)])
def test_an_exports_audit_row_waits_its_turn_and_is_busy_only_after_the_timeout(
        busy_app, hold, status):
    """Its write waits behind another writer (it was refused at once when it came in the
    read's transaction); a 503 comes only after the whole busy timeout."""
    with busy_app.app_context():
        make = Factories(busy_app)
        make.need(make.enterprise("420100"), NeedState.published)
        staff = make.user("Province").username
        engine = db.engine
        db.session.remove()
    client = _signed_in(busy_app, staff)
    held = HeldRead(engine, "needs")
    held.release.set()
    taken = threading.Event()
    exported = {}

    def run_export():
        started = time.monotonic()
        exported["response"] = client.get("/needlist/export.xlsx")
        exported["seconds"] = time.monotonic() - started

    held.thread = threading.Thread(target=run_export)
    held.thread.start()
    try:
        assert held.reading.wait(WAIT)
        # the export is reading; a writer takes the lock and keeps it past the read's end
        holder = threading.Thread(target=_hold_write_lock, args=(engine, READ_SECONDS + hold,
                                                                 taken))
        holder.start()
        assert taken.wait(WAIT)
        held.thread.join(WAIT)
        holder.join(WAIT)
    finally:
        held.remove()
    response = exported["response"]
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 503:
        assert response.headers["Retry-After"] == "1"
        # it waited for the lock: from the end of the read, the whole busy timeout
        assert exported["seconds"] >= READ_SECONDS + BUSY_TIMEOUT_MS / 1000 - 0.1
    else:
        assert load_workbook(io.BytesIO(response.data)).sheetnames


def test_a_registration_goes_through_while_a_printed_document_renders(busy_app, monkeypatch):
    """A printed document (立项审批表) writes its verification code, then renders the PDF:
    the rendering, however slow, holds no lock (it held the write lock before the commit)."""
    from app.domain.documents import pdf

    with busy_app.app_context():
        make = Factories(busy_app)
        need = make.need(make.enterprise("420100"), NeedState.published)
        contract = make.contract(need, make.researcher("420100"))
        project_id = make.project(contract).id
        province = make.user("Province")
        db.session.add(ReviewRecord(subject_type="contracts", subject_id=contract.id,
                                    action="approve", from_state="submitted",
                                    to_state="approved", opinion="同意立项", actor=province))
        db.session.commit()
        staff, form = province.username, enterprise_form(make)
        db.session.remove()
    rendering, release, render = threading.Event(), threading.Event(), pdf.render

    def slow_render(*args, **kwargs):
        rendering.set()
        release.wait(WAIT)
        time.sleep(READ_SECONDS)
        return render(*args, **kwargs)

    monkeypatch.setattr(pdf, "render", slow_render)
    client, printed = _signed_in(busy_app, staff), {}
    thread = threading.Thread(target=lambda: printed.setdefault(
        "response", client.get(f"/projectmodelview/approval_pdf/{project_id}")))
    thread.start()
    try:
        assert rendering.wait(WAIT), "the document never reached its rendering"
        started = time.monotonic()
        response = post_form(busy_app.test_client(), "/register/enterprise", form)
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(WAIT)
    assert response.status_code == 302 and waited < BUSY_TIMEOUT_MS / 1000, (
        response.status_code, waited)
    assert printed["response"].status_code == 200
    assert printed["response"].data.startswith(b"%PDF")


def _thread_with_an_unread_message(app):
    """An enterprise's signed-in client, and the thread of a proposal to its need in which the
    researcher wrote a message the enterprise has not read."""
    from app.models import Message

    with app.app_context():
        make = Factories(app)
        need = make.need(make.enterprise("420100"), NeedState.published)
        researcher = make.researcher("420100")
        proposal = make.proposal(need, researcher)
        owner = make.user("Enterprise", enterprise_id=need.enterprise_id).username
        writer = make.user("Researcher", researcher_id=researcher.id)
        db.session.add(Message(proposal_id=proposal.id, sender_id=writer.id, body="请看附件方案"))
        db.session.commit()
        proposal_id, engine = proposal.id, db.engine
        db.session.remove()
    return _signed_in(app, owner), proposal_id, engine


def _unread(app, proposal_id):
    from app.models import Message

    with app.app_context():
        count = db.session.scalar(select(func.count(Message.id)).where(
            Message.proposal_id == proposal_id, Message.read_at.is_(None)))
        db.session.remove()
    return count


@SQLITE_ONLY
def test_a_page_read_while_another_writer_commits_still_notes_it_was_seen(busy_app):
    """The round's walk got a 503 from a message thread: the GET read the proposal, another
    writer committed, and the thread's "read" mark, written in the GET's read transaction,
    was refused at once (SQLite: the snapshot is stale). The mark has a transaction of its
    own now (long_reads.noted)."""
    client, proposal_id, engine = _thread_with_an_unread_message(busy_app)
    held = HeldRead(engine, "proposals")
    shown = {}
    held.thread = threading.Thread(target=lambda: shown.setdefault(
        "response", client.get(f"/docking/thread/{proposal_id}")))
    held.thread.start()
    try:
        assert held.reading.wait(WAIT)
        with engine.begin() as conn:  # another writer commits while the page reads
            conn.exec_driver_sql("UPDATE cache_tokens SET token = token || ''")
        held.release.set()
        held.thread.join(WAIT)
    finally:
        held.remove()
    assert shown["response"].status_code == 200
    assert "请看附件方案" in shown["response"].get_data(as_text=True)
    assert _unread(busy_app, proposal_id) == 0


@SQLITE_ONLY
def test_a_page_is_shown_when_its_note_cannot_wait_for_the_write_lock(busy_app):
    """Another writer keeps the lock past the busy timeout: the thread is shown, unmarked,
    rather than a 503; the next visit marks it."""
    client, proposal_id, engine = _thread_with_an_unread_message(busy_app)
    taken = threading.Event()
    holder = threading.Thread(target=_hold_write_lock,
                              args=(engine, BUSY_TIMEOUT_MS * 2 / 1000, taken))
    holder.start()
    try:
        assert taken.wait(WAIT)
        response = client.get(f"/docking/thread/{proposal_id}")
    finally:
        holder.join(WAIT)
    assert response.status_code == 200 and "请看附件方案" in response.get_data(as_text=True)
    assert _unread(busy_app, proposal_id) == 1
    assert client.get(f"/docking/thread/{proposal_id}").status_code == 200
    assert _unread(busy_app, proposal_id) == 0


def test_watching_a_push_round_waits_for_no_writer(busy_app):
    """The watcher of a push round (the CLI, the benchmark) reads its progress while the
    blocks write: on SQLite it asked for the write lock and failed after the busy timeout."""
    from app.domain.matching import push_rounds

    with busy_app.app_context():
        round_id = push_rounds.start_push_round("watched", blocks=2, in_background=False).id
        db.session.commit()  # the session holds nothing now
        writer = db.engine.connect()
        writer.begin()  # on SQLite outside a request: BEGIN IMMEDIATE, a block's write lock
        if db.engine.dialect.name == "sqlite":
            writer.exec_driver_sql("DELETE FROM push_round_blocks WHERE 0")
        else:  # writers wait, readers do not
            writer.exec_driver_sql("LOCK TABLE push_round_blocks IN EXCLUSIVE MODE")
        try:
            started = time.monotonic()
            state = push_rounds.progress_of(round_id)
            assert time.monotonic() - started < BUSY_TIMEOUT_MS / 1000
        finally:
            writer.rollback()
            writer.close()
        assert state["blocks"] >= 2 and state["blocks_done"] == 0 and not state["finished"]
