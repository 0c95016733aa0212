"""Long reads (exports, reports) never stand in the way of writes, nor fail because of them.

A staff export or the round's dashboard reads for seconds, at province scale for tens of
seconds. Run in the request's own transaction, such a read hurt everyone on the embedded SQLite:

- before WAL, its shared lock kept every writer out: a registration posted meanwhile waited
  pysqlite's 5 s and was answered 503 (the failure the outside pass reported);
- with WAL, the read keeps its snapshot to the end, and the export then wrote its audit row in
  that same (deferred) transaction. If anyone had committed meanwhile (that registration),
  SQLite refused the write at once, without the busy timeout (SQLITE_BUSY_SNAPSHOT, "database
  is locked"), and the export ended in the "busy, try again" page after all its reading; had
  the write come first, the export would have held the write lock across its whole read.

So a long read runs in a transaction of its own that cannot write (``long_read``): deferred
and ``PRAGMA query_only`` on SQLite, ``READ ONLY`` on PostgreSQL (no row locks, no write
possible). It takes no lock a writer waits for and keeps no snapshot past its block. What the
request then records (the export's audit row) goes in a short transaction of its own after the
read (``short_write``), which asks for SQLite's write lock as it begins, even in a GET: it
waits its turn behind other writers, up to the busy timeout (``SQLITE_BUSY_TIMEOUT_MS``),
instead of being refused at once; a "busy" page (app/core/outages.py) comes only after that
wait.

Use them in that order in a view::

    with long_read():
        rows = ...                      # every query of the report
        data = workbook(rows)           # built here: the rows expire when the block ends
        count = len(rows)
    with short_write():
        audit.record("x.export", None, after={"rows": count}, ...)
    return send_file(io.BytesIO(data), ...)
"""
import logging
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session

from app.core.outages import is_busy
from app.extensions import SQLITE_BEGIN, db

logger = logging.getLogger(__name__)


def _joined(session) -> bool:
    """A session bound to a connection of its own (the test suite joins every request to one
    outer transaction): its transactions are savepoints, whose start options cannot change."""
    return session.bind is not None


@contextmanager
def long_read(session=None):
    """A read-only transaction for the block, begun afresh and ended (rolled back) after it.

    Whatever the request had open before is committed first (it should hold nothing but the
    signed-in user's reads). Objects loaded in the block are expired when it ends: build what
    the response needs from them inside it. A write in the block is refused by the database
    (SQLite: "attempt to write a readonly database"; PostgreSQL: "read-only transaction")."""
    session = session if session is not None else db.session
    _commit_keeping_loaded(session)
    dialect = session.get_bind().dialect.name
    if _joined(session):
        connection = session.connection()
    else:
        options = {SQLITE_BEGIN: "read"}
        if dialect == "postgresql":
            options["postgresql_readonly"] = True  # reset when the connection is handed back
        connection = session.connection(execution_options=options)
    guarded = dialect == "sqlite"
    if guarded:
        connection.exec_driver_sql("PRAGMA query_only=1")
    try:
        yield session
    finally:
        if guarded:
            _writable_again(connection)
        session.rollback()


def _commit_keeping_loaded(session):
    """Commit what the request had open without expiring what it loaded (the signed-in user,
    read once per request: expired, it was read again by the first page that used it)."""
    real = session() if isinstance(session, scoped_session) else session
    expire = real.expire_on_commit
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = expire


def _writable_again(connection):
    """Lift ``query_only`` before the connection goes back to the pool; a connection on which
    that fails is dropped, never handed to a writer still read-only."""
    try:
        connection.exec_driver_sql("PRAGMA query_only=0")
    except Exception:
        logger.warning("could not end a read-only block; dropping its connection", exc_info=True)
        connection.invalidate()


@contextmanager
def short_write(session=None, keep_loaded=False):
    """A transaction of its own for a few writes, committed when the block ends (rolled back if
    it raises). On SQLite it begins with the write lock (``BEGIN IMMEDIATE``) whatever the
    request's method, so it waits for other writers instead of failing in mid-transaction.
    With ``keep_loaded`` its commits expire nothing the request loaded (for writes that do
    not change those rows: a page read them once, and would read each again)."""
    session = session if session is not None else db.session
    commit = (lambda: _commit_keeping_loaded(session)) if keep_loaded else session.commit
    commit()
    if _joined(session):
        session.connection()
    else:
        session.connection(execution_options={SQLITE_BEGIN: "write"})
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    commit()


def note(write, *args, session=None) -> bool:
    """Run ``write(*args)``, a write a page makes because it was seen (a thread marked read,
    the desk's last visit, a link's first opening), in a short transaction of its own
    (``short_write``): on SQLite a GET, which begins deferred, must not upgrade its read to a
    write (refused at once, a 503, when anyone committed in between). Should the write lock
    stay taken past the busy timeout, the note is dropped and the page shown all the same: it
    is made again on the next visit, and what the person came to see matters more. True if
    the note was written."""
    session = session if session is not None else db.session
    try:
        with short_write(session, keep_loaded=True):
            write(*args)
        return True
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        session.rollback()
        logger.warning("a page's note dropped, the database busy: %s", exc)
        return False
