"""Two-way, explainable matching, "not interested", digests and re-match runs, over HTTP where
people use them. Jobs run inline at commit (RQ_ASYNC off), as the worker would run them."""
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from app.extensions import db
from app.models import Channel, Match, MatchRun, NeedState, Notification, ResearcherState
from app.domain.matching.digests import send_digests
from helpers import login, work

BATTERY_TEXT = dict(
    title="储能电池热管理系统优化", keywords="储能电池 热管理",
    problem="储能电池模组在高倍率充放电时温升过快，热管理系统的均温性不足，电池寿命偏短。",
    targets="模组最大温差小于3摄氏度", background="公司生产储能电池系统。")


@pytest.fixture()
def people(make):
    battery_field, solar_field, software = make.field("0603"), make.field("0601"), make.field("0101")
    return {
        # Same field and the same words: the best match.
        "expert": make.researcher(fields=[battery_field], keywords="储能电池 热管理 锂离子电池",
                                  expertise="长期从事储能电池热管理与电池寿命研究"),
        # Same domain (新能源与节能), other words.
        "neighbour": make.researcher(fields=[solar_field], keywords="光伏 太阳能",
                                     expertise="光伏组件效率提升"),
        # Nothing in common.
        "stranger": make.researcher(fields=[software], keywords="操作系统 数据库",
                                    expertise="分布式数据库内核"),
        "pending": make.researcher(state=ResearcherState.submitted, fields=[battery_field],
                                   keywords="储能电池 热管理"),
        "battery_field": battery_field,
    }


def _matches(need):
    return {m.researcher_id: m for m in db.session.scalars(
        select(Match).where(Match.need_id == need.id))}


def test_publishing_a_need_ranks_approved_researchers_with_reasons(make, db_session, people):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    found = _matches(need)
    expert, neighbour = people["expert"], people["neighbour"]
    assert expert.id in found and people["stranger"].id not in found
    assert people["pending"].id not in found  # only approved researchers are matched
    assert found[expert.id].score > found[neighbour.id].score
    assert found[expert.id].reasons["same"] == "field"
    assert "储能电池" in found[expert.id].reasons["keywords"]
    assert found[neighbour.id].reasons["same"] == "domain"


def test_approving_a_researcher_ranks_the_published_needs(make, db_session, people):
    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    pending = people["pending"]
    assert pending.id not in _matches(need)
    pending.state = ResearcherState.approved
    db_session.commit()
    match = _matches(need)[pending.id]
    assert match.reasons["same"] == "field" and match.direction.value == "researcher_to_need"


def test_a_draft_need_is_never_matched(make, db_session, people):
    need = make.need(make.enterprise(), NeedState.submitted, field=people["battery_field"],
                     **BATTERY_TEXT)
    assert _matches(need) == {}


def test_researcher_sees_why_and_can_say_not_interested(client, make, db_session, people):
    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    expert = people["expert"]
    make.user("Researcher", "expert_user", researcher_id=expert.id)
    login(client, "expert_user")
    page = client.get("/recommended/").get_data(as_text=True)
    assert "储能电池热管理系统优化" in page and "共同关键词" in page and "储能电池" in page
    match = _matches(need)[expert.id]
    refused = client.post(f"/recommended/{match.id}/dismiss", data={"reason": ""})
    assert refused.status_code == 302
    db_session.refresh(match)
    assert not match.dismissed  # a reason is required
    client.post(f"/recommended/{match.id}/dismiss", data={"reason": "方向不符"})
    db_session.refresh(match)
    assert match.dismissed and match.dismiss_reason == "方向不符"
    assert "储能电池热管理系统优化" not in client.get("/recommended/").get_data(as_text=True)
    # Re-ranking keeps the dismissal, and no digest pushes it.
    need.title = "储能电池热管理系统优化（二期）"
    db_session.commit()
    from app.domain.matching.store import rank_for_need

    rank_for_need(need.id)
    db_session.commit()
    db_session.refresh(match)
    assert match.dismissed
    send_digests("p1")
    db_session.commit()
    user_rows = db_session.scalars(select(Notification).where(
        Notification.template == "match.digest_researcher",
        Notification.payload["needs"].as_string().contains(str(need.id)))).all()
    assert all(expert.id not in r.payload.get("researchers", []) for r in user_rows)


