"""The public need list and detail, and search by Chinese, pinyin and initials."""
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.core.field_rules import clean_line
from app.domain.needs.export import safe_cell
from app.extensions import db
from app.models import NeedState
from helpers import login


@pytest.fixture()
def catalogue(make):
    wuhan = make.enterprise("420100", name="武汉光电精密仪器有限公司")
    yichang = make.enterprise("420500", name="宜昌三峡新能源有限公司")
    n = {
        "sensor": make.need(wuhan, NeedState.published, title="高精度光纤传感器温漂补偿",
                            keywords="传感器 温度补偿", field=make.field("0106"),
                            amount=Decimal(300000), contact_name="王工", contact_phone="13800001111"),
        "battery": make.need(yichang, NeedState.published, title="储能电池热管理系统优化",
                             keywords="储能 电池 热管理", field=make.field("0601"),
                             category=make.category("common_technology"), amount=Decimal(150000)),
        "draft": make.need(wuhan, NeedState.submitted, title="未发布的光纤需求",
                           keywords="光纤"),
        "docking": make.need(yichang, NeedState.docking, title="光伏逆变器效率提升",
                             field=make.field("0601")),
    }
    return n


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_list_shows_published_needs_grouped_by_field(client, catalogue):
    page = _page(client, "/needs")
    assert "高精度光纤传感器温漂补偿" in page and "储能电池热管理系统优化" in page
    assert "光伏逆变器效率提升" in page and "未发布的光纤需求" not in page
    first_group = page.index("field-group")
    assert page.index("电子信息", first_group) < page.index("新能源与节能", first_group)


@pytest.mark.parametrize("query,expected,absent", [
    ("光纤", "高精度光纤传感器温漂补偿", "储能电池热管理系统优化"),
    ("guangxian", "高精度光纤传感器温漂补偿", "储能电池热管理系统优化"),
    ("whgd", "高精度光纤传感器温漂补偿", "储能电池热管理系统优化"),  # 武汉光电… initials
    ("chuneng", "储能电池热管理系统优化", "高精度光纤传感器温漂补偿"),
    ("储能 电池", "储能电池热管理系统优化", "高精度光纤传感器温漂补偿"),
    ("三峡", "储能电池热管理系统优化", "高精度光纤传感器温漂补偿"),
])
def test_search_accepts_chinese_pinyin_and_initials(client, catalogue, query, expected, absent):
    page = _page(client, f"/needs?q={query}")
    assert expected in page and absent not in page
    assert "未发布的光纤需求" not in page


def test_exact_matches_rank_first(client, make, catalogue):
    """`chuan` is a whole term of the older need (keyword 船) and only a prefix of 传感器."""
    import datetime as dt

    wuhan = catalogue["sensor"].enterprise
    make.need(wuhan, NeedState.published, title="内河货运节能改造", keywords="船",
              published_at=dt.datetime(2020, 7, 1))
    page = _page(client, "/needs?q=chuan")
    assert page.index("内河货运节能改造") < page.index("高精度光纤传感器温漂补偿")
    unranked = _page(client, "/needs")  # without a query: grouped, newest first within a field
    assert "内河货运节能改造" in unranked


def test_filters_combine(client, catalogue, make):
    region = make.region("420500").id
    page = _page(client, f"/needs?region={region}&min=200000")
    assert "储能电池热管理系统优化" not in page  # 150,000 < 200,000
    page = _page(client, f"/needs?region={region}&max=200000")
    assert "储能电池热管理系统优化" in page and "高精度光纤传感器温漂补偿" not in page
    category = make.category("common_technology").id
    page = _page(client, f"/needs?category={category}")
    assert "储能电池热管理系统优化" in page and "光伏逆变器效率提升" not in page
    assert _page(client, "/needs?min=abc&region=x&page=-3")  # bad values are ignored


def test_detail_hides_contact_from_anonymous_visitors(client, make, catalogue):
    need = catalogue["sensor"]
    page = _page(client, f"/needs/{need.id}")
    assert "高精度光纤传感器温漂补偿" in page and "13800001111" not in page and "王工" not in page
    researcher = make.researcher()
    make.user("Researcher", "res_contact", researcher_id=researcher.id)
    login(client, "res_contact")
    assert "13800001111" in _page(client, f"/needs/{need.id}")
    assert client.get(f"/needs/{catalogue['draft'].id}").status_code == 404
    assert client.get("/needs/999999").status_code == 404


