"""Digests of new matches: one per person and period, to both sides (SPEC §5).

A push round reaches every researcher and enterprise with a match nobody has told them about:
at 10× national scale a million people and tens of millions of matches. So the round streams the
owners with untold matches in batches, reads plain columns (never match or user objects), writes
the batch's outbox rows in one INSERT that the database itself keeps idempotent (a row whose key
exists is skipped: ``ON CONFLICT DO NOTHING``) and may commit after each batch. The stamps that
say a match was told are written in the order of the table's pages (``send_side_digests``).
The keys are those ``notify`` gives, so a re-run of a period sends nothing twice.
"""
import datetime as dt
from array import array
from dataclasses import dataclass

import numpy
from flask import current_app
from sqlalchemy import Integer, any_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core.notifications.delivery import enqueue_send
from app.extensions import SQLITE_BEGIN, db
from app.models import AppUser, Channel, Match, Need, NeedState, Notification
from app.models.mixins import utcnow
from app.utils import clock

BATCH = 2000  # owners per batch: a few thousand rows per statement
READ_CHUNK = 50_000  # match rows fetched at a time by the researchers' one pass
STAMP_ROWS = 100_000  # matches stamped per commit, in id order
RUN_ROWS = 64  # consecutive ids stamped by one range rather than listed


@dataclass(frozen=True)
class Side:
    name: str  # "researcher" or "enterprise"
    user_column: object  # the accounts of a match's owner: its researcher, its need's enterprise
    stamp: object  # when this side was told


SIDES = (Side("researcher", AppUser.researcher_id, Match.pushed_at),
         Side("enterprise", AppUser.enterprise_id, Match.enterprise_pushed_at))


def send_digests(period: str, today: dt.date | None = None, commit: bool = False) -> int:
    """Push every match nobody has been told about: one digest per person and period (site and
    e-mail), an SMS at most ``DIGEST_SMS_PER_DAY`` times a day. ``period`` names the digest run
    (e.g. the date or the hour): running it again never sends twice. Writes outbox rows and
    stamps matches in the session's transaction; with ``commit`` it commits after each batch
    (a push round of a million people), else it only flushes. Returns the digests created.
    In one process: a push round's blocks do the same by ranges of owners (push_rounds.py)."""
    today = today or clock.today()
    return sum(send_side_digests(side, period, today, commit)[0] for side in SIDES)


def published_needs(first_enterprise=None, last_enterprise=None) -> dict:
    """``{need id: enterprise id}`` of the published needs (of the enterprises in the range).
    Kept as a dict rather than joined: SQLite would then walk every published need for each
    batch of owners (20,000 x 2,000 probes)."""
    return dict(db.session.execute(select(Need.id, Need.enterprise_id).where(
        Need.state == NeedState.published, *_within(Need.enterprise_id, first_enterprise,
                                                    last_enterprise))).all())


def _within(column, first, last) -> list:
    return ([column >= first] if first is not None else []) + (
        [column <= last] if last is not None else [])


def _untold(side: Side, first, last, made_until=None):
    """The side's untold matches (id, need, researcher) of the owners in the range: for the
    whole side in table order, by saying so (with an index on (dismissed, score) SQLite read the
    rows in score order, and each stamping statement then wrote scattered pages); for a range,
    through the owners' index (the caller sorts the ids before stamping)."""
    statement = select(Match.id, Match.need_id, Match.researcher_id).where(
        Match.dismissed.is_(False), side.stamp.is_(None),
        *([Match.created_at <= made_until] if made_until is not None else []))
    if first is None and last is None:
        statement = statement.order_by(Match.id)
    elif side.name == "researcher":
        statement = statement.where(*_within(Match.researcher_id, first, last))
    else:
        statement = statement.where(Match.need_id.in_(select(Need.id).where(
            Need.state == NeedState.published, *_within(Need.enterprise_id, first, last))))
    # Core, not the ORM: plain tuples at half the cost a row (2 million rows: 9.5 s -> 4 s).
    return db.session.connection().execute(statement.execution_options(yield_per=READ_CHUNK))


