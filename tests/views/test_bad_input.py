"""Bad input over HTTP: the same form posted twice, malicious uploads, records of another
region or owner reached by URL on the newest pages, and privilege escalation through the user
and role forms or the REST API. Each is refused with a clear answer and changes nothing.

Covered elsewhere: a contract submitted twice (tests/domain/funding/test_contracts.py, case
"twice"), a second proposal for the same need (tests/domain/docking/test_docking.py
``test_one_active_proposal_per_researcher_and_need``), a registration with a taken credit code,
phone or e-mail (tests/domain/registration/test_registration.py
``test_duplicates_are_refused...``), moving an enterprise or a need to another region/owner
through the API (tests/views/test_access_matrix.py)."""
import io
import os

import pytest
from werkzeug.test import EnvironBuilder
from sqlalchemy import func, select

from app.models import (
    AppUser,
    Enterprise,
    Message,
    Need,
    NeedState,
    Notification,
    Proposal,
    ProposalState,
    ReviewRecord,
)
from helpers import api_headers, enterprise_form, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"


def _count(db_session, model, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def _files(app):
    """The stored uploads (files; the folder of uploads held for a form to come back to is
    made by the first such form, whichever test that is)."""
    folder = app.config["UPLOAD_FOLDER"]
    return sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n))
                  ) if os.path.isdir(folder) else []


# --- the same POST twice ----------------------------------------------------------------

def test_a_need_submitted_twice_moves_once(client, make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.draft)
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    login(client, owner.username)
    for _ in range(2):
        page = client.post(f"/needmodelview/decide/{need.id}", data={"action": "submit"},
                           follow_redirects=True).get_data(as_text=True)
    assert "不能执行" in page  # the second: "not possible while the record is submitted"
    assert _count(db_session, ReviewRecord, ReviewRecord.subject_type == "needs",
                  ReviewRecord.subject_id == need.id) == 1
    assert db_session.get(Need, need.id).state is NeedState.submitted


def test_a_proposal_submitted_twice_moves_once(client, make, db_session):
    need = make.need(make.enterprise(), NeedState.published)
    researcher = make.researcher()
    user = make.user("Researcher", researcher_id=researcher.id)
    proposal = make.proposal(need, researcher, state=ProposalState.draft)
    login(client, user.username)
    for _ in range(2):
        page = client.post(f"/proposalmodelview/decide/{proposal.id}", data={"action": "submit"},
                           follow_redirects=True).get_data(as_text=True)
    assert "不能执行" in page
    assert _count(db_session, ReviewRecord, ReviewRecord.subject_type == "proposals",
                  ReviewRecord.subject_id == proposal.id) == 1
    assert db_session.get(Proposal, proposal.id).state is ProposalState.submitted


def test_a_message_posted_twice_is_one_message_and_one_notice(client, make, db_session):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.published)
    researcher = make.researcher()
    make.user("Researcher", researcher_id=researcher.id)
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    proposal = make.proposal(need, researcher, state=ProposalState.shortlisted)
    login(client, owner.username)
    before = _count(db_session, Notification)
    for _ in range(2):
        page = client.post(f"/docking/thread/{proposal.id}", data={"body": "样机什么时候能到？"},
                           follow_redirects=True).get_data(as_text=True)
    assert "该消息刚刚已发送" in page
    assert _count(db_session, Message, Message.proposal_id == proposal.id) == 1
    notices = _count(db_session, Notification) - before
    client.post(f"/docking/thread/{proposal.id}", data={"body": "另外，预算可以再谈。"})
    assert _count(db_session, Message, Message.proposal_id == proposal.id) == 2  # new text: sent
    assert notices >= 1 and _count(db_session, Notification) - before == 2 * notices


def test_a_registration_posted_twice_is_one_account_and_one_set_of_files(
        app, client, make, db_session):
    files_before = _files(app)
    first = client.post("/register/enterprise", data=enterprise_form(make),
                        content_type="multipart/form-data")
    second = client.post("/register/enterprise", data=enterprise_form(make),
                         content_type="multipart/form-data")
    assert first.status_code == 302 and second.status_code == 400
    assert "已注册" in second.get_data(as_text=True) or "已被" in second.get_data(as_text=True)
    assert _count(db_session, Enterprise) == 1
    assert _count(db_session, AppUser, AppUser.username == "13912345678") == 1
    assert len(_files(app)) == len(files_before) + 2  # the licence and the SME proof, once