def test_nobody_dismisses_or_reads_someone_elses_recommendation(client, make, db_session, people):
    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    match = _matches(need)[people["expert"].id]
    make.user("Researcher", "other_user", researcher_id=people["stranger"].id)
    login(client, "other_user")
    assert client.post(f"/recommended/{match.id}/dismiss",
                       data={"reason": "x"}).status_code == 404
    assert "储能电池热管理系统优化" not in client.get("/recommended/").get_data(as_text=True)
    db_session.refresh(match)
    assert not match.dismissed


def test_enterprise_sees_researchers_recommended_for_its_own_needs_only(client, make, db_session,
                                                                        people):
    own, other = make.enterprise(), make.enterprise()
    make.need(own, NeedState.published, field=people["battery_field"], **BATTERY_TEXT)
    make.need(other, NeedState.published, field=people["battery_field"],
              **{**BATTERY_TEXT, "title": "别家的储能电池需求"})
    make.user("Enterprise", "own_ent", enterprise_id=own.id)
    login(client, "own_ent")
    page = client.get("/recommended/").get_data(as_text=True)
    assert people["expert"].name in page and "储能电池热管理系统优化" in page
    assert "别家的储能电池需求" not in page and "Not interested" not in page


def test_digests_push_both_sides_once_and_at_most_one_sms_a_day(make, db_session, people):
    import datetime as dt

    enterprise = make.enterprise()
    owner = make.user("Enterprise", "digest_ent", enterprise_id=enterprise.id, phone="13900000001")
    expert_user = make.user("Researcher", "digest_res", researcher_id=people["expert"].id,
                            phone="13900000002")
    make.need(enterprise, NeedState.published, field=people["battery_field"], **BATTERY_TEXT)
    day = dt.date(2026, 11, 25)
    assert send_digests("morning", day) >= 2
    db_session.commit()

    def rows(user):
        return db_session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                             Notification.template.like("match.%")))

    for user in (owner, expert_user):
        assert sorted(r.channel.value for r in rows(user)) == ["email", "site", "sms"]
    assert send_digests("morning", day) == 0  # nothing new: nothing sent
    db_session.commit()
    # A new need the same day: a second digest by site and e-mail, no second SMS.
    make.need(enterprise, NeedState.published, field=people["battery_field"],
              **{**BATTERY_TEXT, "title": "储能电池热失控预警"})
    send_digests("evening", day)
    db_session.commit()
    channels = sorted(r.channel.value for r in rows(expert_user))
    assert channels == ["email", "email", "site", "site", "sms"]
    send_digests("next-morning", day + dt.timedelta(days=1))  # nothing new the next day
    assert [r.channel for r in rows(expert_user)].count(Channel.sms) == 1