def test_a_page_costs_the_same_few_queries_whatever_its_size(app, client, make, catalogue):
    enterprise = catalogue["sensor"].enterprise
    for i in range(30):
        make.need(enterprise, NeedState.published, title=f"批量需求{i}")
    client.get("/needs")  # warm the filter-option cache
    counts = {}
    for size in (20, 50, 100):
        statements = []
        listener = lambda *args, **kw: statements.append(args[2])
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            client.get(f"/needs?per_page={size}&q=需求")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts[size] = len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE",
                                                                         "ROLLBACK"))])
    # The list's token (the page cache's), the search's plan, its count and its rows; the
    # plain list's statements are counted in tests/public/test_need_list_pages.py.
    assert counts == {20: 4, 50: 4, 100: 4}, counts


def test_search_index_follows_edits(client, make, db_session, catalogue):
    need = catalogue["battery"]
    need.title = "液流电池电解液配方"
    db_session.commit()
    assert "液流电池电解液配方" in _page(client, "/needs?q=yeliu")
    assert "液流电池电解液配方" not in _page(client, "/needs?q=热管理系统")
    enterprise = need.enterprise
    enterprise.name = "荆州楚天化工有限公司"
    db_session.commit()
    assert "液流电池电解液配方" in _page(client, "/needs?q=jzct")


def _sheet(response):
    import io

    from openpyxl import load_workbook

    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    response.close()
    return rows


def test_platform_exports_every_published_need_grouped_by_field(client, make, catalogue):
    make.user("Platform", "plat_export")
    login(client, "plat_export")
    rows = _sheet(client.get("/needlist/export.xlsx"))
    titles = [r[1] for r in rows[1:] if r[1]]
    assert set(titles) >= {"高精度光纤传感器温漂补偿", "储能电池热管理系统优化", "光伏逆变器效率提升"}
    assert "未发布的光纤需求" not in titles
    group_rows = [r[0] for r in rows[1:] if r[1] is None]
    assert any("电子信息" in g for g in group_rows) and any("新能源" in g for g in group_rows)


def test_bureau_exports_only_its_region(client, make, catalogue):
    make.user("Bureau", "bureau_export", region_id=make.region("420500").id)
    login(client, "bureau_export")
    titles = [r[1] for r in _sheet(client.get("/needlist/export.xlsx"))[1:] if r[1]]
    assert "储能电池热管理系统优化" in titles and "高精度光纤传感器温漂补偿" not in titles


def test_participants_cannot_export(client, make, catalogue):
    make.user("Enterprise", "ent_export", enterprise_id=catalogue["sensor"].enterprise_id)
    login(client, "ent_export")
    response = client.get("/needlist/export.xlsx")
    assert response.status_code in (302, 403)


# Every leading character a spreadsheet reads as the start of a formula (app/domain/needs/export.py
# FORMULA_START), and a lone "-", which safe_cell also quotes: it neutralises every text that
# starts so rather than guess which of them are harmless.
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "-"]