def _post_closing(client, url, form):
    """POST a multipart form and close the body afterwards: Werkzeug's test client spools a
    body over 500 KB to a temporary file that it never closes itself."""
    builder = EnvironBuilder(path=url, method="POST", data=form,
                             content_type="multipart/form-data")
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


# --- malicious uploads ---------------------------------------------------------------------

BAD_UPLOADS = {
    "exe_as_pdf": ((b"MZ\x90\x00\x03" + b"\x00" * 64), "营业执照.pdf", "不是"),
    "html_as_png": (b"<html><script>alert(1)</script></html>", "入库证明.png", "不是"),
    "empty": (b"", "营业执照.pdf", "为空"),
    "over_the_limit": (PDF + b" " * (2 * 1024 * 1024), "营业执照.pdf", "超过 1 MB"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_is_refused_and_nothing_is_stored(app, client, make, db_session,
                                                       monkeypatch, case):
    content, name, message = BAD_UPLOADS[case]
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024 * 1024)
    files_before = _files(app)
    form = enterprise_form(make, license_file=(io.BytesIO(content), name))
    response = _post_closing(client, "/register/enterprise", form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _count(db_session, Enterprise) == 0 and _count(db_session, AppUser,
                                                          AppUser.username == "13912345678") == 0
    assert _files(app) == files_before  # the valid second file was not kept either


def test_a_request_over_max_content_length_is_413_and_stores_nothing(app, client, make,
                                                                     db_session, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    files_before = _files(app)
    form = enterprise_form(make, license_file=(io.BytesIO(PDF + b" " * 100_000), "执照.pdf"))
    response = client.post("/register/enterprise", data=form, content_type="multipart/form-data")
    assert response.status_code == 413
    assert _count(db_session, Enterprise) == 0 and _files(app) == files_before


def test_a_path_traversal_file_name_stays_inside_the_upload_folder(app, client, make,
                                                                   db_session):
    """A valid PDF with a hostile name is kept, under a random prefix and its bare name: no
    path part reaches the disk, nothing is written outside UPLOAD_FOLDER."""
    outside = os.path.join(os.path.dirname(app.config["UPLOAD_FOLDER"]), "passwd.pdf")
    form = enterprise_form(make, license_file=(io.BytesIO(PDF), "../../etc/passwd.pdf"),
                           sme_proof_file=(io.BytesIO(PDF), "..\\..\\boot.ini.pdf"))
    assert client.post("/register/enterprise", data=form,
                       content_type="multipart/form-data").status_code == 302
    enterprise = db_session.scalars(select(Enterprise)).one()
    for stored in (enterprise.license_file, enterprise.sme_proof_file):
        assert "/" not in stored and "\\" not in stored and ".." not in stored
        assert os.path.isfile(os.path.join(app.config["UPLOAD_FOLDER"], stored))
    assert enterprise.license_file.endswith("_sep_passwd.pdf")
    assert not os.path.exists(outside) and not os.path.exists("/etc/passwd.pdf")


# --- the newest pages, by URL, for each role ----------------------------------------------

def _pages(w):
    b = w["B"]
    return {
        "thread": f"/docking/thread/{b['proposal'].id}",
        "compare": f"/docking/need/{b['published'].id}/compare",
        "contract_add": f"/contractmodelview/add?proposal={b['proposal'].id}",
        "service_record": f"/projectmodelview/service_record/{b['project'].id}",
    }


@pytest.mark.parametrize("role", ["bureau", "enterprise", "researcher"])
@pytest.mark.parametrize("page", ["thread", "compare", "contract_add", "service_record"])
def test_another_regions_record_on_the_newest_pages_is_refused(client, world, role, page):
    user = world["users"][role]
    login(client, user.username)
    url = _pages(world)[page]
    response = client.get(url)
    if page == "contract_add" and role == "enterprise":
        # The blank form is the enterprise's own screen; it shows nothing of B's proposal, and
        # posting it for B's proposal is refused (tests/domain/funding/test_contracts.py,
        # "someone_elses").
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert world["B"]["published"].title not in text
        assert world["B"]["researcher"].name not in text
        return
    assert response.status_code in (302, 403, 404), (url, response.status_code)
    if response.status_code == 302:  # refused with a flash, back to a page of one's own
        assert url not in response.headers["Location"]
        follow = client.get(response.headers["Location"]).get_data(as_text=True)
        assert world["B"]["published"].title not in follow
    else:
        assert world["B"]["published"].title not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/export.xlsx", "/funding/simulate"])
@pytest.mark.parametrize("role", ["enterprise", "researcher"])
def test_staff_pages_are_refused_to_participants(client, world, role, url):
    login(client, world["users"][role].username)
    assert client.get(url).status_code in (302, 403)


def test_the_bureaus_dashboard_and_workbook_hold_its_region_only(client, world):
    login(client, "bureau_a")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "宜昌" not in page
    workbook = client.get("/dashboard/export.xlsx")
    assert workbook.status_code == 200
    from openpyxl import load_workbook

    text = " ".join(str(c.value) for ws in load_workbook(io.BytesIO(workbook.data))
                    for row in ws.iter_rows() for c in row if c.value is not None)
    assert "宜昌" not in text


# --- privilege escalation -------------------------------------------------------------------

def test_participants_cannot_use_the_user_and_role_forms(client, world, make, db_session):
    enterprise_user = world["users"]["enterprise"]
    bureau = world["users"]["bureau"]
    roles_before = {u.username: sorted(r.name for r in u.roles)
                    for u in db_session.scalars(select(AppUser))}
    for role in ("enterprise", "bureau"):
        login(client, world["users"][role].username)
        attempts = [
            client.post("/users/add", data={"username": "mallory", "first_name": "m",
                                            "last_name": "m", "email": "m@x.cn", "roles": ["1"],
                                            "password": "pw-Test-123456",
                                            "conf_password": "pw-Test-123456"}),
            client.post(f"/users/edit/{enterprise_user.id}", data={"roles": ["1"]}),
            client.post("/roles/edit/1", data={"name": "Admin", "permissions": ["1"]}),
            client.post(f"/users/edit/{bureau.id}", data={"active": "y"}),
        ]
        assert all(r.status_code in (302, 403, 404) for r in attempts)
        assert all("/users/list" not in r.headers.get("Location", "") for r in attempts)
    db_session.expire_all()
    assert db_session.scalars(select(AppUser).where(AppUser.username == "mallory")).first() is None
    assert {u.username: sorted(r.name for r in u.roles)
            for u in db_session.scalars(select(AppUser))} == roles_before


def test_userinfo_edit_ignores_roles_and_links(client, world, db_session):
    user = world["users"]["enterprise"]
    own_enterprise = user.enterprise_id
    login(client, user.username)
    response = client.post("/userinfoeditview/form", data={
        "first_name": "新名", "last_name": "字", "roles": ["1"], "enterprise_id":
            str(world["B"]["enterprise"].id), "region_id": "1", "active": "y"})
    assert response.status_code == 302
    db_session.expire_all()
    fresh = db_session.get(AppUser, user.id)
    assert fresh.first_name == "新名"  # the form's own fields did change ...
    assert fresh.enterprise_id == own_enterprise  # ... the others did not
    assert [r.name for r in fresh.roles] == ["Enterprise"]


def test_the_security_api_offers_no_role_or_user_endpoints(client, world):
    headers = api_headers(client, world["users"]["enterprise"].username)
    for method, url in (("get", "/api/v1/security/roles/"), ("post", "/api/v1/security/roles/"),
                        ("get", "/api/v1/security/users/"),
                        ("put", f"/api/v1/security/users/{world['users']['enterprise'].id}")):
        response = getattr(client, method)(url, headers=headers, json={"roles": [1]})
        assert response.status_code in (401, 403, 404, 405), (url, response.status_code)


def test_an_enterprise_cannot_move_its_need_to_another_enterprise_by_api(client, world,
                                                                          db_session):
    user = world["users"]["enterprise"]
    need = world["A"]["need"]
    draft = Need(round=need.round, enterprise=world["A"]["enterprise"], title="草稿",
                 category=need.category, field=need.field, amount=need.amount,
                 state=NeedState.draft)
    db_session.add(draft)
    db_session.commit()
    headers = api_headers(client, user.username)
    response = client.put(f"/api/v1/need/{draft.id}", headers=headers,
                          json={"enterprise": world["B"]["enterprise"].id})
    assert response.status_code in (400, 404)
    db_session.expire_all()
    assert db_session.get(Need, draft.id).enterprise_id == world["A"]["enterprise"].id
