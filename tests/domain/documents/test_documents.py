"""The printed documents (app/domain/documents) over HTTP: 推荐表, 立项审批表, 项目档案 and
服务企业证明 as PDFs whose text (read back with pypdf) holds the record's Chinese content and
a verification code that ``/verify/<code>`` confirms; who may print which, and when."""
import io
import re
from decimal import Decimal

import pytest
from helpers import login
from pypdf import PdfReader
from sqlalchemy import func, select

from app.domain.documents import codes
from app.models import (
    DocumentCode,
    EvaluationResult,
    NeedState,
    ProjectState,
    ReviewRecord,
)
from app.models.mixins import utcnow
from app.utils import clock

A, B = "420100", "420500"  # 武汉, 宜昌
CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")


@pytest.fixture()
def docs(make, db_session):
    enterprise = make.enterprise(A, name="鄂东光电科技有限公司", address="武汉市东湖高新区光谷大道1号")
    researcher = make.researcher(A, name="李明远")
    need = make.need(enterprise, NeedState.submitted, title="激光焊缝在线检测系统",
                     background="焊缝缺陷靠人工目检", problem="高速产线上缺陷漏检",
                     targets="漏检率低于百分之一")
    published = make.need(enterprise, NeedState.published, title="光纤传感器温度补偿")
    contract = make.contract(published, researcher)
    contract.registration_number = "42010112345"
    project = make.project(contract, number="HB-DOC-0001")
    other_enterprise, other_researcher = make.enterprise(B), make.researcher(B)
    users = {
        "ent": make.user("Enterprise", "doc_ent", enterprise_id=enterprise.id),
        "res": make.user("Researcher", "doc_res", researcher_id=researcher.id),
        "other_ent": make.user("Enterprise", "doc_other_ent", enterprise_id=other_enterprise.id),
        "other_res": make.user("Researcher", "doc_other_res", researcher_id=other_researcher.id),
        "bureau_a": make.user("Bureau", "doc_bureau_a", region_id=make.region(A).id),
        "bureau_b": make.user("Bureau", "doc_bureau_b", region_id=make.region(B).id),
        "province": make.user("Province", "doc_province"),
        "platform": make.user("Platform", "doc_platform"),
    }
    # The province's approval of the contract (立项), as the workflow leaves it.
    db_session.add(ReviewRecord(subject_type="contracts", subject_id=contract.id, action="approve",
                                from_state="submitted", to_state="approved",
                                opinion="同意立项，资助十万元", actor=users["province"]))
    db_session.commit()
    return {"need": need, "project": project, "contract": contract, "enterprise": enterprise,
            "researcher": researcher, **users}


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _code(text) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(0)


def _recommend(client, need, opinion="同意推荐：需求明确，指标可量化"):
    login(client, "doc_bureau_a")
    response = client.post(f"/needmodelview/decide/{need.id}",
                           data={"action": "recommend", "opinion": opinion})
    assert response.status_code == 302


def _evaluated(db_session, project):
    project.state = ProjectState.evaluated
    project.summary_report = "r_sep_总结报告.pdf"
    project.summary_submitted_at = project.researcher_confirmed_at = utcnow()
    project.self_accepted_at = utcnow()
    project.evaluation_scores = {"goals": "36", "funds": "18", "satisfaction": "17", "transfer": "15"}
    project.evaluation_score = Decimal("86")
    project.evaluation_result = EvaluationResult.good
    project.evaluation_opinion = "按期完成，企业满意"
    project.evaluated_at = utcnow()
    db_session.add(ReviewRecord(subject_type="projects", subject_id=project.id, action="evaluate",
                                from_state="accepted", to_state="evaluated",
                                opinion="按期完成，企业满意"))
    db_session.commit()


def _codes(db_session) -> int:
    return db_session.scalar(select(func.count(DocumentCode.id)))


# --- 推荐表 --------------------------------------------------------------------------------

