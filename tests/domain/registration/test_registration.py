"""Public registration of enterprises and researchers, over HTTP: happy paths and every refusal."""
import io
import os

import pytest
from sqlalchemy import func, select

from app.models import (
    AppUser,
    Channel,
    Enterprise,
    EnterpriseState,
    Institution,
    Notification,
    Researcher,
    ResearcherState,
    ReviewRecord,
    WhitelistStatus,
)
from helpers import PDF, credit_code, enterprise_form, login, post_form, researcher_form

def _uploads(app):
    return sorted(os.listdir(app.config["UPLOAD_FOLDER"]))


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_registration_pages_render_with_zones_tied_to_regions(client, make):
    page = client.get("/register/enterprise").get_data(as_text=True)
    assert "统一社会信用代码" in page and 'data-region="' in page
    assert "愿意" in client.get("/register/researcher").get_data(as_text=True)


def test_enterprise_registers_and_waits_for_its_bureau(app, client, make, db_session):
    response = post_form(client, "/register/enterprise", enterprise_form(make))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    enterprise = db_session.scalars(select(Enterprise).where(
        Enterprise.credit_code == credit_code())).one()
    assert enterprise.state is EnterpriseState.submitted
    assert enterprise.whitelist_status is WhitelistStatus.not_found
    assert enterprise.license_file.endswith("_sep_营业执照.pdf")
    assert enterprise.sme_proof_file.endswith("_sep_入库证明.png")
    user = db_session.scalars(select(AppUser).where(AppUser.username == "13912345678")).one()
    assert user.enterprise_id == enterprise.id and [r.name for r in user.roles] == ["Enterprise"]
    history = db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_type == "enterprises", ReviewRecord.subject_id == enterprise.id)).all()
    assert [(h.from_state, h.to_state) for h in history] == [("draft", "submitted")]
    login(client, "13912345678", "Sichuan-Road-88")
    page = client.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert "武汉光谷量子传感科技有限公司" in page
    download = client.get(f"/enterprisemodelview/download/{enterprise.license_file}")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    # Not verified yet: it cannot publish needs.
    assert client.get("/needmodelview/add").status_code == 200
    client.post("/needmodelview/add", data={"title": "未核验企业的需求"})
    from app.models import Need

    assert db_session.scalars(select(Need).where(Need.title == "未核验企业的需求")).first() is None