def send_side_digests(side: Side, period, today, commit, first=None, last=None,
                      published=None, made_until=None) -> tuple[int, int]:
    """One side's digests, for its owners with ids from ``first`` to ``last`` (all when
    None): (digests created, matches told). Its untold matches are read in one pass and
    stamped afterwards in id order, never owner by owner: a researcher's matches lie on every
    page of the table (it is written need by need), and an enterprise's needs lie wherever
    they were published, so stamping batches of owners rewrote each page of the table once per
    batch, 500 times at 10x national; in id order each page is written once (once per block
    of a push round). A round cut short before its stamps tells those owners again in the next
    period (a repeat, never a silence); within one period the outbox keys send nothing
    twice, so a block run again after its worker died sends nothing it sent."""
    by_researcher = side.name == "researcher"
    if commit:
        # Read in a reading transaction: on SQLite a worker's transaction otherwise begins by
        # taking the write lock, and the other blocks' workers would wait for this read.
        db.session.commit()
        db.session.connection(execution_options={SQLITE_BEGIN: "read"})
    if published is None:
        published = (published_needs() if by_researcher or first is None and last is None
                     else published_needs(first, last))
    needs_of, researchers_of, told = {}, {}, array("q")
    for match_id, need_id, researcher_id in _untold(side, first, last, made_until):
        if need_id not in published:
            continue
        owner = researcher_id if by_researcher else published[need_id]
        needs = needs_of.get(owner)
        if needs is None:
            needs = needs_of[owner] = array("i")
            if not by_researcher:
                researchers_of[owner] = array("i")
        needs.append(need_id)
        if not by_researcher:
            researchers_of[owner].append(researcher_id)
        told.append(match_id)
    if commit:
        db.session.rollback()  # the read ends; each batch below writes in a short transaction
    owners = sorted(needs_of)
    sent = 0
    for start in range(0, len(owners), BATCH):
        payloads = {owner: {"needs": set(needs_of[owner]),
                            "researchers": {owner} if by_researcher else set(researchers_of[owner]),
                            "count": len(needs_of[owner])}
                    for owner in owners[start:start + BATCH]}
        sent += _send(side, payloads, period, today)
        if commit:
            db.session.commit()
    del needs_of, researchers_of
    told = numpy.sort(numpy.frombuffer(told, dtype=numpy.int64))
    for start in range(0, len(told), STAMP_ROWS):
        _stamp_ids(side, told[start:start + STAMP_ROWS])
        if commit:
            db.session.commit()
    db.session.flush()
    return sent, len(told)


def _send(side: Side, payloads, period, today) -> int:
    """Outbox rows of the owners' digests, each sent by a job; the number of digests."""
    users = db.session.execute(select(AppUser.id, AppUser.email, AppUser.phone, side.user_column)
                               .where(side.user_column.in_(list(payloads)))).all()
    template = f"match.digest_{side.name}"
    rows, sms_users = [], []
    # Told already in this period (a block run again): its site row is there. No SMS again,
    # which would take the next of the day's slots, whose keys do not name the period.
    site_keys = {_row(user_id, Channel.site, template, None,
                      f"digest:{period}:{side.name}{owner_id}")["idempotency_key"]: user_id
                 for user_id, _email, _phone, owner_id in users}
    told = {site_keys[key] for key in db.session.scalars(select(Notification.idempotency_key)
                                                         .where(Notification.idempotency_key
                                                                .in_(list(site_keys))))}
    for user_id, email, phone, owner_id in users:
        found = payloads[owner_id]
        payload = {"side": side.name, "count": found["count"], "path": "/recommended/",
                   "needs": sorted(found["needs"]), "researchers": sorted(found["researchers"])}
        channels = [Channel.site] + ([Channel.email] if email else [])
        for channel in channels:
            rows.append(_row(user_id, channel, template, payload,
                             f"digest:{period}:{side.name}{owner_id}"))
        if phone and user_id not in told:
            sms_users.append((user_id, template, payload))
    rows += _sms_rows(sms_users, today)
    for notification_id in _insert_new(rows):
        enqueue_send(notification_id)
    return len(users)