def test_the_recommendation_form_exists_once_the_bureau_recommended(client, docs, db_session):
    need = docs["need"]
    url = f"/needmodelview/recommendation_pdf/{need.id}"
    login(client, "doc_ent")
    refused = client.get(url)
    assert refused.status_code == 302 and f"/needmodelview/show/{need.id}" in refused.location
    assert url not in client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    assert _codes(db_session) == 0

    _recommend(client, need)
    login(client, "doc_ent")
    assert url in client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    text = _text(client.get(url))
    for fact in ("激光焊缝在线检测系统", "鄂东光电科技有限公司", "焊缝缺陷靠人工目检",
                 "高速产线上缺陷漏检", "漏检率低于百分之一", "同意推荐：需求明确，指标可量化",
                 "武汉"):
        assert fact in text, fact
    code = _code(text)

    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "激光焊缝在线检测系统" in html and "鄂东光电科技有限公司" in html and code in html
    assert clock.today().isoformat() in html  # the day in Beijing, whatever the server's zone
    assert docs["enterprise"].phone not in html and docs["enterprise"].credit_code not in html


@pytest.mark.parametrize("username, allowed", [
    ("doc_ent", True), ("doc_platform", True), ("doc_province", True), ("doc_bureau_a", True),
    ("doc_bureau_b", False), ("doc_other_ent", False), ("doc_res", False)])
def test_who_may_print_the_recommendation_form(client, docs, username, allowed):
    _recommend(client, docs["need"])
    login(client, username)
    response = client.get(f"/needmodelview/recommendation_pdf/{docs['need'].id}")
    if allowed:
        assert "激光焊缝在线检测系统" in _text(response)
    else:
        assert response.status_code in (302, 403, 404)
        assert response.status_code != 302 or "/show/" not in response.location


def test_a_researcher_of_a_published_need_gets_neither_form_nor_link(client, docs, db_session):
    """A researcher sees published needs, but the bureau's opinion is not theirs to print."""
    need = docs["need"]
    _recommend(client, need)
    db_session.expire_all()  # the request moved the need on
    need.state, need.published_at = NeedState.published, utcnow()
    db_session.commit()
    login(client, "doc_other_res")
    show = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    assert "recommendation_pdf" not in show
    assert client.get(f"/needmodelview/recommendation_pdf/{need.id}").status_code in (302, 403)


def test_the_same_facts_keep_their_code_and_a_change_gives_a_new_one(client, docs, db_session):
    need = docs["need"]
    _recommend(client, need)
    login(client, "doc_ent")
    url = f"/needmodelview/recommendation_pdf/{need.id}"
    first = _code(_text(client.get(url)))
    login(client, "doc_platform")  # another reader, the same document
    assert _code(_text(client.get(url))) == first
    assert _codes(db_session) == 1

    db_session.expire_all()
    need.title = "激光焊缝在线检测系统（二期）"
    db_session.commit()
    second = _code(_text(client.get(url)))
    assert second != first and _codes(db_session) == 2
    old = client.get(f"/verify/{first}").get_data(as_text=True)
    assert "激光焊缝在线检测系统" in old and 'alert-warning' in old  # issued before a change
    assert "alert-warning" not in client.get(f"/verify/{second}").get_data(as_text=True)


# --- 立项审批表 and 项目档案 --------------------------------------------------------------------

@pytest.mark.parametrize("username", ["doc_ent", "doc_res", "doc_province", "doc_bureau_a",
                                      "doc_platform"])
def test_the_approval_form_states_the_contract_and_the_decision(client, docs, username):
    login(client, username)
    text = _text(client.get(f"/projectmodelview/approval_pdf/{docs['project'].id}"))
    for fact in ("HB-DOC-0001", "光纤传感器温度补偿", "鄂东光电科技有限公司", "李明远",
                 docs["researcher"].institution.name, "120,000.00", "100,000.00",
                 "同意立项，资助十万元", "42010112345"):
        assert fact in text, fact
    _code(text)


