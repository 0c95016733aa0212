"""An enterprise writes a need in the back office; it lands as its own draft in the open round."""
import io

from sqlalchemy import select

from app.models import Need, NeedState
from conftest import login


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
