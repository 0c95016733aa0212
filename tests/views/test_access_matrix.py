"""The jurisdiction rule over HTTP: for each role, another region's or owner's record answers
403/404 on list, show, edit, delete, decide, action, bulk action, download and the REST API,
while the user's own records stay reachable (so every assertion here can fail)."""
import pytest

from app.models import EnterpriseState, Need, NeedState
from helpers import REGION_A, REGION_B, api_headers, login

A, B = REGION_A, REGION_B  # 武汉, 宜昌: the regions of the ``world`` fixture (conftest.py)

LIMITED = ["bureau", "enterprise", "researcher"]

# view endpoint → (record key, text that identifies the record on a page)
VIEWS = {
    "enterprisemodelview": ("enterprise", lambda r: r.name),
    "needmodelview": ("need", lambda r: r.title),
    "researchermodelview": ("researcher", lambda r: r.name),
    "proposalmodelview": ("proposal", None),
    "contractmodelview": ("contract", None),
    "projectmodelview": ("project", lambda r: r.number),
}
# Which of A's records each role may open (its own, or its region's).
OWN = {
    "bureau": {"enterprise", "need", "researcher", "proposal", "contract", "project"},
    "enterprise": {"enterprise", "need", "proposal", "contract", "project"},
    "researcher": {"researcher", "proposal", "contract", "project"},
}


@pytest.mark.parametrize("role", LIMITED)
@pytest.mark.parametrize("view", VIEWS)
def test_other_records_never_answer(client, world, role, view):
    key, text_of = VIEWS[view]
    login(client, world["users"][role].username)
    theirs, mine = world["B"][key], world["A"][key]
    for url in (f"/{view}/show/{theirs.id}", f"/{view}/edit/{theirs.id}",
                f"/{view}/decide/{theirs.id}"):
        assert client.get(url).status_code in (403, 404), url
    response = client.post(f"/{view}/delete/{theirs.id}")
    assert response.status_code in (403, 404)
    if key in OWN[role]:
        assert client.get(f"/{view}/show/{mine.id}").status_code == 200
        listing = client.get(f"/{view}/list/?psize_{view}=100").get_data(as_text=True)
        if text_of:
            assert text_of(mine) in listing
            assert text_of(theirs) not in listing


def test_deleted_record_survives_a_cross_owner_delete(client, world, db_session):
    login(client, "ent_a")
    victim = world["B"]["need"]
    client.post(f"/needmodelview/delete/{victim.id}")
    assert db_session.get(Need, victim.id) is not None


def test_researcher_sees_published_needs_of_every_region_but_no_drafts(client, world):
    login(client, "res_a")
    listing = client.get("/needmodelview/list/?psize_needmodelview=100").get_data(as_text=True)
    assert "B已发布需求" in listing and "A已发布需求" in listing
    assert "B草稿需求" not in listing and "A草稿需求" not in listing
    assert client.get(f"/needmodelview/show/{world['B']['need'].id}").status_code == 404


def test_single_action_on_another_region_is_404_and_changes_nothing(client, world, db_session):
    login(client, "bureau_a")
    theirs = world["B"]["enterprise"]
    response = client.post(f"/enterprisemodelview/action/verify/{theirs.id}")
    assert response.status_code == 404
    db_session.refresh(theirs)
    assert theirs.state is EnterpriseState.submitted
    mine = world["A"]["enterprise"]
    assert client.post(f"/enterprisemodelview/action/verify/{mine.id}").status_code == 302
    db_session.refresh(mine)
    assert mine.state is EnterpriseState.verified


def test_bulk_action_with_a_foreign_row_is_refused_whole(client, world, db_session):
    login(client, "bureau_a")
    mine, theirs = world["A"]["enterprise"], world["B"]["enterprise"]
    response = client.post("/enterprisemodelview/action_post",
                           data={"action": "verify", "rowid": [mine.id, theirs.id]})
    assert response.status_code == 404
    for enterprise in (mine, theirs):
        db_session.refresh(enterprise)
        assert enterprise.state is EnterpriseState.submitted


@pytest.mark.parametrize("role", ["bureau", "enterprise"])
def test_download_is_limited_to_visible_records(client, world, role):
    login(client, world["users"][role].username)
    mine = client.get(f"/needmodelview/download/{world['A']['upload']}")
    assert mine.status_code == 200 and mine.data == b"%PDF-1.4 A"
    assert "%E9%9C%80" in mine.headers["Content-Disposition"]  # 需求说明书 kept, UTF-8 encoded
    mine.close()
    assert client.get(f"/needmodelview/download/{world['B']['upload']}").status_code == 404
    contract = world["B"]["contract"]
    assert client.get(f"/contractmodelview/download/{contract.invoice_file}").status_code == 404


def test_download_of_an_unknown_file_name_is_404(client, world):
    login(client, "bureau_a")
    assert client.get("/needmodelview/download/..%2F..%2Fconfig.py").status_code == 404
    assert client.get("/needmodelview/download/nothing.pdf").status_code == 404


API = {"need": "need", "enterprise": "enterprise", "proposal": "proposal",
       "contract": "contract", "project": "project"}


@pytest.mark.parametrize("role", LIMITED)
@pytest.mark.parametrize("resource", API)
def test_api_hides_other_records(client, world, role, resource):
    headers = api_headers(client, world["users"][role].username)
    theirs = world["B"][API[resource]]
    response = client.get(f"/api/v1/{resource}/{theirs.id}", headers=headers)
    assert response.status_code in (403, 404)
    listing = client.get(f"/api/v1/{resource}/?q=(page_size:100)", headers=headers)
    if listing.status_code == 200:
        assert theirs.id not in {row["id"] for row in listing.json["result"]}


