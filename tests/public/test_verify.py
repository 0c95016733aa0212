"""``/verify/<code>``: a printed document's code confirmed in the site's frame, an unknown or
malformed code answered 404, the page limited per address; and the print stylesheets."""
import pytest
from helpers import login

from app.domain.documents import codes
from app.models import DocumentCode
from app.models.mixins import utcnow


@pytest.fixture()
def issued(make, db_session):
    enterprise = make.enterprise(name="汉江精密机械有限公司")
    need = make.need(enterprise, title="数控机床主轴热变形补偿")
    row = DocumentCode(code=codes.new_code(), kind="recommendation", record_id=need.id,
                       title=need.title, enterprise_name=enterprise.name,
                       facts_hash="0" * 64, issued_at=utcnow())
    db_session.add(row)
    db_session.commit()
    return row


def test_a_known_code_is_confirmed_in_the_site_frame(client, issued):
    response = client.get(f"/verify/{codes.grouped(issued.code)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "数控机床主轴热变形补偿" in html and "汉江精密机械有限公司" in html
    assert "public.css" in html and 'class="navbar' in html  # the site's own frame
    assert response.headers["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("code", ["ABCDE-FGHJK-MNPQR", "abcde", "0000000000000000", "%3Cscript%3E"])
def test_an_unknown_code_answers_404_in_the_site_frame(client, issued, code):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "data-unknown-code" in html and "public.css" in html
    assert "数控机床主轴热变形补偿" not in html and "<script>" not in html


def test_the_form_leads_to_the_code(client, issued):
    assert client.get("/verify").status_code == 200
    response = client.get("/verify", query_string={"code": issued.code.lower()})
    assert response.status_code == 302 and response.location.endswith(
        f"/verify/{issued.code.lower()}")


@pytest.fixture()
def limits_on(app, monkeypatch):
    limiter = app.appbuilder.sm.limiter
    monkeypatch.setitem(app.config, "RATE_LIMITS_ENABLED", True)
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", "3 per minute")
    limiter.reset()
    yield limiter
    limiter.reset()


def test_checks_are_limited_per_address(client, issued, limits_on):
    for _n in range(3):
        assert client.get("/verify/ABCDE-FGHJK-MNPQR").status_code == 404
    assert client.get(f"/verify/{issued.code}").status_code == 429
    other = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get(f"/verify/{issued.code}", environ_base=other).status_code == 200


def test_every_back_office_page_loads_the_print_stylesheet(app, client, make):
    user = make.user("Platform")
    login(client, user.username)
    page = client.get("/needmodelview/list/").get_data(as_text=True)
    assert "/static/office.css" in page
    css = client.get("/static/office.css")
    text = css.get_data(as_text=True)
    css.close()
    assert "@media print" in text and ".navbar" in text and "page-break-inside: avoid" in text