@pytest.mark.parametrize("run_rows", [1000, 2], ids=["listed", "ranges"])
@pytest.mark.parametrize("side", ["researcher", "enterprise"])
def test_a_digest_round_stamps_exactly_the_matches_it_told(make, db_session, people, monkeypatch,
                                                           side, run_rows):
    """Each side's told matches are stamped in id order, a few rows per statement, as lists of
    ids or as ranges of consecutive ids; a dismissed match and a match of a need no longer
    published stay untold, and the digest counts only the told."""
    from sqlalchemy import event

    from app.domain.matching import digests

    monkeypatch.setattr(digests, "STAMP_ROWS", 3)  # several stamping statements
    monkeypatch.setattr(digests, "RUN_ROWS", run_rows)
    stamp = "pushed_at" if side == "researcher" else "enterprise_pushed_at"
    expert = people["expert"]
    make.user("Researcher", "stamp_res", researcher_id=expert.id)
    enterprise = make.enterprise()
    make.user("Enterprise", "stamp_ent", enterprise_id=enterprise.id)
    needs = [make.need(enterprise, NeedState.published, field=people["battery_field"],
                       **{**BATTERY_TEXT, "title": f"储能电池热管理第{i}期"}) for i in range(5)]
    withdrawn, dismissed = needs[3], needs[4]
    withdrawn.state = NeedState.closed
    _matches(dismissed)[expert.id].dismissed = True
    db_session.commit()
    stamps, ranges = [], []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(f"UPDATE matches SET {stamp}"):
            return
        values = list(parameters.values() if isinstance(parameters, dict) else parameters)
        numbers = [v for v in values if isinstance(v, int)]
        if " BETWEEN " in statement:
            first, last = numbers[-2:]
            ranges.append((first, last))
            stamps.append(list(range(first, last + 1)))
            return
        # The ids: a bound value each, or on PostgreSQL one array of them.
        arrays = [v for v in values if isinstance(v, list)]
        stamps.append(arrays[0] if arrays else numbers)
        if db.engine.dialect.name == "postgresql":
            assert len(arrays) == 1 and "= ANY" in statement, statement

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        send_digests("stamp-period", commit=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    told = {need.id: _matches(need)[expert.id] for need in needs}
    for match in told.values():
        db_session.refresh(match)
    assert all(getattr(told[n.id], stamp) is not None for n in needs[:3])
    assert getattr(told[withdrawn.id], stamp) is None
    assert getattr(told[dismissed.id], stamp) is None
    ids = [i for statement in stamps for i in statement]
    assert len(stamps) >= 2 and all(stamps) and len(ids) == len(set(ids))
    assert all(list(statement) == sorted(statement) for statement in stamps)
    if db_session.get_bind().dialect.name == "sqlite":
        # Read in table order, which on SQLite is the id order; PostgreSQL puts an updated
        # row wherever it finds room.
        assert ids == sorted(ids)
    assert set(ids) == set(db_session.scalars(select(Match.id).where(
        getattr(Match, stamp).is_not(None))))
    assert bool(ranges) == (run_rows == 2)
    owner = expert.id if side == "researcher" else enterprise.id
    digest = db_session.scalars(select(Notification).where(
        Notification.template == f"match.digest_{side}",
        Notification.idempotency_key.like(f"digest:stamp-period:{side}{owner}:%"))).first()
    if side == "researcher":
        assert digest.payload["needs"] == sorted(n.id for n in needs[:3])
    else:  # every published need's undismissed matches, other researchers' included
        live = [m for n in needs if n is not withdrawn for m in _matches(n).values()
                if not m.dismissed]
        assert digest.payload["needs"] == sorted({m.need_id for m in live})
        assert digest.payload["researchers"] == sorted({m.researcher_id for m in live})
        assert digest.payload["count"] == len(live)


def test_platform_runs_a_full_rematch_and_sees_its_progress(client, make, db_session, people):
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    db_session.execute(Match.__table__.delete())
    db_session.commit()
    make.user("Platform", "plat_match")
    login(client, "plat_match")
    statistics = _statistics_of_matches(db_session)
    response = client.post("/matching/run")
    assert response.status_code == 302
    run = db_session.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    db_session.refresh(run)
    assert run.finished_at is not None and run.error is None
    assert run.done == run.total and run.matches > 0
    page = client.get("/matching/").get_data(as_text=True)
    assert f"{run.done} / {run.total}" in page
    assert "推送响应情况" in page and "已向科技人员推送需求 0 项" in page
    for _attempt in range(20):  # PostgreSQL: the VACUUM's connection reports on its own time
        if _statistics_of_matches(db_session) > statistics:
            break
        time.sleep(0.1)
    assert _statistics_of_matches(db_session) > statistics


def _statistics_of_matches(session) -> int:
    """How often the planner's statistics of the tables a re-match rewrites (matches, needs,
    researchers) were taken, the least of the three: SQLite's rows of them (none until an
    ANALYZE), PostgreSQL's count of VACUUMs."""
    tables = ("matches", "needs", "researchers")
    if session.get_bind().dialect.name != "postgresql":
        if not session.execute(text("SELECT count(*) FROM sqlite_master "
                                    "WHERE name = 'sqlite_stat1'")).scalar():
            return 0
        return min(session.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"),
                                   {"t": table}).scalar() for table in tables)
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return min(session.execute(text("SELECT vacuum_count FROM pg_stat_user_tables "
                                    "WHERE relname = :t"), {"t": table}).scalar()
               for table in tables)


@pytest.mark.parametrize("role", ["Enterprise", "Researcher", "Bureau", "Province"])
def test_only_the_platform_starts_a_rematch(client, make, db_session, role):
    make.user(role, f"no_rematch_{role.lower()}")
    login(client, f"no_rematch_{role.lower()}")
    before = db_session.scalar(select(db.func.count(MatchRun.id)))
    response = client.post("/matching/run")
    assert response.status_code in (302, 403) and "/matching" not in response.headers.get(
        "Location", "")
    assert db_session.scalar(select(db.func.count(MatchRun.id))) == before


