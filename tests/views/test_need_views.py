"""An enterprise writes a need in the back office; it lands as its own draft in the open round."""
import io

from sqlalchemy import select

from app.models import Need, NeedState
from helpers import login


def test_enterprise_creates_a_draft_need_with_a_chinese_attachment(client, make, db_session):
    enterprise = make.enterprise()
    other = make.enterprise()
    open_round = make.open_round()
    db_session.commit()
    make.user("Enterprise", "ent_form", enterprise_id=enterprise.id)
    login(client, "ent_form")
    assert client.get("/needmodelview/add").status_code == 200
    response = client.post("/needmodelview/add", content_type="multipart/form-data", data={
        "title": "高温合金叶片涂层寿命提升", "category": make.category().id,
        "field": make.field().id, "background": "背景", "problem": "涂层剥落",
        "targets": "寿命提升30%", "basis": "中试线", "cooperation_mode": "委托开发",
        "timeline": "12个月", "keywords": "涂层 叶片", "amount": "200000", "enterprise": other.id,
        "attachment": (io.BytesIO(b"%PDF-1.4 need"), "需求说明书.pdf")})
    assert response.status_code == 302
    need = db_session.scalars(select(Need).where(Need.title == "高温合金叶片涂层寿命提升")).one()
    assert need.enterprise_id == enterprise.id and need.round_id == open_round.id
    assert need.state is NeedState.draft and need.attachment.endswith("需求说明书.pdf")
    download = client.get(f"/needmodelview/download/{need.attachment}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 need"
    download.close()
    submitted = client.post(f"/needmodelview/decide/{need.id}", data={"action": "submit"})
    assert submitted.status_code == 302
    db_session.expire_all()
    assert db_session.get(Need, need.id).state is NeedState.submitted


def test_empty_columns_show_as_empty_cells_not_none(client, make, db_session):
    """A draft has no attachment, opinion or dates yet: its page and list leave them blank."""
    enterprise = make.enterprise()
    need = make.need(enterprise=enterprise)
    db_session.commit()
    assert need.attachment is None and need.submitted_at is None
    make.user("Enterprise", "ent_none", enterprise_id=enterprise.id)
    login(client, "ent_none")
    for page in (f"/needmodelview/show/{need.id}", "/needmodelview/list/"):
        html = client.get(page).get_data(as_text=True)
        assert need.title in html and "None" not in html, page


def test_a_submitted_need_cannot_be_edited_and_nothing_changes(client, make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.submitted, title="原标题")
    make.user("Enterprise", "ent_edit", enterprise_id=enterprise.id)
    login(client, "ent_edit")
    client.post(f"/needmodelview/edit/{need.id}", data={
        "title": "改过的标题", "category": need.category_id, "field": need.field_id,
        "amount": "150000"})
    db_session.expire_all()
    assert db_session.get(Need, need.id).title == "原标题"


def test_lists_show_translated_states_not_codes(client, make):
    enterprise = make.enterprise()
    make.need(enterprise, NeedState.returned_by_platform, title="状态显示测试")
    make.user("Platform", "plat_states")
    login(client, "plat_states")
    page = client.get("/needmodelview/list/").get_data(as_text=True)
    assert str(NeedState.returned_by_platform.title) in page
    # The code may be an option *value*; it is never displayed as text.
    assert ">returned_by_platform<" not in page
    assert "\\u003ereturned_by_platform\\u003c" not in page


def test_a_half_written_draft_is_saved_and_the_completeness_check_explains_it(
        client, make, db_session):
    enterprise = make.enterprise()
    make.open_round()
    db_session.commit()
    make.user("Enterprise", "ent_draft", enterprise_id=enterprise.id)
    login(client, "ent_draft")
    response = client.post("/needmodelview/add", data={
        "title": "半成品需求", "category": make.category().id, "field": make.field().id,
        "targets": "尽量提高良品率", "amount": "120000"})
    assert response.status_code == 302
    need = db_session.scalars(select(Need).where(Need.title == "半成品需求")).one()
    assert need.state is NeedState.draft and need.background == ""
    page = client.get(f"/needmodelview/decide/{need.id}").get_data(as_text=True)
    for expected in ("背景", "没有", "关键词"):
        assert expected in page, expected
    # Advice only: the enterprise may still submit; the reviewers see the same findings.
    client.post(f"/needmodelview/decide/{need.id}", data={"action": "submit"})
    db_session.expire_all()
    assert db_session.get(Need, need.id).state is NeedState.submitted
    make.user("Bureau", "bureau_findings", region_id=enterprise.region_id)
    login(client, "bureau_findings")
    assert "关键词" in client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)


def test_an_amount_below_the_round_minimum_cannot_be_submitted(client, make, db_session):
    from decimal import Decimal

    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.draft, amount=Decimal(50000))
    make.user("Enterprise", "ent_amount", enterprise_id=enterprise.id)
    login(client, "ent_amount")
    page = client.post(f"/needmodelview/decide/{need.id}", data={"action": "submit"},
                       follow_redirects=True).get_data(as_text=True)
    assert "100,000" in page
    db_session.expire_all()
    assert db_session.get(Need, need.id).state is NeedState.draft


def test_bureau_recommends_a_batch_with_one_opinion(client, make, db_session):
    enterprise = make.enterprise()
    mine = [make.need(enterprise, NeedState.submitted) for _ in range(3)]
    foreign = make.need(make.enterprise("420500"), NeedState.submitted)
    make.user("Bureau", "bureau_bulk", region_id=enterprise.region_id)
    login(client, "bureau_bulk")
    ids = [n.id for n in mine]
    to_form = client.post("/needmodelview/action_post", data={"action": "recommend", "rowid": ids})
    assert to_form.status_code == 302 and "decide_many" in to_form.headers["Location"]
    assert client.get(to_form.headers["Location"]).status_code == 200
    no_opinion = client.post("/needmodelview/decide_many",
                             data={"action": "recommend", "rowid": ids, "opinion": " "})
    assert no_opinion.status_code == 200
    db_session.expire_all()
    assert all(db_session.get(Need, i).state is NeedState.submitted for i in ids)
    with_foreign = client.post("/needmodelview/decide_many", data={
        "action": "recommend", "rowid": ids + [foreign.id], "opinion": "同意推荐"})
    assert with_foreign.status_code == 404
    done = client.post("/needmodelview/decide_many",
                       data={"action": "recommend", "rowid": ids, "opinion": "同意推荐"})
    assert done.status_code == 302
    db_session.expire_all()
    for i in ids:
        need = db_session.get(Need, i)
        assert need.state is NeedState.recommended and need.recommendation == "同意推荐"
    assert db_session.get(Need, foreign.id).state is NeedState.submitted


def test_writing_a_need_outside_the_filing_window_names_the_dates(client, make, db_session):
    """Only the 2020 round exists here (its filing closed on 2020-12-31)."""
    enterprise = make.enterprise()
    make.user("Enterprise", "ent_late", enterprise_id=enterprise.id)
    login(client, "ent_late")
    page = client.post("/needmodelview/add", data={
        "title": "逾期需求", "category": make.category().id, "field": make.field().id,
        "amount": "120000"}, follow_redirects=True).get_data(as_text=True)
    assert "2020-12-31" in page
    assert db_session.scalars(select(Need).where(Need.title == "逾期需求")).first() is None