REFUSALS = [
    ({"credit_code": "91420100MA4K12345X"}, "credit_code", "统一社会信用代码"),
    ({"phone": "12345"}, "phone", "手机"),
    ({"email": "not-an-email"}, "email", "电子邮箱"),
    ({"confirm": "different-password"}, "confirm", None),
    ({"password": "short", "confirm": "short"}, "password", None),
    ({"license_file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "营业执照.pdf")}, "license_file",
     "PDF"),
    ({"sme_proof_file": (io.BytesIO(b""), "")}, "sme_proof_file", None),
    ({"name": ""}, "name", None),
]


@pytest.mark.parametrize("overrides,field,text", REFUSALS, ids=[r[1] for r in REFUSALS])
def test_bad_enterprise_input_is_refused_and_nothing_is_stored(app, client, make, db_session,
                                                               overrides, field, text):
    before = (_count(db_session, Enterprise), _count(db_session, AppUser), _uploads(app))
    response = post_form(client, "/register/enterprise", enterprise_form(make, **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "has-error" in page
    if text:
        assert text in page
    db_session.expire_all()
    assert (_count(db_session, Enterprise), _count(db_session, AppUser), _uploads(app)) == before


def test_zone_of_another_region_is_refused(app, client, make, db_session):
    other_zone = make.region("420500").zones[0]
    response = post_form(client, "/register/enterprise", enterprise_form(make, zone_id=other_zone.id))
    assert response.status_code == 400
    assert "高新区" in response.get_data(as_text=True)
    assert _count(db_session, Enterprise) == 0 or not db_session.scalars(select(Enterprise).where(
        Enterprise.credit_code == credit_code())).first()


def test_oversized_upload_is_refused(app, client, make, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024)
    big = (io.BytesIO(PDF + b"0" * 4096), "营业执照.pdf")
    response = post_form(client, "/register/enterprise", enterprise_form(make, license_file=big))
    assert response.status_code == 400 and "MB" in response.get_data(as_text=True)


def _second(field, value):
    second = {"name": "另一家公司", "credit_code": credit_code("91420100MA4K9999"),
              "phone": "13900000001", "email": "other@example.cn"}
    second[field] = value if value else credit_code()
    return second


def test_a_registered_credit_code_is_refused_and_the_first_registration_is_untouched(
        app, client, make, db_session):
    """A credit code is public business data: the enterprise is told, to ask its bureau."""
    assert post_form(client, "/register/enterprise", enterprise_form(make)).status_code == 302
    first = db_session.scalars(select(Enterprise)).one()
    snapshot = (first.name, first.phone, first.email, first.license_file)
    response = post_form(client, "/register/enterprise",
                         enterprise_form(make, **_second("credit_code", None)))
    assert response.status_code == 400 and "信用代码" in response.get_data(as_text=True)
    db_session.expire_all()
    assert _count(db_session, Enterprise) == 1
    first = db_session.scalars(select(Enterprise)).one()
    assert (first.name, first.phone, first.email, first.license_file) == snapshot


@pytest.mark.parametrize("field,value,channel", [
    ("phone", "13912345678", Channel.sms), ("email", "li@quantum.example.cn", Channel.email),
])
def test_a_registered_number_or_address_is_not_told_to_the_applicant_but_to_its_owner(
        app, client, make, db_session, field, value, channel):
    """Sign-in tells no one which numbers exist; registration no longer does either. The
    answer is the one a new applicant gets, nothing is created, and the account that owns the
    number (or address) is told on it."""
    fresh = post_form(client, "/register/enterprise", enterprise_form(make))
    assert fresh.status_code == 302
    first = db_session.scalars(select(Enterprise)).one()
    snapshot = (first.name, first.phone, first.email, first.license_file)
    owner = db_session.scalars(select(AppUser).where(AppUser.enterprise_id == first.id)).one()
    response = post_form(client, "/register/enterprise",
                         enterprise_form(make, **_second(field, value)))
    assert response.status_code == 302
    assert response.headers["Location"] == fresh.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已注册" not in page and "already registered" not in page
    db_session.expire_all()
    assert _count(db_session, Enterprise) == 1
    first = db_session.scalars(select(Enterprise)).one()
    assert (first.name, first.phone, first.email, first.license_file) == snapshot
    told = db_session.scalars(select(Notification).where(
        Notification.user_id == owner.id, Notification.template == "registration.repeated")).all()
    assert [row.channel for row in told] == [channel]


def test_researcher_registers_and_the_platform_approves(app, client, make, db_session):
    response = post_form(client, "/register/researcher", researcher_form(make))
    assert response.status_code == 302
    researcher = db_session.scalars(select(Researcher).where(Researcher.phone == "13787654321")).one()
    assert researcher.state is ResearcherState.submitted and researcher.willing_to_serve
    assert researcher.institution.name == "华中农业大学" and len(researcher.fields) == 2
    assert researcher.name_pinyin == "zengxiaoming"  # 曾 as a surname
    make.user("Platform", "plat_vet")
    login(client, "plat_vet")
    assert client.post(f"/researchermodelview/decide/{researcher.id}",
                       data={"action": "approve"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Researcher, researcher.id).state is ResearcherState.approved


@pytest.mark.parametrize("overrides,text", [
    ({"institution_type": "other"}, "不能注册"),
    ({"willing_to_serve": ""}, "生产一线"),
    ({"position": "undergraduate"}, None),
    ({"field_ids": []}, None),
])
def test_ineligible_researchers_are_refused_before_anything_is_stored(
        app, client, make, db_session, overrides, text):
    data = researcher_form(make, **overrides)
    if not data["willing_to_serve"]:
        del data["willing_to_serve"]
    before = (_count(db_session, Researcher), _count(db_session, Institution), _uploads(app))
    response = post_form(client, "/register/researcher", data)
    assert response.status_code == 400
    if text:
        assert text in response.get_data(as_text=True)
    db_session.expire_all()
    assert (_count(db_session, Researcher), _count(db_session, Institution), _uploads(app)) == before


def test_known_institution_keeps_its_type(app, client, make, db_session):
    """Naming an existing ineligible institution with another type does not get around the rule."""
    db_session.add(Institution(name="某咨询公司", type="other", region=make.region("420100")))
    db_session.commit()
    response = post_form(client, "/register/researcher", researcher_form(
        make, institution_name="某咨询公司", institution_type="university"))
    assert response.status_code == 400


def test_returned_registration_is_corrected_and_resubmitted(app, client, make, db_session):
    post_form(client, "/register/enterprise", enterprise_form(make))
    enterprise = db_session.scalars(select(Enterprise)).one()
    make.user("Bureau", "bureau_wh", region_id=enterprise.region_id)
    make.user("Bureau", "bureau_yc", region_id=make.region("420500").id)
    login(client, "bureau_yc")
    assert enterprise.name not in client.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert client.get(f"/enterprisemodelview/show/{enterprise.id}").status_code == 404
    assert client.get(f"/enterprisemodelview/download/{enterprise.license_file}").status_code == 404
    assert client.post(f"/enterprisemodelview/decide/{enterprise.id}",
                       data={"action": "return", "opinion": "x"}).status_code == 404
    login(client, "bureau_wh")
    client.post(f"/enterprisemodelview/decide/{enterprise.id}", data={"action": "return"})
    db_session.expire_all()
    assert db_session.get(Enterprise, enterprise.id).state is EnterpriseState.submitted
    client.post(f"/enterprisemodelview/decide/{enterprise.id}",
                data={"action": "return", "opinion": "营业执照不清晰"})
    login(client, "13912345678", "Sichuan-Road-88")
    assert "营业执照不清晰" in client.get(
        f"/enterprisemodelview/show/{enterprise.id}").get_data(as_text=True)
    client.post(f"/enterprisemodelview/edit/{enterprise.id}", content_type="multipart/form-data",
                data={"name": enterprise.name, "sme_number": "202042010000123",
                      "zone": enterprise.zone_id, "field": enterprise.field_id,
                      "address": "武汉市东湖高新区光谷大道2号", "contact_name": "李经理",
                      "license_file": (io.BytesIO(PDF), "营业执照-清晰版.pdf")})
    client.post(f"/enterprisemodelview/decide/{enterprise.id}", data={"action": "submit"})
    db_session.expire_all()
    enterprise = db_session.get(Enterprise, enterprise.id)
    assert enterprise.state is EnterpriseState.submitted
    assert enterprise.address.endswith("2号") and enterprise.license_file.endswith("清晰版.pdf")
    login(client, "bureau_wh")
    client.post(f"/enterprisemodelview/decide/{enterprise.id}", data={"action": "verify"})
    db_session.expire_all()
    assert db_session.get(Enterprise, enterprise.id).state is EnterpriseState.verified
    history = db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_id == enterprise.id, ReviewRecord.subject_type == "enterprises")
        .order_by(ReviewRecord.id)).all()
    assert [h.action for h in history] == ["submit", "return", "submit", "verify"]
    show = client.get(f"/enterprisemodelview/show/{enterprise.id}").get_data(as_text=True)
    assert "营业执照不清晰" in show and "Bureau " in show  # the reviewer by name


def test_a_verified_registration_cannot_be_edited_by_its_owner(app, client, make, db_session):
    enterprise = make.enterprise(state=EnterpriseState.verified, name="已核验企业")
    make.user("Enterprise", "ent_verified", enterprise_id=enterprise.id)
    login(client, "ent_verified")
    client.post(f"/enterprisemodelview/edit/{enterprise.id}", data={
        "name": "改名企业", "sme_number": "1", "address": "x", "contact_name": "y"})
    db_session.expire_all()
    assert db_session.get(Enterprise, enterprise.id).name == "已核验企业"


def test_decision_notifies_the_applicant_in_site(app, client, make, db_session, redis_conn):
    from app.models import Notification

    post_form(client, "/register/enterprise", enterprise_form(make))
    enterprise = db_session.scalars(select(Enterprise)).one()
    make.user("Platform", "plat_notify")
    login(client, "plat_notify")
    client.post(f"/enterprisemodelview/decide/{enterprise.id}", data={"action": "verify"})
    applicant = db_session.scalars(select(AppUser).where(AppUser.username == "13912345678")).one()
    rows = db_session.scalars(select(Notification).where(Notification.user_id == applicant.id)).all()
    assert {r.channel.value for r in rows} >= {"site"}