def _stamp_ids(side: Side, ids):
    """Stamp the matches of these ids (ascending) as told, in that order. Matches are written
    need by need, so the untold ids of a round come in long unbroken runs: a run is stamped as
    one range, which costs SQLite half the time of IN lists of the same rows (every list of
    5,000 is rendered and bound again), and the ids between runs in lists."""
    now = utcnow()
    loose = []
    for first, last in _runs(ids):
        if last - first + 1 < RUN_ROWS:
            loose.extend(range(first, last + 1))
            continue
        _stamp_listed(side, loose, now)
        loose = []
        _stamp(side, Match.id.between(first, last), now)
    _stamp_listed(side, loose, now)


def _stamp_listed(side: Side, ids, now):
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        # PostgreSQL: one array parameter. An IN list of 5,000 placeholders was rendered by
        # SQLAlchemy and split again by the driver for every statement: a third of the
        # stamping's time in a province round.
        _stamp(side, Match.id == any_(bindparam("ids", chunk, type_=postgresql.ARRAY(Integer)))
               if on_postgresql else Match.id.in_(chunk), now)


def _runs(ids):
    """(first, last) of each run of consecutive ids in an ascending sequence."""
    ids = numpy.asarray(ids, dtype=numpy.int64)
    if not len(ids):
        return []
    breaks = numpy.flatnonzero(numpy.diff(ids) != 1)
    firsts = numpy.concatenate((ids[:1], ids[breaks + 1]))
    lasts = numpy.concatenate((ids[breaks], ids[-1:]))
    return zip(firsts.tolist(), lasts.tolist())


def _stamp(side: Side, among, now):
    db.session.execute(update(Match).where(among).values({side.stamp.key: now})
                       .execution_options(synchronize_session=False))


def _row(user_id, channel, template, payload, event_key):
    # The key notify() gives: one row per (event, recipient, channel).
    return {"user_id": user_id, "channel": channel, "template": template, "payload": payload,
            "idempotency_key": f"{event_key}:user{user_id}:{channel.value}"}


def _sms_rows(sms_users, today):
    """An SMS in the first of the day's ``DIGEST_SMS_PER_DAY`` slots that is still free; a
    person whose slots are all taken gets none until tomorrow."""
    per_day = current_app.config.get("DIGEST_SMS_PER_DAY", 1)
    if not sms_users or per_day <= 0:
        return []
    candidates = {(user_id, slot): _row(user_id, Channel.sms, template, payload,
                                        f"digest-sms:{today.isoformat()}:{slot}")
                  for user_id, template, payload in sms_users for slot in range(per_day)}
    keys = [row["idempotency_key"] for row in candidates.values()]
    taken = set()
    for start in range(0, len(keys), 5000):
        taken.update(db.session.scalars(select(Notification.idempotency_key).where(
            Notification.idempotency_key.in_(keys[start:start + 5000]))))
    rows = []
    for user_id, _template, _payload in sms_users:
        free = [slot for slot in range(per_day)
                if candidates[user_id, slot]["idempotency_key"] not in taken]
        if free:
            rows.append(candidates[user_id, free[0]])
    return rows


def _insert_new(rows) -> list[int]:
    """Insert the rows whose key is new, in one statement; the ids of those inserted. Core, not
    the ORM's bulk insert: its bookkeeping per row was a third of the insert's time, and the
    batch shares one time stamp instead of two clock readings a row."""
    if not rows:
        return []
    now = utcnow()
    for row in rows:
        row["created_at"] = row["updated_at"] = now
    table = Notification.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(table).on_conflict_do_nothing(
        index_elements=[table.c.idempotency_key]).returning(table.c.id))
    return list(db.session.connection().execute(statement, rows).scalars())
