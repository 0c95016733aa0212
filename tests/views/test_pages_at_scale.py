"""Every back-office page of every role stays the same size in statements and options whatever
the rows (issue 28): the classes of slowness the province-scale walk found, each with a test
over every page the URL map gives a role (``bench/staff_pages.py`` finds them, so a new page
is covered without anyone listing it here).

- no ``<select>`` of more than ``MAX_OPTIONS`` options on any page: relations to big tables are
  chosen by typing (``app/core/choices.py``); checked on the pages, and on every form of every
  view of the registry;
- the statements of a list, export, dashboard or desk do not grow when its rows do;
- the dashboard is kept while nothing it counts is written, and a write shows at once.
"""
import re

import pytest
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from helpers import REGION_A, REGION_B, login
from sqlalchemy import func, insert, select, update
from sqlalchemy import text as sqlalchemy_text
from wtforms.fields.core import UnboundField

from app.core import choices
from app.extensions import db
from app.models import (
    AppUser,
    Channel,
    Institution,
    Match,
    NeedState,
    Notification,
    NotificationState,
    ProposalState,
)
from app.models.mixins import utcnow
from bench.staff_pages import measure, pages

ROLES = ("Admin", "Platform", "Province", "Bureau", "Enterprise", "Researcher")


@pytest.fixture()
def people(app, make, world):
    """A user of each role (the regional ones of region A), on the two regions' records."""
    users = {role: make.user(role, f"scale_{role.lower()}") for role in
             ("Admin", "Platform", "Province")}
    users.update({"Bureau": world["users"]["bureau"], "Enterprise": world["users"]["enterprise"],
                  "Researcher": world["users"]["researcher"]})
    return users


def _pages_of_a_need(app, need_id):
    """Every route that shows one need with its children (its proposals, their messages): those
    named by ``need_id``, and the need's own record pages."""
    from bench.staff_pages import SKIPPED

    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or SKIPPED.search(rule.endpoint):
                continue
            if rule.arguments == {"need_id"}:
                urls.append((rule.endpoint, url_for(rule.endpoint, need_id=need_id)))
            elif rule.arguments == {"pk"} and rule.endpoint in ("NeedModelView.show",
                                                                "NeedModelView.decide"):
                urls.append((rule.endpoint, url_for(rule.endpoint, pk=need_id)))
    return urls


def _walk(app, username, statements=False, need_id=None):
    """{(endpoint, variant): (url, statements or None, largest select)} of every page of the
    user; statements of the pages whose rows may grow (lists, exports, the dashboard, the
    desk: routes without arguments), when asked."""
    client = app.test_client()
    login(client, username)
    found = {}
    with app.app_context():
        engine = db.engine
    # rows grow on the routes without arguments: no need to follow links for them
    walked = pages(app, client, depth=0, filters=False) if statements else pages(app, client)
    for endpoint, label, url, options in walked:
        sql = None
        if statements and label in ("", "100 rows") and _grows_with_rows(app, url):
            status, _ms, sql, _bytes, options = measure(client, engine, url, 1)
            assert status == 200, (username, url, status)
        found[endpoint, label] = (url, sql, options)
    for endpoint, url in _pages_of_a_need(app, need_id) if statements and need_id else ():
        status, _ms, sql, _bytes, options = measure(client, engine, url, 1)
        if status == 200:  # the pages of the need this user may open
            found[endpoint, "the need"] = (url, sql, options)
    return found


def _grows_with_rows(app, url) -> bool:
    """A route without arguments (a list and its variants, an export, a dashboard)."""
    _endpoint, args = app.url_map.bind("localhost").match(url.split("?")[0], method="GET")
    return not args


def _many_users_and_institutions(n=600):
    """More rows than any dropdown may hold in the two tables every role's forms relate to."""
    now = utcnow()
    db.session.execute(insert(AppUser), [
        dict(first_name="批量", last_name=str(i), username=f"bulk{i}", email=f"bulk{i}@t.local",
             active=True, password="x", created_on=now, changed_on=now) for i in range(n)])
    db.session.execute(insert(Institution), [
        dict(name=f"批量研究院{i}", region_id=None, created_at=now, updated_at=now)
        for i in range(n)])
    db.session.commit()


