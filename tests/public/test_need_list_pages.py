"""The plain need list's pages: walked field by field from per-field counts, which each process
caches under the list's version token (app/domain/needs/need_list.py)."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CacheToken, NeedState
from app.domain.needs.need_list import page_slices
from helpers import get_with_statements, login

FIELDS = ("0101", "0106", "0601")  # 电子信息 ×2, then 新能源与节能


@pytest.fixture()
def listed(make):
    """23 public needs over three fields and two categories, one draft; newest first within
    a field, and two needs published at the same moment (the tie goes to the higher id)."""
    wuhan, yichang = make.enterprise("420100"), make.enterprise("420500")
    start = dt.datetime(2020, 10, 1)
    needs = []
    for i in range(23):
        needs.append(make.need(
            (wuhan, yichang)[i % 2], (NeedState.published, NeedState.docking)[i % 3 == 0],
            title=f"列表需求{i:02d}", field=make.field(FIELDS[i % 3]),
            category=make.category(("product_innovation", "common_technology")[i % 4 == 0]),
            amount=Decimal(100000 + 10000 * i),
            published_at=start + dt.timedelta(days=i if i != 22 else 21)))
    make.need(wuhan, NeedState.submitted, title="列表草稿", field=make.field(FIELDS[0]))
    return needs


def _expected(needs, keep=lambda need: True):
    """The list's order, computed here the plain way: domain, field, newest first, id."""
    chosen = [n for n in needs if keep(n)]
    return [n.title for n in sorted(chosen, key=lambda n: (
        n.field.domain.code, n.field.code, -n.published_at.timestamp(), -n.id))]


def _titles(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r">(列表[^<]*)</a>", response.get_data(as_text=True))


def _walk(client, query, per_page=20):
    titles, page = [], 1
    while True:
        found = _titles(client, f"/needs?per_page={per_page}&page={page}{query}")
        if not found:
            return titles
        titles += found
        page += 1


@pytest.mark.parametrize("query,keep", [
    ("", lambda n: True),
    ("&category={common}", lambda n: n.category.code == "common_technology"),
    ("&region={yichang}", lambda n: n.enterprise.region.code == "420500"),
    ("&min=150000&max=300000", lambda n: 150000 <= n.amount <= 300000),
    ("&domain={electronics}", lambda n: n.field.code.startswith("01")),
])
def test_pages_walk_the_grouped_list_without_gap_or_repeat(client, make, listed, query, keep):
    query = query.format(common=make.category("common_technology").id,
                         yichang=make.region("420500").id,
                         electronics=make.field("0101").domain_id)
    expected = _expected(listed, keep)
    assert expected and _walk(client, query) == expected
    assert "列表草稿" not in _walk(client, query)


def test_page_slices_cut_the_fields_at_the_page_edges():
    order = (7, 3, 9)
    counts = {3: 25, 7: 10, 9: 40, 11: 5}  # 11 is a field the cached order does not know yet
    assert page_slices(order, counts, 0, 20) == [(7, 0, 10), (3, 0, 10)]
    assert page_slices(order, counts, 20, 20) == [(3, 10, 15), (9, 0, 5)]
    assert page_slices(order, counts, 60, 20) == [(9, 25, 15), (11, 0, 5)]
    assert page_slices(order, counts, 80, 20) == []
    assert page_slices(order, {}, 0, 20) == []


def _token():
    return db.session.scalar(select(CacheToken.token).where(CacheToken.name == "need_list"))


def _total(client):
    page = client.get("/needs").get_data(as_text=True)
    return int(re.search(r"共 (\d+) 项已发布需求", page).group(1))


def test_a_published_need_is_counted_and_listed_at_once(client, make, listed):
    before = _titles(client, "/needs?per_page=100")
    assert _total(client) == len(before) == 23
    token = _token()
    enterprise = listed[0].enterprise
    need = make.need(enterprise, NeedState.recommended, title="列表新发布")
    assert _token() == token  # a need that is not public does not change the list
    platform = make.user("Platform")
    login(client, platform.username)
    response = client.post(f"/needmodelview/decide/{need.id}", data={"action": "publish",
                                                                    "opinion": "同意发布"})
    assert response.status_code == 302
    assert _token() != token
    client.get("/logout/")
    after = _titles(client, "/needs?per_page=100")
    assert "列表新发布" in after and _total(client) == len(after) == 24


