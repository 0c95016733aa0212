"""Each role's desk (待办) and inbox at province scale: SQL per page, the navbar badge's cost,
and the pages under load against the bare endpoint.

    python -m bench.desk [--scale province] [--database sqlite|URL] [--reuse]
                         [--seconds 10] [--connections 8] [--workers 4]

Generates the data (``bench/generate.py``; ``--reuse`` takes a database generated before), then
gives it a back office's backlog (``backlog``: registrations, needs and researchers waiting in
every region, contracts and projects in every state, a few thousand messages in each bench
user's inbox) and a user of each role: the bureau of the region with the most enterprises, the
platform, the province, the enterprise with the most proposals, the researcher with the most
proposals. Then, for each of them:

- SQL statements of the desk (the first after a write to a table it counts, then kept) and of
  the inbox, counted in-process;
- the badge: the signed-in user's row read with and without its count of unread messages,
  the difference against the kept desk, the cheapest back-office page (target ≤ 5 %), and
  against a signed-in request of the bare endpoint, which renders nothing;
- desk and inbox served by gunicorn, driven by wrk, against ``/bench/bare`` signed in as the
  same user (the desk's target: ≥ 0.25 of its throughput).
"""
import datetime as dt
import random
import shutil
import statistics
import sys
import time

from .need_pages import Server, _sign_in, generated_app, load, page_bench_main

TARGET_RATIO = 0.25
TARGET_BADGE = 0.05
PASSWORD = "Bench-Desk-2020"
ROLES = ("Bureau", "Platform", "Province", "Enterprise", "Researcher")
MESSAGES_PER_USER = 3000  # in-site messages in each bench user's inbox; a tenth unread


def _username(role):
    return f"bench_{role.lower()}"


# -- the backlog ------------------------------------------------------------------------------

def backlog(app, rnd):
    """Work waiting in every region and a user of each role with a full inbox; done once per
    database (the bench bureau's account marks it)."""
    from sqlalchemy import func, select

    from app.core.security import sync_roles
    from app.extensions import db
    from app.models import AppUser, Enterprise, Need, Proposal

    with app.app_context():
        sync_roles(app.appbuilder)
        if db.session.scalar(select(AppUser.id).where(
                AppUser.username == _username("Bureau"))) is not None:
            return
        _waiting_records(db, rnd)
        _contracts_and_projects(db, rnd)
        region = db.session.execute(select(Enterprise.region_id, func.count()).group_by(
            Enterprise.region_id).order_by(func.count().desc()).limit(1)).one()[0]
        enterprise = db.session.execute(
            select(Need.enterprise_id, func.count(Proposal.id)).join(Proposal)
            .group_by(Need.enterprise_id).order_by(func.count(Proposal.id).desc()).limit(1)).one()[0]
        researcher = db.session.execute(
            select(Proposal.researcher_id, func.count()).group_by(Proposal.researcher_id)
            .order_by(func.count().desc()).limit(1)).one()[0]
        links = {"Bureau": {"region_id": region}, "Enterprise": {"enterprise_id": enterprise},
                 "Researcher": {"researcher_id": researcher}}
        sm = app.appbuilder.sm
        for role in ROLES:
            user = sm.add_user(_username(role), role, "基准", f"{_username(role)}@bench.local",
                               sm.find_role(role), password=PASSWORD)
            for key, value in links.get(role, {}).items():
                setattr(user, key, value)
            db.session.commit()
            _inbox(db, rnd, user)