def test_every_form_of_every_view_chooses_big_relations_by_typing(app):
    """The registry: no add, edit or search form of any view lists a big table's rows."""
    checked, offenders = 0, []
    for view in app.appbuilder.baseviews:
        for form_name in ("add_form", "edit_form", "search_form"):
            form = getattr(view, form_name, None)
            if form is None:
                continue
            for name in dir(form):
                unbound = getattr(form, name, None)
                if not isinstance(unbound, UnboundField):
                    continue
                if unbound.field_class in (QuerySelectField, QuerySelectMultipleField):
                    checked += 1
                    related = view.datamodel.get_related_model(name)
                    if choices.is_remote(related):
                        offenders.append(f"{type(view).__name__}.{form_name}.{name}")
    assert checked > 10  # the bounded dropdowns (regions, fields, roles) are still there
    assert offenders == []


def test_no_page_of_any_role_offers_a_select_over_the_limit(app, people):
    _many_users_and_institutions()
    for role, user in people.items():
        walked = _walk(app, user.username)
        assert len(walked) > 10, (role, sorted(walked))
        over = {key: found for key, found in walked.items() if found[2] > choices.MAX_OPTIONS}
        assert over == {}, role


def test_a_relation_is_offered_and_accepted_within_the_jurisdiction_only(app, client, make,
                                                                         world):
    login(client, "bureau_a")
    mine, theirs = world["A"]["enterprise"], world["B"]["enterprise"]
    answer = client.get("/projectmodelview/choices/enterprise?q=测试企业").get_json()
    ids = {row["id"] for row in answer["results"]}
    assert mine.id in ids and theirs.id not in ids
    assert client.get(f"/projectmodelview/choices/enterprise?id={theirs.id}"
                      ).get_json()["results"] == []
    # a column the view does not choose by typing, and a user without the view: no answer
    assert client.get("/projectmodelview/choices/number?q=a").status_code == 404
    login(client, "res_a")
    assert client.get("/enterprisemodelview/choices/region?q=a").status_code in (302, 403, 404)
    # a user's edit form renders only the chosen enterprise, and refuses a key it cannot offer
    login(client, make.user("Admin", "scale_admin_form").username)
    account = world["users"]["enterprise"]
    page = client.get(f"/users/edit/{account.id}").get_data(as_text=True)
    [box] = re.findall(r'<select name="enterprise".*?</select>', page, re.S)
    assert 'data-remote="/users/choices/enterprise"' in box
    assert re.findall(r'<option value="(\d+)"', box) == [str(mine.id)]
    form = {"first_name": account.first_name, "last_name": account.last_name,
            "username": account.username, "email": account.email, "active": "y",
            "roles": [str(r.id) for r in account.roles], "enterprise": "999999"}
    refused = client.post(f"/users/edit/{account.id}", data=form)
    assert refused.status_code == 200
    assert "这条记录不能在此选择" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AppUser, account.id).enterprise_id == mine.id


def _grow_projects(make, world, n):
    """``n`` more funded projects in each region (of as many enterprises), past their round's execution end, each with
    an overdue milestone, a service entry, a payment and a supervision case: the pages after
    立项 (the overdue lists, payments, cases) have more rows to show."""
    import datetime as dt

    from app.models import ProgramRound, ProjectState
    from app.utils import clock

    today = clock.today()
    past = make.save(ProgramRound(
        code="T-PAST", name="往期批次", needs_filing_start=today - dt.timedelta(200),
        needs_filing_end=today - dt.timedelta(150), matching_end=today - dt.timedelta(120),
        execution_end=today - dt.timedelta(10), evaluation_end=today - dt.timedelta(5)))
    for side, region in (("A", REGION_A), ("B", REGION_B)):
        for i in range(n):  # one project per enterprise and round
            need = make.need(make.enterprise(region), NeedState.contracted,
                             title=f"{side}往期需求{i}")
            project = make.project(make.contract(need, make.researcher(region)),
                                   state=ProjectState.funded)
            project.round = past
            make.milestone(project, due_on=today - dt.timedelta(days=3))
            make.service_log(project)
            make.payment(project)
            make.case(project)


