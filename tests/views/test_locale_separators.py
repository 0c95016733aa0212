"""Lists, scales and times read naturally in both languages: the separators come from
Babel (a locale's list pattern, or a translated separator), never a literal “、” or “；”."""

import pytest
from babel.lists import format_list
from flask_babel import force_locale
from helpers import login

from app.models import NeedState, ProposalState

MISSING = ("expected_results", "timeline", "budget", "team")


@pytest.fixture()
def draft(make):
    enterprise = make.enterprise("420100")
    need = make.need(enterprise, NeedState.published)
    researcher = make.researcher("420100")
    make.user("Researcher", "sep_res", researcher_id=researcher.id)
    make.user("Enterprise", "sep_ent", enterprise_id=enterprise.id)
    return make.proposal(need, researcher, state=ProposalState.draft, expected_results="",
                         timeline="", budget=None, team="")


def _sections(app, locale):
    from app.domain.docking.proposals import SECTIONS

    with app.test_request_context(), force_locale(locale):
        return format_list([str(SECTIONS[name]) for name in MISSING], locale=locale)


def test_missing_sections_are_listed_the_english_way(app, client, draft):
    login(client, "sep_res")
    client.get("/language/en")
    expected = "Expected results and indicators, Timeline and milestones, Budget (CNY), and Team"
    assert _sections(app, "en") == expected
    page = client.get(f"/proposalmodelview/show/{draft.id}").get_data(as_text=True)
    assert f"Still to complete before submitting: {expected}." in page
    page = client.post(f"/proposalmodelview/decide/{draft.id}", data={"action": "submit"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Please complete before submitting: {expected}." in page
    assert "、" not in page


def test_missing_sections_are_listed_the_chinese_way(app, client, draft):
    login(client, "sep_res")
    expected = _sections(app, "zh")
    assert "、" in expected and "和" in expected  # 甲、乙、丙和丁
    page = client.get(f"/proposalmodelview/show/{draft.id}").get_data(as_text=True)
    assert expected in page


def test_message_times_are_in_the_configured_zone(app, client, make, draft):
    from sqlalchemy import select

    from app.core.display import local_time
    from app.extensions import db
    from app.models import Message

    shortlisted = make.proposal(draft.need, make.researcher("420100"),
                                state=ProposalState.shortlisted)
    login(client, "sep_ent")
    client.post(f"/docking/thread/{shortlisted.id}", data={"body": "你好"},
                content_type="multipart/form-data")
    client.get("/language/en")
    page = client.get(f"/docking/thread/{shortlisted.id}").get_data(as_text=True)
    message = db.session.scalars(select(Message).where(
        Message.proposal_id == shortlisted.id)).one()
    with app.test_request_context():
        shown = local_time(message.created_at)
    assert "你好" in page and f"{shown}</small>" in page and "UTC" not in page