def _waiting_records(db, rnd):
    """Registrations, needs and researchers in the states a review waits on, in every region."""
    from sqlalchemy import select, update

    from app.models import Enterprise, Need, Researcher

    def some(model, share, where=()):
        ids = db.session.scalars(select(model.id).where(*where)).all()
        return rnd.sample(ids, int(len(ids) * share))

    enterprises = some(Enterprise, 0.03)
    needs = some(Need, 0.08)
    researchers = some(Researcher, 0.03)
    thirds = len(enterprises) // 3
    db.session.execute(update(Enterprise).where(Enterprise.id.in_(enterprises[thirds:]))
                       .values(state="submitted"))
    db.session.execute(update(Enterprise).where(Enterprise.id.in_(enterprises[:thirds]))
                       .values(state="returned", return_reason="营业执照扫描件不清晰"))
    fifth = len(needs) // 5
    for state, chunk in (("submitted", needs[:2 * fifth]), ("recommended", needs[2 * fifth:
                                                                                 4 * fifth])):
        db.session.execute(update(Need).where(Need.id.in_(chunk)).values(state=state))
    db.session.execute(update(Need).where(Need.id.in_(needs[4 * fifth:])).values(
        state="returned_by_bureau", return_reason="需求描述过于笼统，请补充技术指标"))
    db.session.execute(update(Researcher).where(Researcher.id.in_(researchers))
                       .values(state="submitted"))
    db.session.commit()


def _contracts_and_projects(db, rnd):
    """A contract for each selected proposal (one an enterprise), half of them funded projects
    in every state, a tenth with a report the researcher has not co-signed."""
    from sqlalchemy import insert, select

    from app.models import Contract, Need, Project, Proposal, Researcher

    rows = db.session.execute(
        select(Proposal.id, Proposal.need_id, Need.enterprise_id, Need.round_id,
               Proposal.researcher_id, Researcher.institution_id, Proposal.budget)
        .join(Need, Need.id == Proposal.need_id).join(Researcher)
        .where(Proposal.state == "selected").order_by(Proposal.id)).all()
    # Enterprises with a contract of the round already (bench.generate's funded projects)
    # take no second one: one project per enterprise and round.
    seen, chosen = set(db.session.scalars(select(Contract.enterprise_id))), []
    for row in rows:
        if row.enterprise_id not in seen:
            seen.add(row.enterprise_id)
            chosen.append(row)
    chosen = chosen[:6000]
    now, signed = dt.datetime(2021, 3, 1), dt.date(2021, 2, 20)
    contracts = [dict(round_id=row.round_id, need_id=row.need_id, proposal_id=row.id,
                      enterprise_id=row.enterprise_id, researcher_id=row.researcher_id,
                      institution_id=row.institution_id, amount=row.budget, signed_on=signed,
                      contract_file="contract.pdf", invoice_file="invoice.pdf",
                      transfer_file="transfer.pdf",
                      state="approved" if i % 2 else ("returned" if i % 6 == 0 else "submitted"),
                      return_reason="发票金额与合同不符" if i % 6 == 0 else None,
                      version=1, created_at=now, updated_at=now) for i, row in enumerate(chosen)]
    for start in range(0, len(contracts), 2000):
        db.session.execute(insert(Contract), contracts[start:start + 2000])
    db.session.commit()
    approved = db.session.execute(select(Contract.id, Contract.round_id, Contract.enterprise_id,
                                         Contract.researcher_id, Contract.amount)
                                  .where(Contract.state == "approved",
                                         Contract.proposal_id.is_not(None),
                                         ~Contract.id.in_(select(Project.contract_id)))).all()
    states = ("funded",) * 5 + ("reported", "reported", "accepted", "evaluated", "evaluated")
    projects = []
    for i, row in enumerate(approved):
        state = rnd.choice(states)
        projects.append(dict(
            number=f"2021BENCH{i:05d}", round_id=row.round_id, contract_id=row.id,
            enterprise_id=row.enterprise_id, researcher_id=row.researcher_id,
            funding=min(row.amount, 100000), state=state, version=1, created_at=now,
            updated_at=now,
            summary_submitted_at=None if state == "funded" else now,
            researcher_confirmed_at=None if state in ("funded", "reported") and i % 2 else now))
    for start in range(0, len(projects), 2000):
        db.session.execute(insert(Project), projects[start:start + 2000])
    db.session.commit()