def _grow(make, world, n=30):
    """``n`` more needs, proposals, matches and notifications in each region: every list,
    export and count of the walk has more rows to show; and region A's published need more
    proposals, each from a researcher of another institution."""
    for side in ("A", "B"):
        party = world[side]
        for i in range(n):
            need = make.need(party["enterprise"], NeedState.published, title=f"{side}增长需求{i}")
            researcher = make.researcher(REGION_A if side == "A" else REGION_B)
            make.proposal(need, researcher, state=ProposalState.submitted)
    for i in range(10):
        make.proposal(world["A"]["published"], make.researcher(REGION_A),
                      state=ProposalState.submitted)
    _grow_projects(make, world, 5)
    # the needs were ranked as they were published: their matches pushed
    db.session.execute(update(Match).values(pushed_at=utcnow()))
    assert db.session.scalar(select(func.count(Match.id))) >= n
    users = db.session.scalars(select(AppUser)).all()
    db.session.execute(insert(Notification), [
        dict(user_id=user.id, channel=Channel.site, template="match_digest", payload={},
             state=NotificationState.sent, attempts=1, token=f"grow{user.id}x{i}",
             idempotency_key=f"grow{user.id}x{i}", created_at=utcnow(), updated_at=utcnow(),
             sent_at=utcnow()) for user in users for i in range(5)])
    db.session.commit()


def test_the_statements_of_every_page_do_not_grow_with_its_rows(app, make, world, people):
    need = world["A"]["published"].id
    before = {role: _walk(app, user.username, True, need) for role, user in people.items()}
    _grow(make, world)
    grown, compared = [], 0
    for role, user in people.items():
        after = _walk(app, user.username, True, need)
        for key, (url, sql, _options) in before[role].items():
            if sql is None or key not in after:
                continue
            compared += 1
            if after[key][1] > sql:
                grown.append(f"{role}: {url} ran {sql} statements, {after[key][1]} with more rows")
    assert compared > 60
    assert grown == [], "\n".join(grown)


def test_the_dashboard_is_kept_until_a_counted_table_is_written(app, client, make, world,
                                                                people):
    from sqlalchemy import event

    login(client, people["Province"].username)
    client.get("/dashboard/")
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement.split()[0].upper() not in ("PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK",
                                                "BEGIN", "COMMIT"):
            seen.append(statement)  # (transaction control: the long read's, not a query)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        kept = client.get("/dashboard/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(seen) <= 5, '\n'.join(q[:90] for q in seen)
    # a proposal submitted now is counted on the next view (every process: the row token)
    need = make.need(world["A"]["enterprise"], NeedState.published, title="新发布")
    make.proposal(need, make.researcher(REGION_A), state=ProposalState.submitted)
    fresh = client.get("/dashboard/").get_data(as_text=True)
    assert fresh != kept


def test_an_export_of_many_rows_is_streamed_in_constant_statements(app, client, make, world,
                                                                   people):
    import io

    from openpyxl import load_workbook

    login(client, people["Province"].username)
    response = client.get("/needlist/export.xlsx")
    assert response.status_code == 200
    assert response.is_streamed
    book = load_workbook(io.BytesIO(response.get_data()))
    titles = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert "A已发布需求" in titles and "B已发布需求" in titles


def _leads_an_index(column) -> bool:
    table = column.table
    if column.primary_key or column.index or column.unique:
        return True
    leading = [list(index.columns)[0] for index in table.indexes]
    leading += [list(constraint.columns)[0] for constraint in table.constraints
                if constraint.__class__.__name__ == "UniqueConstraint" and constraint.columns]
    return any(first is column for first in leading)


# Lists that sort only a small subset, found by an index first.
SMALL_SUBSETS = {"FailedNotificationModelView": "the failed deliveries, by the state index"}