def test_rematch_command_prints_progress(app, make, db_session, people):
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    result = CliRunner().invoke(app.cli, ["matching", "rematch"], catch_exceptions=False)
    assert result.exit_code == 0 and "ranked" in result.output


def test_staff_see_the_reasons_of_every_match(client, make, db_session, people):
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    make.user("Platform", "plat_reasons")
    login(client, "plat_reasons")
    page = client.get("/matchmodelview/list/").get_data(as_text=True)
    assert "同一技术领域" in page and "共同关键词" in page


def test_a_digest_links_to_the_reasons(client, make, db_session, people):
    from app.core.notifications.outbox import render

    make.user("Researcher", "digest_link", researcher_id=people["expert"].id)
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    send_digests("link-period")
    db_session.commit()
    row = db_session.scalars(select(Notification).where(
        Notification.template == "match.digest_researcher",
        Notification.channel == Channel.email)).first()
    subject, body = render(row)
    assert "推荐了" in subject and f"/n/{row.token}" in body
    response = client.get(f"/n/{row.token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/recommended/")
    db_session.refresh(row)
    assert row.opened_at is not None


def test_the_worker_pushes_digests_on_a_schedule_once_per_slot(app, make, db_session, people,
                                                               async_queue, monkeypatch):
    from rq.registry import ScheduledJobRegistry

    from app.core import queue as jobs
    from app.jobs.matching import send_match_digests
    from app.jobs.schedule import schedule_next

    user = make.user("Researcher", "digest_sched", researcher_id=people["expert"].id)
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    work(app, async_queue)  # the matching job queued at publish
    monkeypatch.setitem(app.config, "DIGEST_INTERVAL", 3600)
    with app.app_context():
        registry = ScheduledJobRegistry(queue=jobs.get_queue("matching"))
        schedule_next("app.jobs.matching.send_match_digests", now=7200)
        schedule_next("app.jobs.matching.send_match_digests", now=9000)  # another worker starting in the same slot
        assert registry.get_job_ids() == ["match-digest-3"]
        # its period, shown on the matching page, is the slot's start in Beijing time
        scheduled = jobs.get_queue("matching").fetch_job("match-digest-3")
        assert scheduled.args == ("1970-01-01 11:00",)
        jobs.get_queue("matching").enqueue(send_match_digests, "slot2")
    work(app, async_queue)
    db_session.expire_all()
    rows = db_session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.template == "match.digest_researcher")).all()
    assert {r.channel for r in rows} >= {Channel.site, Channel.email}
    with app.app_context():
        assert len(set(registry.get_job_ids())) == 2  # the run scheduled the next slot


def test_the_blocked_full_rematch_ranks_as_the_single_jobs_do(app, make, db_session, people,
                                                              monkeypatch):
    """rank_everything (blocks, sparse candidates) must agree with ranking each need and each
    researcher alone, ties included (they go to the lower row)."""
    from app.domain.matching import scoring as matching, rematch
    from app.domain.matching.store import _fields_of

    monkeypatch.setitem(app.config, "MATCH_TOP_K", 2)
    monkeypatch.setitem(app.config, "MATCH_MIN_SCORE", 0.05)  # no ties at zero
    for _ in range(3):  # same field, no shared word: tied at the taxonomy score
        make.researcher(fields=[people["battery_field"]], keywords="", expertise="")
    enterprise = make.enterprise()
    for i, (title, field) in enumerate([("储能电池热管理", "0603"), ("光伏组件效率提升", "0601"),
                                         ("数据库内核优化", "0101"), ("锂离子电池回收", "0603"),
                                         ("太阳能光热发电", "0601")]):
        make.need(enterprise, NeedState.published, field=make.field(field), title=title,
                  keywords=title[:4], problem=f"{title}的关键技术问题{i}")
    corpus = matching.load_corpus(db_session)
    found = rematch.rank_everything(corpus, block=2)  # several blocks on purpose
    expected = {}
    for row, need_id in enumerate(corpus.needs.ids):
        for rid, score in matching.researchers_for_need(
                corpus, corpus.needs.terms(row), int(corpus.need_fields[row])):
            expected[(int(need_id), rid)] = score
    fields = _fields_of([int(r) for r in corpus.researchers.ids])
    for row, rid in enumerate(corpus.researchers.ids):
        for nid, score in matching.needs_for_researcher(
                corpus, corpus.researchers.terms(row), fields.get(int(rid), set())):
            expected[(nid, int(rid))] = score
    assert set(found) == set(expected)
    assert all(abs(found[key] - expected[key]) < 1e-4 for key in found)
    # Blocks sized by the cells of their product (10x national: a million researchers), here
    # two rows a block on both sides, rank the same.
    monkeypatch.setattr(rematch, "MAX_PRODUCT_CELLS",
                        2 * max(len(corpus.needs.ids), len(corpus.researchers.ids)))
    assert rematch.rank_everything(corpus) == found


