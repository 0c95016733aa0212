"""The database under contention: a file-backed SQLite, as ``python run.py`` uses it (or the
PostgreSQL of TEST_DATABASE_URL), with requests in parallel threads. Contention waits or is refused in words; it is never an
outage (503) or an error (500), and every wrong password counts."""
import os
import threading

import pytest
from factories import PASSWORD, Factories
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.core.security import sync_roles
from app.domain.reference.loader import seed_reference_data
from app.extensions import db
from app.models import AppUser, Contract, ContractState, NeedState, Project

PARALLEL = 8


def _own_database(tmp_path, suffix="contention") -> str:
    """A database of the test's own, committed to for real: a SQLite file, or with
    TEST_DATABASE_URL a PostgreSQL database beside the suite's (``<name>_<suffix>``)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path}/c.db"
    base, name = url.rsplit("/", 1)
    own = f"{name}_{suffix}"
    engine = create_engine(f"{base}/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{own}"')
    engine.dispose()
    return f"{base}/{own}"


def _file_app(app, tmp_path, suffix="contention", **overrides):
    """The app on a database of its own (the suite's joins one connection per test)."""
    embedded = create_app("config.TestConfig",
                          SQLALCHEMY_DATABASE_URI=_own_database(tmp_path, suffix),
                          UPLOAD_FOLDER=str(tmp_path / "u"), REDIS_URL=app.config["REDIS_URL"],
                          **overrides)
    with embedded.app_context():
        upgrade()
        seed_reference_data()
        sync_roles(embedded.appbuilder)
        db.session.remove()
    return embedded


@pytest.fixture()
def file_app(app, tmp_path):
    embedded = _file_app(app, tmp_path)
    yield embedded
    with embedded.app_context():
        db.engine.dispose()


@pytest.fixture()
def impatient_app(app, tmp_path):
    """One whose writers wait only 0.3 s for the write lock."""
    embedded = _file_app(app, tmp_path, SQLITE_BUSY_TIMEOUT_MS=300)
    yield embedded
    with embedded.app_context():
        db.engine.dispose()


def _in_parallel(calls):
    """Run the calls at once (a barrier starts them together); their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # a failure is a result to look at, not a lost thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _signed_in(app, username):
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


SQLITE_ONLY = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                 reason="the embedded SQLite's own settings")


@SQLITE_ONLY
def test_the_embedded_database_runs_in_wal_mode_and_waits_for_locks(file_app):
    with file_app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            # exactly the configured wait: pysqlite's own default (5 s) would also pass ">="
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == (
                file_app.config["SQLITE_BUSY_TIMEOUT_MS"])


def test_parallel_approvals_of_one_contract_approve_it_once_and_fail_none(file_app):
    with file_app.app_context():
        make = Factories(file_app)
        researcher = make.researcher("420100")
        need = make.need(make.enterprise("420100"), NeedState.published)
        contract = make.contract(need, researcher)
        clerks = [make.user("Province").username for _ in range(PARALLEL)]
        contract_id = contract.id
        db.session.remove()
    clients = [_signed_in(file_app, name) for name in clerks]
    responses = _in_parallel([
        (lambda c=c: c.post(f"/contractmodelview/decide/{contract_id}",
                            data={"action": "approve", "opinion": ""})) for c in clients])
    statuses = [r.status_code if not isinstance(r, Exception) else repr(r) for r in responses]
    # One approves; each other is told on the page why not (422); none 503 or 500.
    assert sorted(statuses, key=str) == [302] + [422] * (PARALLEL - 1), statuses
    with file_app.app_context():
        assert db.session.get(Contract, contract_id).state is ContractState.approved
        assert db.session.scalar(select(func.count(Project.id))) == 1


ALL_TOKENS_IN_NAME_ORDER = ("UPDATE cache_tokens SET token = token WHERE name IN "
                            "(SELECT name FROM cache_tokens ORDER BY name FOR UPDATE)")


def test_every_wrong_password_counts_while_others_write(file_app):
    with file_app.app_context():
        make = Factories(file_app)
        target = make.user("Enterprise").username
        writers = [make.user("Platform").username for _ in range(3)]
        limit = file_app.config["LOGIN_MAX_FAILURES"]
        db.session.remove()
    stop = threading.Event()

    def keep_writing():
        """A notification burst's shape: back-to-back write transactions."""
        with file_app.app_context():
            while not stop.is_set():
                # On PostgreSQL in the tokens' name order, as the app replaces them
                # (cache_tokens.py): rows locked in table order deadlocked with each other.
                postgresql = db.engine.dialect.name == "postgresql"
                db.session.execute(text(ALL_TOKENS_IN_NAME_ORDER if postgresql
                                        else "UPDATE cache_tokens SET token = token"))
                db.session.commit()
            db.session.remove()

    writer_threads = [threading.Thread(target=keep_writing) for _ in writers]
    for thread in writer_threads:
        thread.start()
    try:
        responses = _in_parallel([
            (lambda: file_app.test_client().post(
                "/login/", data={"username": target, "password": "wrong-Password-1"}))
            for _ in range(limit)])
    finally:
        stop.set()
        for thread in writer_threads:
            thread.join(30)
    statuses = [r.status_code if not isinstance(r, Exception) else repr(r) for r in responses]
    assert statuses == [302] * limit, statuses
    with file_app.app_context():
        user = db.session.scalars(select(AppUser).filter_by(username=target)).one()
        assert user.fail_login_count == limit and user.locked_until is not None


@SQLITE_ONLY
def test_a_lock_held_past_the_timeout_is_busy_not_down(impatient_app):
    file_app = impatient_app
    with file_app.app_context():
        make = Factories(file_app)
        clerk = make.user("Province").username
        contract_id = make.contract(make.need(make.enterprise("420100"), NeedState.published),
                                    make.researcher("420100")).id
        db.session.remove()
    client = _signed_in(file_app, clerk)
    with file_app.app_context():
        with db.engine.connect() as holder:  # another process holding the write lock
            holder.exec_driver_sql("UPDATE cache_tokens SET token = token")  # BEGIN IMMEDIATE
            response = client.post(f"/contractmodelview/decide/{contract_id}",
                                   data={"action": "approve", "opinion": ""})
            holder.rollback()
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "平台此刻正忙" in page and "数据库暂时不可用" not in page