def test_every_list_is_ordered_by_a_column_that_leads_an_index(app):
    """A list's default order walks an index: sorting 2,000,000 matches by score for a page
    of 25 took 10 s. Reference data (a few hundred rows) is sorted as it is."""
    checked, unindexed = 0, []
    for view in app.appbuilder.baseviews:
        order = getattr(view, "base_order", None)
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if not order or model is None or not hasattr(model, "__table__"):
            continue
        if getattr(model, "__reference_data__", False) or type(view).__name__ in SMALL_SUBSETS:
            continue
        checked += 1
        column = model.__table__.columns.get(order[0])
        if column is None or not _leads_an_index(column):
            unindexed.append(f"{type(view).__name__}: {order[0]}")
    assert checked > 10
    assert unindexed == []


@pytest.mark.parametrize("kind, good", [("Boolean", ("y", "n", "true")), ("Numeric", ("1.5",)),
                                        ("DateTime", ("2026-12-07 09:30", "2026-12-07"))])
def test_every_typed_filter_takes_its_type_and_refuses_anything_else(app, client, people, kind,
                                                                     good):
    """On every list with a yes/no or decimal search column: FAB passed the address's text to
    the database, and PostgreSQL answered 500 (boolean = varchar, numeric = varchar)."""
    import sqlalchemy
    from flask_appbuilder.baseviews import BaseCRUDView

    column_type = getattr(sqlalchemy, kind)
    login(client, people["Admin"].username)
    checked = 0
    for view in app.appbuilder.baseviews:
        if not isinstance(view, BaseCRUDView):  # the back office's pages (the API: 400s)
            continue
        model = view.datamodel.obj
        for column in view._filters.get_search_filters():
            col = model.__table__.columns.get(column)
            if col is None or not isinstance(col.type, column_type):
                continue
            url = f"{view.route_base}/list/"
            checked += 1
            for value in good:
                assert client.get(f"{url}?_flt_0_{column}={value}").status_code == 200, (
                    url, column, value)
            assert client.get(f"{url}?_flt_0_{column}=湖北").status_code == 400, (url, column)
    assert checked >= 2