def test_a_need_published_while_redis_is_down_is_ranked_once_it_is_back(
        app, make, db_session, people, async_queue, monkeypatch):
    from app.jobs.matching import requeue_owed_rankings

    redis_url = app.config["REDIS_URL"]
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)  # commits: the publication stands, the job is not queued
    assert need.state is NeedState.published and need.matched_at is None
    assert _matches(need) == {}
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)  # Redis is back
    monkeypatch.setitem(app.config, "MATCH_SWEEP_AGE", 0)
    with app.app_context():
        counts = requeue_owed_rankings()
    assert counts["needs"] == 1
    work(app, async_queue)
    db_session.expire_all()
    assert people["expert"].id in _matches(need) and need.matched_at is not None
    with app.app_context():
        assert requeue_owed_rankings()["needs"] == 0  # nothing owed any more


def test_the_worker_schedules_the_matching_sweep_once_per_slot(app, async_queue, monkeypatch):
    from rq.registry import ScheduledJobRegistry

    from app.core import queue as jobs
    from app.jobs.schedule import schedule_next

    monkeypatch.setitem(app.config, "MATCH_SWEEP_INTERVAL", 300)
    with app.app_context():
        schedule_next("app.jobs.matching.sweep_matching", now=1000)
        schedule_next("app.jobs.matching.sweep_matching", now=1100)
        registry = ScheduledJobRegistry(queue=jobs.get_queue("matching"))
        assert registry.get_job_ids() == ["matching-sweep-4"]


def test_response_to_pushed_needs_counts_proposals_and_dismissals(make, db_session, people):
    from app.domain.matching.store import response

    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    make.user("Researcher", "resp_a", researcher_id=people["expert"].id)
    make.user("Researcher", "resp_b", researcher_id=people["neighbour"].id)
    assert response()["pushed"] == 0  # found, not yet pushed
    send_digests("resp")
    db_session.commit()
    before = response()
    assert before["pushed"] >= 2 and before["proposals"] == 0
    make.proposal(need, people["expert"])
    match = _matches(need)[people["neighbour"].id]
    match.dismissed, match.dismiss_reason = True, "方向不符"
    db_session.commit()
    after = response()
    assert after["proposals"] == 1 and after["dismissed"] == 1
    assert after["rate"] == pytest.approx(1 / after["pushed"])


def test_ranking_a_need_leaves_the_pairs_a_researchers_ranking_found(make, db_session, people):
    from app.models import MatchDirection
    from app.domain.matching.store import rank_for_need

    need = make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
                     **BATTERY_TEXT)
    stranger = people["stranger"]
    assert stranger.id not in _matches(need)  # not in the need's own ranking
    db_session.add(Match(need_id=need.id, researcher_id=stranger.id, score=0.3, reasons={},
                         direction=MatchDirection.researcher_to_need))
    db_session.commit()
    rank_for_need(need.id)
    db_session.commit()
    assert stranger.id in _matches(need)  # the researcher's ranking keeps it


def test_a_second_rematch_is_refused_while_one_runs(app, make, db_session, client):
    from app.models.mixins import utcnow

    db_session.add(MatchRun(started_at=utcnow()))  # unfinished
    db_session.commit()
    before = db_session.scalar(select(db.func.count(MatchRun.id)))
    result = CliRunner().invoke(app.cli, ["matching", "rematch"])
    assert result.exit_code != 0 and "已有一次重新匹配正在运行" in result.output
    make.user("Platform", "plat_twice")
    login(client, "plat_twice")
    client.post("/matching/run")
    assert db_session.scalar(select(db.func.count(MatchRun.id))) == before