def _inbox(db, rnd, user):
    """``MESSAGES_PER_USER`` in-site messages of the kinds the user's role gets (each with its
    e-mail twin, as the outbox writes them), over the last three months, a tenth unread."""
    from sqlalchemy import insert, select

    from app.models import Need, Notification, Proposal

    if user.researcher_id:
        proposals = db.session.scalars(select(Proposal.id).where(
            Proposal.researcher_id == user.researcher_id)).all()
    elif user.enterprise_id:
        proposals = db.session.scalars(select(Proposal.id).join(Need).where(
            Need.enterprise_id == user.enterprise_id)).all()
    else:
        proposals = []

    def message():
        if not (user.researcher_id or user.enterprise_id):
            table, state = rnd.choice((("needs", "submitted"), ("enterprises", "submitted"),
                                       ("researchers", "submitted"), ("contracts", "submitted"),
                                       ("projects", "reported")))
            return f"work.{table}.{state}", {"subject_id": rnd.randint(1, 20000),
                                             "state": state, "name": "某某科技有限公司"}
        kind = rnd.random()
        if kind < 0.3 and proposals:
            return "proposals.shortlisted", {"subject_id": rnd.choice(proposals),
                                             "state": "shortlisted"}
        if kind < 0.6:
            return "messages.new", {"need_title": "高精度注塑件在线检测", "excerpt": "您好，"
                                    "关于技术路线我们想进一步沟通。"}
        side = "researcher" if user.researcher_id else "enterprise"
        return "match.digest", {"side": side, "count": rnd.randint(1, 12)}

    start = dt.datetime.now() - dt.timedelta(days=90)
    rows = []
    for n in range(MESSAGES_PER_USER):
        template, payload = message()
        at = start + dt.timedelta(minutes=43 * n)
        for channel in ("site", "email"):
            rows.append(dict(
                user_id=user.id, channel=channel, template=template, payload=payload,
                state="sent", attempts=1, idempotency_key=f"bench-desk:{user.id}:{n}:{channel}",
                token=f"bd{user.id}x{n}{channel[0]}", sent_at=at, created_at=at, updated_at=at,
                read_at=None if channel == "site" and n % 10 == 0 else at))
    db.session.execute(insert(Notification), rows)
    db.session.commit()


# -- in-process: statements, the badge --------------------------------------------------------

def _statements(client, engine, path):
    from sqlalchemy import event

    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement != "BEGIN":
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen), elapsed


def _forget_kept_counts(app):
    """As after a write to a table the desk counts: its counts are made again."""
    for store in [name for name in app.extensions if name.startswith("list_counts ")]:
        app.extensions.pop(store)


def in_process(app, rounds=30):
    """Per role: the desk's statements and milliseconds (first after a write, then kept), the
    inbox's, and the badge's cost against a signed-in bare request."""
    from app.core.security import _user_statement
    from app.extensions import db
    from app.models import AppUser

    app.add_url_rule("/bench/bare", "bench_bare", lambda: "ok")
    figures = {}
    with app.app_context():
        engine = db.engine
    for role in ROLES:
        client = app.test_client()
        response = client.post("/login/", data={"username": _username(role),
                                                "password": PASSWORD})
        assert response.status_code == 302, f"{role} could not sign in"
        client.get("/office/")
        _forget_kept_counts(app)
        first = _statements(client, engine, "/office/")
        kept = [_statements(client, engine, "/office/") for _ in range(rounds)]
        inbox = [_statements(client, engine, "/office/inbox/") for _ in range(rounds)]
        bare = [_statements(client, engine, "/bench/bare")[1] for _ in range(rounds * 3)]
        with app.app_context():
            pk = db.session.scalar(AppUser.__table__.select().with_only_columns(
                AppUser.id).where(AppUser.username == _username(role)))
            with_badge = _user_statement(False)
            without = with_badge.with_only_columns(
                *[column["expr"] for column in with_badge.column_descriptions[:-1]])
            times = {"with": [], "without": []}
            for _ in range(rounds * 20):
                for label, stmt in (("with", with_badge), ("without", without)):
                    started = time.perf_counter()
                    db.session.execute(stmt, {"pk": pk}).unique().all()
                    times[label].append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        badge = statistics.median(times["with"]) - statistics.median(times["without"])
        figures[role] = dict(
            first=first, kept=(kept[-1][0], statistics.median(ms for _n, ms in kept)),
            inbox=(inbox[-1][0], statistics.median(ms for _n, ms in inbox)),
            bare=statistics.median(bare), badge=badge)
    return figures


