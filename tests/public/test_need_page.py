"""A need's public page for signed-in visitors: the parts kept per need and language, the
visitor's own parts (offer, contact) read each time, and the user snapshot of app/core/access/visitor.py."""
import datetime as dt
from decimal import Decimal

import pytest
from flask import g, request_finished
from helpers import login

from app.core.access.visitor import Visitor
from app.models import AppUser, NeedState, ProposalState, ResearcherState
from app.utils import clock

PROPOSE = 'class="btn btn-primary propose"'


@pytest.fixture()
def need(make):
    enterprise = make.enterprise("420100", name="武汉光电精密仪器有限公司", contact_name="李经理")
    return make.need(enterprise, NeedState.published, title="高精度光纤传感器温漂补偿",
                     amount=Decimal(300000), contact_name="王工", contact_phone="13800001111")


@pytest.fixture()
def researcher(make):
    researcher = make.researcher()
    make.user("Researcher", "page_researcher", researcher_id=researcher.id)
    return researcher


def _page(client, need):
    response = client.get(f"/needs/{need.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_round_that_stops_docking_takes_the_offer_off_the_kept_page(client, db_session, need,
                                                                      researcher):
    login(client, "page_researcher")
    assert PROPOSE in _page(client, need) and PROPOSE in _page(client, need)  # now kept
    past = clock.today() - dt.timedelta(days=1)
    program_round = need.round
    program_round.needs_filing_start = past - dt.timedelta(days=30)
    program_round.needs_filing_end = past - dt.timedelta(days=20)
    program_round.matching_end = past
    db_session.commit()
    page = _page(client, need)
    assert PROPOSE not in page and "高精度光纤传感器温漂补偿" in page


def test_a_changed_contact_shows_at_once_and_only_to_whom_may_see_it(client, db_session, make,
                                                                      need, researcher):
    anonymous = _page(client, need)
    login(client, "page_researcher")
    assert "王工 · 13800001111" in _page(client, need)
    need.contact_name, need.contact_phone = None, None  # the need's page is kept till now
    db_session.commit()
    assert "李经理 · " + need.enterprise.phone in _page(client, need)
    need.enterprise.contact_name = "赵主任"
    db_session.commit()
    assert "赵主任 · " + need.enterprise.phone in _page(client, need)
    need.contact_phone = "13900002222"
    db_session.commit()
    assert "赵主任 · 13900002222" in _page(client, need)
    client.get("/logout/")
    assert _page(client, need) == anonymous and "13900002222" not in anonymous
    pending = make.researcher(state=ResearcherState.submitted)
    make.user("Researcher", "page_pending", researcher_id=pending.id)
    login(client, "page_pending")
    page = _page(client, need)
    assert "13900002222" not in page and PROPOSE not in page


def test_the_researchers_own_proposal_replaces_the_offer(client, db_session, make, need,
                                                         researcher):
    login(client, "page_researcher")
    assert PROPOSE in _page(client, need)
    proposal = make.proposal(need, researcher)
    page = _page(client, need)
    assert PROPOSE not in page and f"/proposalmodelview/show/{proposal.id}" in page
    other = make.need(need.enterprise, NeedState.published, title="另一项需求")
    page = _page(client, other)  # the proposal read with the user is this need's only
    assert PROPOSE in page and f"/proposalmodelview/show/{proposal.id}" not in page
    proposal.state = ProposalState.withdrawn
    db_session.commit()
    assert PROPOSE in _page(client, need)


def test_a_deactivated_user_is_signed_out_of_the_public_pages(client, db_session, need,
                                                              researcher):
    login(client, "page_researcher")
    assert "退出" in client.get("/needs").get_data(as_text=True)
    user = db_session.query(AppUser).filter_by(username="page_researcher").one()
    user.active = False
    db_session.commit()
    for url in ("/needs", f"/needs/{need.id}", "/"):
        page = client.get(url).get_data(as_text=True)
        assert "退出" not in page and "登录" in page and "13800001111" not in page


def test_a_role_taken_away_takes_the_offer_and_contact_away(client, db_session, app, need,
                                                            researcher):
    login(client, "page_researcher")
    assert PROPOSE in _page(client, need)
    user = db_session.query(AppUser).filter_by(username="page_researcher").one()
    user.roles = [app.appbuilder.sm.find_role("Enterprise")]
    db_session.commit()
    page = _page(client, need)
    assert PROPOSE not in page and "13800001111" not in page and "退出" in page


def test_only_the_read_only_public_pages_get_the_snapshot(app, client, need, researcher):
    login(client, "page_researcher")
    seen = []

    def note_user(_sender, response, **_extra):
        seen.append((response.status_code, type(g.user._get_current_object())))

    request_finished.connect(note_user, app)
    try:
        for url in ("/needs", f"/needs/{need.id}", "/", "/office/"):
            seen.clear()
            client.get(url)
            assert seen == [(200, Visitor)], url
        for url in ("/register", "/proposalmodelview/list/", "/office/inbox/"):
            seen.clear()
            client.get(url)
            assert seen and seen[0][1] is AppUser, (url, seen)
    finally:
        request_finished.disconnect(note_user, app)


def test_the_frame_follows_the_language_and_the_sign_in(client, need, researcher):
    chinese = _page(client, need)
    assert "登录" in chinese and 'lang="zh-CN"' in chinese
    client.get("/language/en", headers={"Referer": "http://localhost/needs"})
    english = _page(client, need)
    assert "Sign in" in english and 'lang="en"' in english and "Need list" in english
    login(client, "page_researcher")
    english = _page(client, need)
    assert "Sign out" in english and "Write a proposal" in english and "Contact" in english
    client.get("/language/zh", headers={"Referer": "http://localhost/needs"})
    assert "退出" in _page(client, need) and "撰写技术方案" in _page(client, need)