@pytest.mark.parametrize("kind", ["approval_pdf", "record_pdf", "service_record"])
@pytest.mark.parametrize("username", ["doc_bureau_b", "doc_other_ent", "doc_other_res"])
def test_another_regions_or_owners_project_answers_404(client, docs, db_session, kind, username):
    _evaluated(db_session, docs["project"])
    login(client, username)
    response = client.get(f"/projectmodelview/{kind}/{docs['project'].id}")
    assert response.status_code in ((403, 404) if kind == "service_record" and "ent" in username
                                    else (404,))
    assert _codes(db_session) == 0


def test_the_project_record_holds_execution_evaluation_and_history(client, docs, db_session):
    _evaluated(db_session, docs["project"])
    login(client, "doc_ent")
    text = _text(client.get(f"/projectmodelview/record_pdf/{docs['project'].id}"))
    for fact in ("HB-DOC-0001", "鄂东光电科技有限公司", "同意立项，资助十万元", "按期完成，企业满意",
                 "86"):
        assert fact in text, fact
    _code(text)


# --- 服务企业证明 --------------------------------------------------------------------------

def test_the_certificate_is_refused_and_hidden_before_the_evaluation(client, docs, db_session):
    project = docs["project"]
    project.state = ProjectState.accepted
    db_session.commit()
    login(client, "doc_res")
    url = f"/projectmodelview/service_record/{project.id}"
    response = client.get(url)
    assert response.status_code == 302 and f"/projectmodelview/show/{project.id}" in (
        response.location)
    assert url not in client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert _codes(db_session) == 0


def test_the_certificate_after_the_evaluation(client, docs, db_session):
    project = docs["project"]
    _evaluated(db_session, project)
    login(client, "doc_res")
    url = f"/projectmodelview/service_record/{project.id}"
    show = client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert url in show and f"/projectmodelview/record_pdf/{project.id}" in show
    text = _text(client.get(url))
    for fact in ("李明远", docs["researcher"].institution.name, "鄂东光电科技有限公司",
                 "光纤传感器温度补偿", "HB-DOC-0001", "86"):
        assert fact in text, fact
    code = _code(text)
    page = client.get(f"/verify/{code.replace('-', '').lower()}")  # as typed
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "鄂东光电科技有限公司" in html and "李**" in html
    assert "李明远" not in html and docs["researcher"].phone not in html
    assert "120,000" not in html and "100,000" not in html

    login(client, "doc_province")
    assert _code(_text(client.get(url))) == code
    login(client, "doc_ent")  # the certificate is the researcher's
    assert client.get(url).status_code in (302, 403)
    assert url not in client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)


def test_the_pdf_embeds_its_chinese_font(client, docs, app):
    login(client, "doc_province")
    data = client.get(f"/projectmodelview/approval_pdf/{docs['project'].id}").data
    assert b"/FontFile2" in data  # a TrueType subset inside the file
    assert b"http" not in data.replace(app.config["PUBLIC_BASE_URL"].encode(), b"")


def test_anonymous_users_are_sent_to_sign_in(client, docs):
    response = client.get(f"/projectmodelview/approval_pdf/{docs['project'].id}")
    assert response.status_code == 302 and "/login" in response.location


# --- the codes -----------------------------------------------------------------------------

def test_codes_are_long_readable_and_read_back_as_typed():
    code = codes.new_code()
    assert len(code) == 15 and not set(code) & set("01OIL")
    assert codes.grouped(code).count("-") == 2
    assert codes.normalized(codes.grouped(code).lower()) == code
    assert codes.normalized(" " + codes.grouped(code) + " ") == code
    assert codes.normalized("ABCDE-FGHJK-MNPQ0") is None and codes.normalized("short") is None
    assert len({codes.new_code() for _ in range(200)}) == 200