@pytest.mark.parametrize("side", ["need", "researcher"])
def test_a_ranking_reads_its_own_rows_through_the_direction_index(make, db_session, side):
    """A popular need sits in thousands of researchers' rankings. Its own ranking reads its own
    direction's rows and the pairs it found again, through the (need, direction) index and
    the pair's, never the other direction's rows one by one (26 ms a need at 10x national)."""
    from app.domain.matching import store as recommendations
    from app.models import MatchDirection

    need = make.need(make.enterprise())  # a draft: no ranking of its own runs
    researchers = [make.researcher() for _ in range(3)]
    own, other = ((MatchDirection.need_to_researcher, MatchDirection.researcher_to_need)
                  if side == "need" else
                  (MatchDirection.researcher_to_need, MatchDirection.need_to_researcher))
    if side == "need":
        pairs = [(need, r) for r in researchers]
    else:
        needs = [need] + [make.need(make.enterprise()) for _ in range(2)]
        pairs = [(n, researchers[0]) for n in needs]
    rows = [Match(need_id=n.id, researcher_id=r.id, score=0.5, reasons={}, direction=d)
            for (n, r), d in zip(pairs, (own, other, other))]
    db_session.add_all(rows)
    db_session.flush()
    if side == "need":
        scope, other_side, found_again = (Match.need_id == need.id, Match.researcher_id,
                                          rows[1].researcher_id)
        index = "ix_matches_need_direction"
    else:
        scope, other_side, found_again = (Match.researcher_id == researchers[0].id,
                                          Match.need_id, rows[1].need_id)
        index = "ix_matches_researcher_direction"

    found = recommendations._existing(scope, own, other_side, [found_again])
    assert {row.id for row in found} == {rows[0].id, rows[1].id}  # not the third, other row

    connection = db_session.connection()
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL picks indexes by cost, and a test's few rows say nothing of it
    # Statistics another test's re-match left (its tidy step runs ANALYZE over a handful of
    # rows) say nothing of a real table either: the plan is read without them.
    if connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = "
                                  "'sqlite_stat1'").scalar():
        connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'matches'")
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # the planner reads them again
    statement = recommendations._existing_statement(scope, own, other_side, [found_again])
    sql = str(statement.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = " ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert f"{index} ({side}_id=? AND direction=?)" in plan, plan
    assert "sqlite_autoindex_matches_1 (need_id=? AND researcher_id=?)" in plan, plan


def test_a_push_round_runs_by_blocks_from_the_cli_and_the_matching_page_shows_it(
        app, client, make, db_session, people):
    from app.models import PushRound

    make.user("Researcher", "round_expert", researcher_id=people["expert"].id)
    make.need(make.enterprise(), NeedState.published, field=people["battery_field"],
              **BATTERY_TEXT)
    result = CliRunner().invoke(app.cli, ["matching", "digests", "--period", "cli-round",
                                          "--blocks", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    round_ = db_session.scalar(select(PushRound).where(PushRound.period == "cli-round"))
    assert round_.finished_at is not None and round_.digests >= 1
    assert f"{round_.digests} digests" in result.output
    # two blocks of the four researchers; the one enterprise is a block of its own
    assert sorted((b.side, b.state) for b in round_.blocks) == [
        ("enterprise", "done"), ("researcher", "done"), ("researcher", "done")]
    # Run again, the period sends nothing more.
    rows = db_session.scalar(select(db.func.count(Notification.id)))
    CliRunner().invoke(app.cli, ["matching", "digests", "--period", "cli-round"],
                       catch_exceptions=False)
    assert db_session.scalar(select(db.func.count(Notification.id))) == rows
    make.user("Platform", "plat_rounds")
    login(client, "plat_rounds")
    page = client.get("/matching/").get_data(as_text=True)
    assert "推送轮次" in page and "cli-round" in page and "3 / 3" in page
    assert 'http-equiv="refresh"' not in page  # nothing running
    running = PushRound(period="running", day=round_.day, started_at=round_.started_at,
                        digests=0)
    db_session.add(running)
    db_session.commit()
    assert 'http-equiv="refresh"' in client.get("/matching/").get_data(as_text=True)
    running.error = "database gone"  # out of retries: nothing to watch until its next start
    db_session.commit()
    page = client.get("/matching/").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "database gone" in page
