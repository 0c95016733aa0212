"""Forms keep what people typed: a record the rules refuse is shown again as typed, with the
reason; after a save the user lands on the record, not on a list or the home page; a choice
the user must make is not made for them."""
import re

from helpers import login
from sqlalchemy import select

from app.models import EnterpriseState, Need, NeedState

TYPED = "这段背景说明是用户花了二十分钟写的"


def _need_form(make, **extra):
    return {"title": "注塑件缺陷在线检测", "category": make.category().id,
            "field": make.field().id, "background": TYPED, "problem": "漏检率高",
            "amount": "150000", **extra}


def test_a_need_refused_on_save_keeps_what_was_typed(client, make, db_session):
    enterprise = make.enterprise(state=EnterpriseState.submitted)  # not verified yet
    make.open_round()
    make.user("Enterprise", "keep_unverified", enterprise_id=enterprise.id)
    login(client, "keep_unverified")
    # Told before filling anything in, then kept as typed when sent anyway.
    assert "核验通过后方可发布需求" in client.get("/needmodelview/add").get_data(as_text=True)
    response = client.post("/needmodelview/add", data=_need_form(make))
    assert response.status_code == 200  # the form again, not a redirect away from it
    page = response.get_data(as_text=True)
    assert TYPED in page and "注塑件缺陷在线检测" in page and "核验通过后方可发布需求" in page
    assert db_session.scalars(select(Need).where(Need.title == "注塑件缺陷在线检测")).first() is None


def test_after_saving_a_need_the_enterprise_lands_on_it(client, make, db_session):
    enterprise = make.enterprise()
    make.open_round()
    make.user("Enterprise", "keep_saver", enterprise_id=enterprise.id)
    login(client, "keep_saver")
    response = client.post("/needmodelview/add", data=_need_form(make))
    need = db_session.scalars(select(Need).where(Need.title == "注塑件缺陷在线检测")).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/needmodelview/show/{need.id}")
    edited = client.post(f"/needmodelview/edit/{need.id}",
                         data=_need_form(make, title="注塑件缺陷在线检测（修订）"))
    assert edited.headers["Location"].endswith(f"/needmodelview/show/{need.id}")


def test_category_and_field_are_chosen_not_preselected(client, make):
    enterprise = make.enterprise()
    make.open_round()
    make.category(), make.field()
    make.user("Enterprise", "keep_choice", enterprise_id=enterprise.id)
    login(client, "keep_choice")
    page = client.get("/needmodelview/add").get_data(as_text=True)
    for name in ("category", "field"):
        select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
        assert select_html, name
        options = re.findall(r"<option([^>]*)>", select_html.group(1))
        assert options and 'value="__None"' in options[0] and "selected" in options[0], name
    refused = client.post("/needmodelview/add", data=_need_form(make, category="__None"))
    assert refused.status_code == 200 and "该字段是必填字段" in refused.get_data(as_text=True)


def test_the_need_sections_are_boxes_to_write_paragraphs_in(client, make):
    enterprise = make.enterprise()
    make.open_round()
    make.user("Enterprise", "keep_boxes", enterprise_id=enterprise.id)
    login(client, "keep_boxes")
    page = client.get("/needmodelview/add").get_data(as_text=True)
    boxes = re.findall(r"<textarea[^>]*>", page)
    assert len(boxes) >= 6 and all('rows="8"' in box for box in boxes), boxes


def test_registration_keeps_the_files_and_shows_every_error_at_once(client, make, db_session,
                                                                    app):
    """A refused registration holds the accepted files under a name only this browser may
    claim: the applicant corrects the typo and sends again without choosing them again."""
    import os

    from helpers import enterprise_form

    from app.models import Enterprise
    form = enterprise_form(make, email="", address="", credit_code="91420100MA4K00000X")
    response = client.post("/register/enterprise", data=form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count('class="help-block"') >= 2  # e-mail and address together, not one a time
    assert "营业执照.pdf" in page and "入库证明.png" in page  # received, shown as such
    held = dict(re.findall(r'name="(\w+_file)__held" value="([^"]+)"', page))
    assert set(held) == {"license_file", "sme_proof_file"}

    # Another browser cannot claim them.
    stranger = app.test_client()
    stranger.post("/register/enterprise", data={
        **enterprise_form(make, phone="13900000001", email="x@e.cn"),
        "license_file": None, "sme_proof_file": None,
        **{f"{k}__held": v for k, v in held.items()}}, content_type="multipart/form-data")
    assert db_session.scalar(select(Enterprise).where(Enterprise.phone == "13900000001")) is None

    fixed = enterprise_form(make)
    del fixed["license_file"], fixed["sme_proof_file"]
    response = client.post("/register/enterprise", data={
        **fixed, **{f"{k}__held": v for k, v in held.items()}},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    enterprise = db_session.scalars(select(Enterprise).where(
        Enterprise.name == fixed["name"])).one()
    assert {enterprise.license_file, enterprise.sme_proof_file} == set(held.values())
    folder = app.config["UPLOAD_FOLDER"]
    assert os.path.isfile(os.path.join(folder, enterprise.license_file))
    assert not os.path.exists(os.path.join(folder, "held", enterprise.license_file))


def test_a_proposal_or_contract_form_says_why_before_it_is_filled(client, make, db_session):
    """A form the user may not submit says why above the empty form, not only on save."""
    from app.models import ProposalState, ResearcherState
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.published)
    pending = make.researcher("420100", state=ResearcherState.submitted)
    make.user("Researcher", "keep_pending_res", researcher_id=pending.id)
    login(client, "keep_pending_res")
    page = client.get(f"/proposalmodelview/add?need={need.id}").get_data(as_text=True)
    assert "平台审核通过" in page or "审核" in page
    assert '<form id="model_form"' in page  # still the form: the user sees what is asked

    approved = make.researcher("420100")
    shortlisted = make.proposal(need, approved, state=ProposalState.shortlisted)
    make.user("Enterprise", "keep_early_ent", enterprise_id=enterprise.id)
    login(client, "keep_early_ent")
    page = client.get(f"/contractmodelview/add?proposal={shortlisted.id}").get_data(as_text=True)
    assert "合作意向" in page
