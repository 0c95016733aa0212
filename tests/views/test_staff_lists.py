"""Back-office list pages cost a fixed, small number of SQL statements whatever the page size
(stock FAB: one per menu permission and one per row's related column), and a form's related
choices follow the jurisdiction rule."""
import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import NeedState, ProposalState
from helpers import get_with_statements, login

LISTS = ["needmodelview", "enterprisemodelview", "researchermodelview", "proposalmodelview",
         "matchmodelview", "contractmodelview", "projectmodelview", "messagemodelview"]


@pytest.fixture()
def many(make):
    """Enough rows, each with its own related enterprise and researcher, that one statement
    per row would show."""
    for n in range(30):
        enterprise = make.enterprise("420100" if n % 2 else "420500")
        need = make.need(enterprise, NeedState.published)
        researcher = make.researcher("420100")
        make.proposal(need, researcher, state=ProposalState.submitted)
        contract = make.contract(need, researcher)
        make.project(contract)
    return make.user("Platform", "lists_platform")


def _statements(client, url, seen=None):
    response, statements = get_with_statements(client, url)
    if seen is not None:
        seen.extend(statements)
        seen.append(response.get_data(as_text=True))
    return len(statements)


def _page_size_arg(app, view, size):
    """FAB reads a list's page size from ``psize_<the view's class name>``."""
    name = next(type(v).__name__ for v in app.appbuilder.baseviews
                if type(v).__name__.lower() == view)
    return f"psize_{name}={size}"


FILLED = {"needmodelview", "enterprisemodelview", "researchermodelview", "proposalmodelview",
          "contractmodelview", "projectmodelview"}  # 30 rows each in ``many``


@pytest.mark.parametrize("view", LISTS)
def test_a_list_page_runs_at_most_five_statements_whatever_its_size(app, client, many, view):
    login(client, "lists_platform")
    client.get(f"/{view}/list/")  # the first page after login also loads the user
    counts, pages = {}, {}
    for size in (10, 25):
        seen = []
        counts[size] = _statements(client, f"/{view}/list/?{_page_size_arg(app, view, size)}",
                                   seen)
        pages[size] = seen[-1].count("<tr") - 1  # the header's row
    assert max(counts.values()) <= 5, counts
    assert counts[10] == counts[25], counts
    if view in FILLED:
        assert pages == {10: 10, 25: 25}, pages


def test_a_need_list_page_leaves_the_needs_profiles_and_texts_unread(app, client, many):
    login(client, "lists_platform")
    client.get("/needmodelview/list/")
    seen = []
    _statements(client, f"/needmodelview/list/?{_page_size_arg(app, 'needmodelview', 25)}",
                seen)
    statements, page = seen[:-1], seen[-1]
    assert page.count("<tr") - 1 == 25
    (rows,) = [st for st in statements if "FROM needs" in st and "LIMIT" in st
               and not st.lstrip().upper().startswith("SELECT COUNT")]
    assert "needs.title" in rows and "match_terms" not in rows, rows
    # nor the six sections of its text, which a list does not show
    assert "needs.background" not in rows and "needs.targets" not in rows, rows


def test_permissions_are_read_once_per_request_and_a_change_applies_next_request(
        client, make, db_session):
    user = make.user("Bureau", "lists_bureau", region_id=make.region("420100").id)
    login(client, "lists_bureau")
    assert client.get("/needmodelview/list/").status_code == 200
    sm = client.application.appbuilder.sm
    role = sm.find_role("Bureau")
    listing = sm.find_permission_view_menu("can_list", "NeedModelView")
    sm.del_permission_role(role, listing)
    db_session.commit()
    assert client.get("/needmodelview/list/").status_code in (302, 403)
    sm.add_permission_role(role, listing)
    db_session.commit()
    assert client.get("/needmodelview/list/").status_code == 200
    assert user.region_id is not None