def test_a_need_leaving_the_list_is_uncounted_at_once(client, make, db_session, listed):
    before = _walk(client, "")
    total = _total(client)
    gone = listed[4]
    gone.state = NeedState.closed
    db_session.commit()
    assert _walk(client, "") == [t for t in before if t != gone.title]
    assert _total(client) == total - 1


def test_a_rolled_back_change_leaves_the_token_alone(make, db_session, listed):
    token = _token()
    listed[1].amount = Decimal(999000)
    db_session.flush()
    db_session.rollback()
    assert _token() == token
    listed[1].field = make.field(FIELDS[2])
    db_session.commit()
    assert _token() != token


def _statements(client, url):
    return len(get_with_statements(client, url)[1])


@pytest.mark.parametrize("size", [20, 50, 100])
def test_a_page_costs_three_statements_then_one_whatever_its_size(client, make, listed, size):
    """For a signed-in user, whose page is made for them around the list's kept body: each of
    their requests reads their user row, and with it the tokens (app/core/access/visitor.py)."""
    login(client, make.user("Researcher", researcher_id=make.researcher().id).username)
    region = make.region("420500").id
    client.get("/needs?field=1")  # the reference labels' cache (other filters: other counts)
    for url in (f"/needs?per_page={size}", f"/needs?per_page={size}&region={region}&min=1"):
        assert _statements(client, url) == 1 + 2  # the user, counts per field, rows
        assert _statements(client, url) == 1  # the user: the body is kept
    # A later page of the same list: its rows (the counts are kept); past the last, no rows.
    assert _statements(client, f"/needs?per_page={size}&page=2") == 1 + (1 if size < 23 else 0)
    # The need with its enterprise and round (then kept with its contact); the researcher's
    # active proposal to it is read with the user, each time.
    assert _statements(client, f"/needs/{listed[0].id}") == 1 + 1
    assert _statements(client, f"/needs/{listed[0].id}") == 1


def test_anonymous_visitors_get_the_kept_page_until_a_need_changes(client, make, db_session,
                                                                    listed):
    url = "/needs?per_page=20&page=2"
    # The reference labels are kept per process for OPTIONS_TTL: make them here, not rely on
    # an earlier test having made them less than five minutes ago.
    client.get("/needs?field=1")
    assert _statements(client, url) == 3  # token, counts per field, rows
    kept = client.get(url).get_data(as_text=True)
    assert _statements(client, url) == 1  # the token only
    # The tokens of the list and of the reference data (the round), the need: now kept.
    assert _statements(client, f"/needs/{listed[0].id}") == 3
    assert _statements(client, f"/needs/{listed[0].id}") == 1  # the token
    client.get("/language/en", headers={"Referer": "http://localhost/needs"})
    english = client.get(url).get_data(as_text=True)
    assert english != kept and "published needs" in english  # kept per language
    listed[0].title = "列表需求改名"
    db_session.commit()
    assert "列表需求改名" in client.get(f"/needs/{listed[0].id}").get_data(as_text=True)
    assert "列表需求改名" in " ".join(_walk(client, ""))


def test_signed_in_users_never_get_a_kept_page(client, make, listed):
    anonymous = client.get(f"/needs/{listed[0].id}").get_data(as_text=True)
    assert "Sign in" in anonymous or "登录" in anonymous
    login(client, make.user("Researcher").username)
    page = client.get(f"/needs/{listed[0].id}").get_data(as_text=True)
    assert page != anonymous and ("退出" in page or "Sign out" in page)


def test_signed_in_users_get_their_own_page_around_the_kept_list(client, make, db_session,
                                                                 listed):
    anonymous = client.get("/needs?per_page=20").get_data(as_text=True)
    login(client, make.user("Researcher").username)
    page = client.get("/needs?per_page=20").get_data(as_text=True)
    assert ("退出" in page or "Sign out" in page) and "退出" not in anonymous
    body = lambda html: html[html.index("<main"):html.index("</main>")]
    assert body(page) == body(anonymous)
    listed[0].title = "列表需求二改"
    db_session.commit()
    assert "列表需求二改" in client.get("/needs?per_page=20").get_data(as_text=True)