def test_api_refuses_moving_an_enterprise_into_another_region(client, world, make, db_session):
    headers = api_headers(client, "bureau_a")
    mine = world["A"]["enterprise"]
    response = client.put(f"/api/v1/enterprise/{mine.id}", headers=headers,
                          json={"region": make.region(B).id})
    assert response.status_code == 400
    db_session.refresh(mine)
    assert mine.region.code == A
    ok = client.put(f"/api/v1/enterprise/{mine.id}", headers=headers, json={"address": "光谷大道1号"})
    assert ok.status_code == 200
    theirs = world["B"]["enterprise"]
    assert client.put(f"/api/v1/enterprise/{theirs.id}", headers=headers,
                      json={"address": "x"}).status_code == 404


def test_api_cannot_create_a_need_for_another_enterprise(client, world, make, db_session):
    headers = api_headers(client, "ent_a")
    theirs = world["B"]["enterprise"]
    before = db_session.query(Need).filter_by(enterprise_id=theirs.id).count()
    response = client.post("/api/v1/need/", headers=headers, json={
        "title": "越权需求", "category": make.category().id, "field": make.field().id,
        "amount": 150000, "enterprise": theirs.id})
    assert response.status_code in (201, 400)
    assert db_session.query(Need).filter_by(enterprise_id=theirs.id).count() == before
    if response.status_code == 201:
        assert db_session.get(Need, response.json["id"]).enterprise_id == world["A"]["enterprise"].id


def test_api_delete_of_another_owners_need_is_404(client, world, db_session):
    headers = api_headers(client, "ent_a")
    theirs = world["B"]["need"]
    assert client.delete(f"/api/v1/need/{theirs.id}", headers=headers).status_code == 404
    assert db_session.get(Need, theirs.id) is not None


def test_api_without_token_is_401(client, world):
    assert client.get("/api/v1/need/").status_code == 401


MENUS = {
    "Admin": {"present": ["/auditlogmodelview/list/", "/users/list/", "/programroundmodelview/list/"],
              "absent": []},
    "Platform": {"present": ["/enterprisemodelview/list/", "/researchermodelview/list/",
                             "/reviewrecordmodelview/list/", "/techfieldmodelview/list/"],
                 "absent": ["/auditlogmodelview/list/", "/users/list/"]},
    "Province": {"present": ["/contractmodelview/list/", "/projectmodelview/list/"],
                 "absent": ["/auditlogmodelview/list/", "/users/list/"]},
    "Bureau": {"present": ["/enterprisemodelview/list/", "/needmodelview/list/"],
               "absent": ["/auditlogmodelview/list/", "/users/list/", "/reviewrecordmodelview/list/",
                          "/matchmodelview/list/"]},
    "Enterprise": {"present": ["/needmodelview/list/", "/proposalmodelview/list/"],
                   "absent": ["/researchermodelview/list/", "/users/list/",
                              "/regionmodelview/list/"]},
    "Researcher": {"present": ["/needmodelview/list/", "/matchmodelview/list/"],
                   "absent": ["/enterprisemodelview/list/", "/users/list/",
                              "/contractmodelview/" + "approve"]},
}


@pytest.mark.parametrize("role", MENUS)
def test_each_role_sees_its_menus(client, make, role):
    user = make.user(role, region_id=make.region(A).id if role == "Bureau" else None)
    login(client, user.username)
    page = client.get("/office/").get_data(as_text=True)
    for href in MENUS[role]["present"]:
        assert href in page, f"{role} misses {href}"
    for href in MENUS[role]["absent"]:
        assert href not in page, f"{role} sees {href}"


@pytest.mark.parametrize("role,url", [
    ("Bureau", "/auditlogmodelview/list/"), ("Platform", "/auditlogmodelview/list/"),
    ("Enterprise", "/researchermodelview/list/"), ("Researcher", "/enterprisemodelview/list/"),
    ("Bureau", "/users/list/"), ("Bureau", "/programroundmodelview/add"),
    ("Enterprise", "/funding/simulate"),
])
def test_screens_outside_a_role_are_refused(client, make, role, url):
    user = make.user(role, region_id=make.region(A).id if role == "Bureau" else None)
    login(client, user.username)
    response = client.get(url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/needmodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_api_deletes_only_own_drafts(client, world, make, db_session):
    headers = api_headers(client, "ent_a")
    draft = make.need(world["A"]["enterprise"], NeedState.draft)
    submitted = world["A"]["need"]
    draft_id, submitted_id = draft.id, submitted.id
    assert client.delete(f"/api/v1/need/{submitted_id}", headers=headers).status_code == 400
    assert client.delete(f"/api/v1/need/{draft_id}", headers=headers).status_code == 200
    db_session.expire_all()
    assert db_session.get(Need, draft_id) is None and db_session.get(Need, submitted_id)


@pytest.mark.parametrize("role", ["Bureau", "Enterprise", "Researcher"])
def test_reference_data_is_readable_by_every_signed_in_role(client, make, role):
    user = make.user(role, region_id=make.region(A).id if role == "Bureau" else None)
    login(client, user.username)
    page = client.get("/needcategorymodelview/list/").get_data(as_text=True)
    assert "共建研发平台" in page
    if role == "Bureau":
        assert "宜昌市" in client.get("/regionmodelview/list/").get_data(as_text=True)
