"""Storing a full re-match: the rows written straight to the driver are the rows the single
rankings store, a second re-match keeps what people saw, and on SQLite the store has a large
page cache only while it runs. Through the platform's own button, as staff start it."""
import pytest
from sqlalchemy import select, text

from app.domain.matching import store as recommendations
from app.extensions import db
from app.models import Match, MatchRun, NeedState, ResearcherState
from app.models.enums import MatchDirection
from helpers import login


def _stored(session):
    session.expire_all()
    return {(m.need_id, m.researcher_id): m for m in session.scalars(select(Match))}


def _setting_up(make):
    fields = [make.field(code) for code in ("0603", "0601", "0101")]
    for keywords, expertise, field in [("储能电池 热管理", "储能电池热管理与寿命", fields[0]),
                                       ("光伏 太阳能", "光伏组件效率", fields[1]),
                                       ("数据库 操作系统", "分布式数据库内核", fields[2]),
                                       ("锂离子电池 回收", "退役电池回收利用", fields[0])]:
        make.researcher(fields=[field], keywords=keywords, expertise=expertise)
    make.researcher(state=ResearcherState.submitted, fields=[fields[0]], keywords="储能电池")
    enterprise = make.enterprise()
    for title, field in [("储能电池热管理系统优化", fields[0]), ("光伏组件效率提升", fields[1]),
                         ("数据库内核性能优化", fields[2]), ("退役锂离子电池回收", fields[0])]:
        make.need(enterprise, NeedState.published, field=field, title=title,
                  keywords=title[:4], problem=f"{title}中的关键技术问题，需要专家协助。")


def _rematch(client):
    response = client.post("/matching/run")
    assert response.status_code == 302
    run = db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc())).first()
    db.session.refresh(run)
    assert run.error is None and run.finished_at is not None
    return run


def test_a_full_rematch_stores_what_the_single_rankings_store(client, make, db_session):
    from app.domain.matching import scoring as matching
    from app.models import Need, Researcher

    _setting_up(make)
    # The single rankings again, now that the corpus (its idf) is the one the re-match sees.
    corpus = matching.load_corpus(db_session)
    for need_id in db_session.scalars(select(Need.id)):
        recommendations.rank_for_need(need_id, corpus)
    for researcher_id in db_session.scalars(select(Researcher.id)):
        recommendations.rank_for_researcher(researcher_id, corpus)
    db_session.commit()
    single = {pair: (m.score, m.reasons) for pair, m in _stored(db_session).items()}
    assert single
    db_session.execute(Match.__table__.delete())
    db_session.commit()
    make.user("Platform", "plat_store")
    login(client, "plat_store")
    run = _rematch(client)
    stored = _stored(db_session)
    assert run.matches == len(stored) and set(stored) == set(single)
    for pair, match in stored.items():
        score, reasons = single[pair]
        assert abs(match.score - score) < 1e-4 and match.reasons == reasons
        assert match.dismissed is False and match.pushed_at is None
        assert match.created_at is not None and match.created_at == match.updated_at
    # Here every need's ranking reaches all four researchers: each pair is the need's.
    assert {m.direction for m in stored.values()} == {MatchDirection.need_to_researcher}


def test_a_second_rematch_keeps_what_people_saw_and_refreshes_the_rest(client, make,
                                                                       db_session):
    _setting_up(make)
    make.user("Platform", "plat_again")
    login(client, "plat_again")
    _rematch(client)
    first = _stored(db_session)
    pushed, dismissed, unseen = sorted(first)[:3]
    first[pushed].pushed_at = first[pushed].created_at
    first[dismissed].dismissed, first[dismissed].dismiss_reason = True, "方向不符"
    reasons = first[unseen].reasons
    first[unseen].score = 0.0001  # a stale score and reasons the next re-match must replace
    first[unseen].reasons = {"stale": True}
    before = {pair: (m.id, m.updated_at) for pair, m in first.items()}
    db_session.commit()
    _rematch(client)
    second = _stored(db_session)
    assert set(second) == set(first)
    assert all(second[pair].id == before[pair][0] for pair in second)  # updated, not replaced
    assert second[pushed].pushed_at is not None and second[dismissed].dismissed is True
    assert second[unseen].score > 0.0001 and second[unseen].updated_at > before[unseen][1]
    assert second[unseen].reasons == reasons


def test_a_second_store_in_small_chunks_updates_every_kept_match_once(client, make, db_session):
    """The kept pairs go through the driver a chunk at a time (on PostgreSQL through one
    scratch table, emptied after each chunk): every chunk must land, on its own rows only."""
    from app.domain.matching import scoring as matching

    _setting_up(make)
    make.user("Platform", "plat_chunks")
    login(client, "plat_chunks")
    _rematch(client)
    first = _stored(db_session)
    assert len(first) > 4
    corpus = matching.load_corpus(db_session)
    found = {pair: 0.5 + i / 100 for i, pair in enumerate(sorted(first))}
    expected = dict(found)
    with recommendations.bulk_write_cache(db_session):
        assert recommendations.store_everything(corpus, found, chunk=2) == 0
        db_session.commit()
    second = _stored(db_session)
    assert {pair: (m.id, m.score) for pair, m in second.items()} == {
        pair: (first[pair].id, pytest.approx(score)) for pair, score in expected.items()}
    assert all(m.updated_at >= first[pair].updated_at for pair, m in second.items())


def test_on_sqlite_the_store_has_a_large_cache_only_while_it_runs(client, make, db_session,
                                                                  monkeypatch):
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's shared buffers are the server's")
    _setting_up(make)
    seen = []
    store = recommendations.store_need_range  # what each needs' block of a run stores by

    def watching(*args, **kwargs):
        seen.append(db.session.execute(text("PRAGMA cache_size")).scalar())
        return store(*args, **kwargs)

    monkeypatch.setattr(recommendations, "store_need_range", watching)
    default = db_session.execute(text("PRAGMA cache_size")).scalar()
    make.user("Platform", "plat_cache")
    login(client, "plat_cache")
    _rematch(client)
    assert seen and set(seen) == {-recommendations.STORE_CACHE_KIB}
    assert db_session.execute(text("PRAGMA cache_size")).scalar() == default