@pytest.mark.parametrize("title", FORMULAS, ids=["=", "+", "-", "@", "tab", "CR", "dash"])
def test_export_neutralises_spreadsheet_formulas(client, make, catalogue, title):
    import io

    from openpyxl import load_workbook

    make.need(catalogue["sensor"].enterprise, NeedState.published, title=title,
              amount=Decimal("123456.5"))
    make.user("Province", "prov_export")
    login(client, "prov_export")
    response = client.get("/needlist/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[6].value == 123456.5]
    cell = row[1]
    # A text cell holding the quoted value: no formula, and the text is still readable. A
    # title keeps no tab or carriage return (app/core/field_rules.py): what is left of one is
    # quoted if it starts a formula.
    assert cell.data_type == "s" and cell.value == safe_cell(clean_line(title))
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    # Numbers are not text: the amount stays a number a sum can use.
    assert row[6].data_type == "n" and row[0].data_type == "n"


def test_only_published_needs_are_in_the_search_index(make, db_session, catalogue):
    from sqlalchemy import func, select

    from app.models import NeedSearchTerm

    def terms(need):
        return db_session.scalar(select(func.count()).where(NeedSearchTerm.need_id == need.id))

    draft = catalogue["draft"]
    assert terms(draft) == 0 and terms(catalogue["sensor"]) > 0
    draft.state, draft.recommendation = NeedState.recommended, "推荐"
    db_session.commit()
    assert terms(draft) == 0
    import datetime as dt

    draft.state, draft.published_at = NeedState.published, dt.datetime(2026, 1, 1)
    db_session.commit()
    assert terms(draft) > 0
    draft.state = NeedState.withdrawn
    db_session.commit()
    assert terms(draft) == 0


@pytest.mark.parametrize("query", ["传感", "chuan", "gjd"])
def test_the_total_counts_each_need_once(client, catalogue, query):
    """传感 is a prefix of several terms of the same need (传感, 传感器, chuangan, ...)."""
    assert "共 1 项已发布需求" in _page(client, f"/needs?q={query}")


def test_search_finds_a_word_of_the_template_sections(client, make, db_session, catalogue):
    need = catalogue["sensor"]
    assert "高精度光纤传感器温漂补偿" not in _page(client, "/needs?q=耦合机理")
    need.problem = "希望专家针对光纤与封装材料的耦合机理开展研究。"
    db_session.commit()
    assert "高精度光纤传感器温漂补偿" in _page(client, "/needs?q=耦合机理")
    assert "储能电池热管理系统优化" not in _page(client, "/needs?q=耦合机理")


@pytest.mark.parametrize("dense_hits", [2, 2000])  # walk the newest needs / sort all hits
def test_a_search_matching_more_than_it_ranks_says_so(client, make, catalogue, monkeypatch,
                                                      dense_hits):
    import datetime as dt

    from app.domain.needs import search

    monkeypatch.setattr(search, "MAX_HITS", 3)
    monkeypatch.setattr(search, "DENSE_HITS", dense_hits)
    enterprise = catalogue["sensor"].enterprise
    for i in range(5):
        make.need(enterprise, NeedState.published, title=f"涂层工艺第{i}批",
                  published_at=dt.datetime(2026, 1, 1 + i))
    page = _page(client, "/needs?q=涂层")
    assert "search-more" in page and "超过 3 项" in page
    assert "涂层工艺第4批" in page and "涂层工艺第0批" not in page  # the newest are ranked
    plain = _page(client, "/needs")  # the list without words is never capped
    assert "search-more" not in plain and "涂层工艺第0批" in plain


def test_technical_terms_of_the_taxonomy_stay_whole_words():
    from app.domain.words import words_for_index, words_of_query

    assert "储能电池" in words_of_query("储能电池热管理")
    assert {"储能", "电池", "储能电池"} <= words_for_index("储能电池的热失控")
    assert "vocs治理" in words_of_query("VOCs治理")


def test_the_plain_list_past_the_search_cap_still_costs_two_queries(app, client, make,
                                                                    catalogue, monkeypatch):
    from app.domain.needs import search

    monkeypatch.setattr(search, "MAX_HITS", 1)  # more published needs than a search ranks
    client.get("/needs")  # warm the filter-option cache
    statements = []
    listener = lambda *args, **kw: statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = _page(client, "/needs?per_page=20")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    queries = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert len(queries) == 2 and "search-more" not in page


def test_a_search_is_planned_for_its_own_words(app, client, catalogue):
    """The words are in the SQL, so PostgreSQL never reuses a plan made for another word's
    frequency, and every other statement may keep its generic plan (no force_custom_plan)."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert "储能电池热管理系统优化" in _page(client, "/needs?q=chuneng")
        quoted = _page(client, "/needs?q=" + "chuneng'%20OR%20'1'='1")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    searches = [(sql, params) for sql, params in statements if "need_search_terms" in sql]
    assert searches and all("'chuneng'" in sql for sql, _params in searches[:2])
    words = {"chuneng", "chuneng\U0010ffff"}
    for _sql, params in searches:
        values = params.values() if isinstance(params, dict) else params
        assert not words & set(values)  # no word is a bound parameter
    assert "储能电池热管理系统优化" not in quoted and "高精度光纤传感器温漂补偿" not in quoted
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            assert conn.execute(db.text("SHOW plan_cache_mode")).scalar() == "auto"


def test_on_sqlite_a_search_names_the_term_index(app, db_session):
    """With ANALYZE statistics of a large index, SQLite skip-scanned the (need_id, term) key for
    a prefix range (55 ms instead of 0.5 at 10x national): the statements say which index."""
    from app.domain.needs import search

    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("a SQLite planner hint")
    for statement in (search._entries_statement(2, True), search._count_statement(2, False, True),
                      search._hits_statement(2, True)):
        assert "INDEXED BY ix_need_search_term" in str(statement)
    counted = search._count_statement(1, False, True).bindparams(low0="a", high0="b", cap=201)
    sql = str(counted.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = db_session.execute(db.text("EXPLAIN QUERY PLAN " + sql)).all()
    assert any("ix_need_search_term" in row[-1] for row in plan), plan
    assert "INDEXED BY" not in str(search._count_statement(2, False, False))  # PostgreSQL