def test_related_choices_follow_the_jurisdiction_rule(app, make, db_session):
    """A bureau's dropdowns offer its own region's enterprises only; institutions (a
    directory) are offered to everyone."""
    from flask import g

    from app.views.needs import NeedModelView
    from app.views.registration import ResearcherModelView

    ours, theirs = make.enterprise("420100"), make.enterprise("420500")
    other_institution = make.institution("420500")
    bureau = make.user("Bureau", "lists_choices", region_id=make.region("420100").id)
    with app.test_request_context():
        g.user = bureau
        _count, enterprises = NeedModelView.datamodel.get_related_interface("enterprise").query()
        _count, institutions = ResearcherModelView.datamodel.get_related_interface(
            "institution").query()
    names = {e.name for e in enterprises}
    assert ours.name in names and theirs.name not in names
    assert other_institution.id in {i.id for i in institutions}


def test_permissions_are_kept_by_the_process_until_a_role_changes(client, make, db_session):
    """The signed-in user's row brings the permissions' cache token; the names are read again
    only after a change of a role's permissions, whoever made it."""
    make.user("Bureau", "kept_bureau", region_id=make.region("420100").id)
    login(client, "kept_bureau")
    client.get("/needmodelview/list/")
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/needmodelview/list/").status_code == 200
        assert not [s for s in seen if "ab_permission_view_role" in s]
        sm = client.application.appbuilder.sm
        role = sm.find_role("Bureau")
        sm.add_permission_role(role, sm.find_permission_view_menu("can_list", "OfficeIndexView")
                               or sm.add_permission_view_menu("can_list", "OfficeIndexView"))
        db_session.commit()
        seen.clear()
        assert client.get("/needmodelview/list/").status_code == 200
        assert [s for s in seen if "ab_permission_view_role" in s]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_researchers_are_found_by_their_institutions_name_pinyin_or_initials(client, make,
                                                                            db_session):
    """Instead of a dropdown of every institution (thousands at national scale)."""
    from app.models import Institution

    wuhan = Institution(name="武汉理工大学", type="university", region=make.region("420100"))
    other = Institution(name="三峡大学", type="university", region=make.region("420500"))
    db_session.add_all([wuhan, other])
    db_session.commit()
    make.researcher(name="周工", institution=wuhan)
    make.researcher(name="吴工", institution=other)
    make.user("Platform", "inst_platform")
    login(client, "inst_platform")
    page = client.get("/researchermodelview/list/").get_data(as_text=True)
    assert "武汉理工大学" in page and '<option value="%d"' % wuhan.id not in page
    view = next(v for v in client.application.appbuilder.baseviews
                if type(v).__name__ == "ResearcherModelView")
    index = [type(f).__name__ for f in view._filters._all_filters["name"]].index(
        "InstitutionPinyinSearchFilter")
    for query in ("武汉理工", "wuhanligong", "whlg"):
        found = client.get(f"/researchermodelview/list/?_flt_{index}_name={query}")
        text = found.get_data(as_text=True)
        assert "周工" in text and "吴工" not in text, query


def test_a_list_page_converts_no_column_to_filters_once_its_view_has(client, many,
                                                                     monkeypatch):
    """FAB builds its filters three times a list page, converting every column of the model;
    ours converts each column once per view (views/base.KeptFilterConverter)."""
    from flask_appbuilder.models.sqla.filters import SQLAFilterConverter

    login(client, "lists_platform")
    url = "/needmodelview/list/?_flt_0_state=" + NeedState.published.value
    first = client.get(url).get_data(as_text=True)
    converted = []
    original = SQLAFilterConverter.convert
    monkeypatch.setattr(SQLAFilterConverter, "convert",
                        lambda self, col: converted.append(col) or original(self, col))
    again = client.get(url).get_data(as_text=True)
    assert converted == []
    assert again.count("<tr") == first.count("<tr") == 26  # the header and a page of 25 needs


def test_each_search_column_offers_its_filters_once(client, many):
    """The kept conversions hand out lists of their own: the pinyin filters a view inserts
    into its search and filter lists do not appear twice in either."""
    login(client, "lists_platform")
    for _ in range(2):
        client.get("/researchermodelview/list/")
    view = next(v for v in client.application.appbuilder.baseviews
                if type(v).__name__ == "ResearcherModelView")
    for registry in (view._filters._search_filters, view._filters._all_filters):
        for column, filters in registry.items():
            names = [type(f).__name__ for f in filters]
            assert len(names) == len(set(names)), (column, names)
    assert view._filters._search_filters["name"] is not view._filters._all_filters["name"]
