"""Extension singletons. Only stateless holders live here; the AppBuilder is built per app
(a module-level AppBuilder breaks a second app in the same process, stack notes §1)."""
from flask import has_request_context, request
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event


class Session(FlaskSession):
    """Flask-SQLAlchemy's session ignores ``Session.bind``; honouring it lets the test
    suite join every request to one outer transaction and roll it back per test."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLA(session_options={"class_": Session})
csrf = CSRFProtect()
migrate = Migrate()


def configure_sqlite(engine, busy_timeout_ms: int = 15000):
    """Real transactions on SQLite, fit for a web server and workers at once.

    - pysqlite's own BEGIN handling breaks SAVEPOINTs (the documented SQLAlchemy recipe), and
      foreign keys are off unless asked for;
    - a file database runs in WAL mode: readers never wait for the writer, nor it for them;
    - a connection waits up to ``busy_timeout_ms`` for the write lock instead of failing at
      once with "database is locked";
    - a transaction that may write takes the write lock when it begins (``BEGIN IMMEDIATE``).
      A deferred transaction reads first and asks for the lock at its first write; if another
      writer committed in between, SQLite refuses it at once whatever the timeout (its
      snapshot is stale), which turned parallel decisions into errors. Only a request that
      cannot write (GET, HEAD, OPTIONS) begins deferred, so pages never queue behind writers;
      a transaction may say how it begins with the execution option ``SQLITE_BEGIN`` (a long
      read, a re-match block reading its corpus while others store theirs).
    """
    if engine.dialect.name != "sqlite":
        return
    file_backed = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if file_backed:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if _reads_only(connection) else "BEGIN IMMEDIATE")


# The execution option with which a transaction says how it begins on SQLite, whatever the
# request's method: "read" (deferred, app/core/long_reads.long_read) or "write" (immediate,
# short_write: a GET that records something must not ask for the lock in mid-transaction).
SQLITE_BEGIN = "platform_sqlite_begin"


def _reads_only(connection=None) -> bool:
    said = connection.get_execution_options().get(SQLITE_BEGIN) if connection is not None else None
    if said is not None:
        return said == "read"
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