def _sqlite_plan(statement) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    return "\n".join(row[-1] for row in db.session.execute(
        sqlalchemy_text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_no_jurisdiction_rule_runs_a_subquery_for_every_row(app, people):
    """A bureau's researcher list searched by a name nobody has took 0.58 s at province: its
    rule reached the region through the institution in a subquery run once per researcher.
    Every rule of every model with keys, for each regional role, is found through indexes."""
    from flask_appbuilder import Model

    from app.core.access import jurisdiction

    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plans")
    models = [mapper.class_ for mapper in Model.registry.mappers
              if hasattr(mapper.class_, "jurisdiction_keys")]
    correlated = []
    for model in models:
        for role in ("Bureau", "Enterprise", "Researcher"):
            clause = jurisdiction.clause_for(model, people[role])
            if clause is None:
                continue
            plan = _sqlite_plan(select(model.id).where(clause))
            if "CORRELATED" in plan:
                correlated.append(f"{model.__name__} as {role}: {plan}")
    assert len(models) > 10 and correlated == []


def test_the_match_list_filtered_by_push_date_reads_the_told_matches_index(app, db_session):
    """A push date nobody was told on walked the whole score index: 3.5 s at province."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plans")
    day = utcnow().replace(microsecond=0)
    # FAB counts the filtered rows for the pager: from the index, for every date comparison
    # (the page then reads them through it too: test_a_list_filtered_down_to_few_rows_...)
    for condition in (Match.pushed_at == day, Match.pushed_at > day, Match.pushed_at < day):
        count = _sqlite_plan(select(func.count()).select_from(Match).where(condition))
        assert "ix_matches_pushed_at" in count, count


def _as_shown(stored) -> str:
    """A stored (UTC) time as the lists show it and their filters take it: Beijing time."""
    import datetime as dt

    from app.utils import clock

    return f"{stored.replace(tzinfo=dt.timezone.utc).astimezone(clock.zone()):%Y-%m-%d %H:%M:%S}"


def test_a_list_filtered_down_to_few_rows_is_sorted_after_they_are_found(app, client, make,
                                                                         world, people):
    """SQLite keeps no histograms: filtered on a push date nobody was told on, the match list
    walked the score index through 2,000,000 rows (4.9 s). A filtered page that counts few
    rows finds them through the filter's index and sorts them; the order is the same."""
    import datetime as dt

    from sqlalchemy import event

    _grow(make, world, n=12)
    day = utcnow().replace(microsecond=0) - dt.timedelta(days=3)
    told = db.session.scalars(select(Match).order_by(Match.id)).all()[:9]
    for i, match in enumerate(told):
        match.pushed_at, match.score = day, 0.1 + (i * 7 % 9) / 10
    db.session.commit()
    expected = [m.id for m in sorted(told, key=lambda m: -m.score)]
    login(client, people["Platform"].username)
    statements = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        before = day + dt.timedelta(seconds=1)  # a range: SQLite guesses a third of the rows
        page = client.get(f"/matchmodelview/list/?_flt_2_pushed_at={_as_shown(before)}"
                          f"&psize_MatchModelView=5")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    listed = [int(pk) for pk in re.findall(r'/matchmodelview/show/(\d+)', page.get_data(
        as_text=True))]
    assert list(dict.fromkeys(listed)) == expected[:5]
    if db.engine.dialect.name == "sqlite":
        (read, parameters), = [(s, p) for s, p in statements
                               if s.lstrip().startswith("SELECT matches.id")]
        plan = "\n".join(row[-1] for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + read, parameters))
        assert "ix_matches_score" not in plan and "ix_matches_pushed_at" in plan, plan


def test_pages_of_a_list_sorted_after_filtering_are_disjoint_over_tied_values(
        app, client, make, world, people):
    """Every match of a push round shares one push time: ordered by it alone, pages over the
    ties could repeat or skip rows (PostgreSQL). The key breaks the ties, as in FAB."""
    import datetime as dt

    _grow(make, world, n=6)
    day = utcnow().replace(microsecond=0) - dt.timedelta(days=2)
    told = db.session.scalars(select(Match).order_by(Match.id)).all()[:9]
    for match in told:
        match.pushed_at, match.score = day, 0.5
    db.session.commit()
    login(client, people["Platform"].username)
    seen = []
    for page in (0, 1):
        response = client.get(f"/matchmodelview/list/?_flt_0_pushed_at={_as_shown(day)}"
                              f"&_oc_MatchModelView=pushed_at&_od_MatchModelView=desc"
                              f"&psize_MatchModelView=5&page_MatchModelView={page}")
        assert response.status_code == 200
        seen.append(list(dict.fromkeys(int(pk) for pk in re.findall(
            r'/matchmodelview/show/(\d+)', response.get_data(as_text=True)))))
    assert seen[0] == sorted(seen[0], reverse=True) and len(seen[0]) == 5
    assert sorted(seen[0] + seen[1]) == sorted(m.id for m in told)


def test_a_time_filter_is_typed_in_beijing_time(app, client, make, db_session):
    """The lists show times in Beijing; a time typed in their filter is Beijing time too. FAB
    compared it with the stored UTC time as it was: eight hours off."""
    import datetime as dt

    admin = make.user("Admin", "tz_admin")
    told = make.user("Enterprise", "tz_told", first_name="时区", last_name="测试员")
    make.save(Notification(user_id=told.id, channel=Channel.site, template="needs.publish",
                           payload={}, idempotency_key="tz:1",
                           created_at=dt.datetime(2026, 12, 7, 1, 55)))  # 09:55 in Wuhan
    login(client, admin.username)

    def listed(after):
        page = client.get(f"/notificationmodelview/list/?_flt_1_created_at={after}")
        assert page.status_code == 200
        return "tz_told" in page.get_data(as_text=True) or "测试员" in page.get_data(as_text=True)

    assert listed("2026-12-07 09:50") and not listed("2026-12-07 10:00")
    assert listed("2026-12-07")  # a day alone: from its midnight in Wuhan