# -- under load -------------------------------------------------------------------------------

def under_load(database_url, redis_url, seconds, connections, workers):
    results = {}
    with Server(database_url, redis_url, workers) as server:
        for role in ROLES:
            cookie = _sign_in(server.port, _username(role), PASSWORD)
            for label, path in (("bare", "/bench/bare"), ("desk", "/office/"),
                                ("inbox", "/office/inbox/")):
                if seconds > 1:  # warm the workers (not in the test suite's one-second run)
                    load(server.port, [path], min(2, seconds), connections, cookie)
                results[role, label] = load(server.port, [path], seconds, connections, cookie)
    return results, server.peak_mb


def run(scale, database_url, redis_url, seconds=10, connections=8, workers=4, reuse=False,
        out=sys.stdout):
    from .generate import peak_rss_mb

    app = generated_app(scale, database_url, redis_url, reuse, out)
    backlog(app, random.Random(17))
    figures = in_process(app)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    results, peak_mb = under_load(database_url, redis_url, seconds, connections, workers)
    tool = "wrk" if shutil.which("wrk") else "python threads"
    kind = database_url.split(":", 1)[0]
    print(f"\ndesk and inbox, in-process ({kind}): SQL statements and median ms per request",
          file=out)
    print(f"{'role':<12}{'desk, first':>14}{'desk, kept':>13}{'inbox':>13}{'bare ms':>9}"
          f"{'badge ms':>10}{'/ bare':>8}{'/ desk':>8}", file=out)
    for role, f in figures.items():
        print(f"{role:<12}{f['first'][0]:>5} /{f['first'][1]:>6.1f}{f['kept'][0]:>5} /"
              f"{f['kept'][1]:>5.1f}{f['inbox'][0]:>5} /{f['inbox'][1]:>5.1f}{f['bare']:>9.2f}"
              f"{f['badge']:>10.3f}{f['badge'] / f['bare']:>8.1%}"
              f"{f['badge'] / f['kept'][1]:>8.1%}", file=out)
    print(f"target: the badge (the unread count read with the user's row) <= {TARGET_BADGE:.0%} "
          "of a page (the kept desk, the cheapest back-office page); against the bare endpoint, "
          "which renders nothing, for scale.", file=out)
    print(f"\nunder load: gunicorn -w {workers}, {tool}, {connections} connections, {seconds} s "
          f"each, signed in", file=out)
    print(f"{'role':<12}{'bare req/s':>11}{'desk req/s':>11}{'p99 ms':>8}{'ratio':>7}"
          f"{'inbox req/s':>12}{'p99 ms':>8}{'ratio':>7}{'failed':>7}", file=out)
    ratios = {}
    for role in ROLES:
        bare, desk, inbox = (results[role, label] for label in ("bare", "desk", "inbox"))
        failed = sum(r["failed"] + r["timeouts"] for r in (bare, desk, inbox))
        ratios[role] = (desk["rate"] / bare["rate"], inbox["rate"] / bare["rate"])
        print(f"{role:<12}{bare['rate']:>11.0f}{desk['rate']:>11.0f}{desk['p99']:>8.1f}"
              f"{ratios[role][0]:>7.2f}{inbox['rate']:>12.0f}{inbox['p99']:>8.1f}"
              f"{ratios[role][1]:>7.2f}{failed:>7}", file=out)
    print(f"target: the desk >= {TARGET_RATIO} of the bare endpoint signed in as the same user; "
          "the inbox is made for each request (its count and 25 messages rendered).", file=out)
    print(f"peak memory: this process {peak_rss_mb():,.0f} MB, the largest gunicorn process "
          f"{peak_mb:,.0f} MB", file=out)
    return dict(figures=figures, ratios=ratios, results=results)


def main(argv=None):
    page_bench_main(run, __doc__, "desk.db", argv)


if __name__ == "__main__":
    main()
