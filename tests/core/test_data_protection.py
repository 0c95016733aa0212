"""Data protection over HTTP: phones and identifying numbers masked per role (lists, shows, REST
API, Excel export), uploads that would explode or run code refused, and stored XSS payloads
escaped on every page, e-mail and workbook that shows them."""
import io
import re
import struct
import zlib

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from flask_appbuilder import Model

from app.core.access.masking import FULL, mask_code, mask_phone
from app.extensions import db
from app.models import Message, Need, NeedState, ProposalState
from app.core.uploads import UploadRejected, check_upload
from helpers import api_headers, login

A = "420100"


# -- masking ---------------------------------------------------------------------------------

def test_mask_formats():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_code("91420100MA4K000123") == "9142**********0123"
    assert mask_phone("027-8765") == "02****65"


@pytest.fixture()
def people(make):
    enterprise = make.enterprise(A, phone="13812341234", credit_code="91420100MA4K00012X",
                                 sme_number="202042010000123")
    researcher = make.researcher(A, phone="13987654321")
    need = make.need(enterprise, NeedState.published, contact_name="王经理",
                     contact_phone="13755556666")
    users = {
        "Platform": make.user("Platform"),
        "Province": make.user("Province"),
        "Bureau": make.user("Bureau", region_id=make.region(A).id),
        "Enterprise": make.user("Enterprise", enterprise_id=enterprise.id),
        "Researcher": make.user("Researcher", researcher_id=researcher.id),
    }
    return dict(enterprise=enterprise, researcher=researcher, need=need, users=users)


# page → {role: True (full) / False (masked)} for the value shown on it
CASES = [
    ("enterprise", "/enterprisemodelview/show/{id}", "13812341234", "138****1234",
     {"Platform": True, "Bureau": True, "Enterprise": True, "Province": False}),
    ("enterprise", "/enterprisemodelview/list/", "91420100MA4K00012X", "9142**********012X",
     {"Platform": True, "Bureau": True, "Enterprise": True, "Province": False}),
    ("enterprise", "/enterprisemodelview/show/{id}", "202042010000123", "2020*******0123",
     {"Platform": True, "Bureau": True, "Province": False}),
    ("researcher", "/researchermodelview/show/{id}", "13987654321", "139****4321",
     {"Platform": True, "Researcher": True, "Bureau": False, "Province": False}),
    ("need", "/needmodelview/show/{id}", "13755556666", "137****6666",
     {"Platform": True, "Bureau": True, "Enterprise": True, "Researcher": True,
      "Province": False}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_screens_mask_per_role(client, people, case):
    key, url, full, masked, roles = CASES[case]
    for role, sees_full in roles.items():
        login(client, people["users"][role].username)
        page = client.get(url.format(id=people[key].id)).get_data(as_text=True)
        if sees_full:
            assert full in page, (role, url)
        else:
            assert full not in page and masked in page, (role, url)


def test_rest_api_masks_like_the_screens(client, people):
    enterprise = people["enterprise"]
    for role, sees_full in (("Province", False), ("Bureau", True), ("Platform", True)):
        headers = api_headers(client, people["users"][role].username)
        one = client.get(f"/api/v1/enterprise/{enterprise.id}", headers=headers).json["result"]
        many = client.get("/api/v1/enterprise/?q=(page_size:100)", headers=headers).json["result"]
        listed = [r["credit_code"] for r in many if r["id"] == enterprise.id]
        expected = "91420100MA4K00012X" if sees_full else "9142**********012X"
        assert one["credit_code"] == expected and listed == [expected], role


def test_need_export_masks_the_contact_phone_for_the_province(client, people):
    found = {}
    for role in ("Province", "Bureau"):
        login(client, people["users"][role].username)
        response = client.get("/needlist/export.xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).active
        found[role] = {c.value for row in sheet.iter_rows() for c in row}
    assert "137****6666" in found["Province"] and "13755556666" not in found["Province"]
    assert "13755556666" in found["Bureau"]


def _model_of(table):
    return next(m.class_ for m in Model.registry.mappers if m.class_.__tablename__ == table)


def _hidden_cases():
    """(table, column, role) for every masked field of the table and each role seeing it masked."""
    for (table, column), (_kind, full) in sorted(FULL.items()):
        for role in ("Platform", "Province", "Bureau", "Enterprise", "Researcher"):
            if role not in full and not (role == "Researcher" and "approved Researcher" in full):
                yield table, column, role


HIDDEN = list(_hidden_cases())


def _shown_ids(response):
    assert response.status_code == 200, response.status_code
    return set(re.findall(r'/show/(\d+)', response.get_data(as_text=True)))


@pytest.mark.parametrize("table,column,role", HIDDEN, ids=["-".join(c) for c in HIDDEN])
def test_a_masked_field_cannot_be_searched_or_sorted_by(app, client, people, table, column, role):
    """Generated from the masking table: a role that sees a field masked may not filter or
    order by it through any list view or API of its model (digit by digit, a prefix filter gave
    the whole number back). Refused with 400, or ignored: never an answer that depends on it."""
    model = _model_of(table)
    user = people["users"][role].username
    login(client, user)
    headers = api_headers(client, user)
    for view in app.appbuilder.baseviews:
        if getattr(getattr(view, "datamodel", None), "obj", None) is not model:
            continue
        name = view.__class__.__name__
        if getattr(view, "resource_name", None):
            base = f"/api/v1/{view.resource_name}/"
            if client.get(base, headers=headers).status_code != 200:
                continue
            for query in (f"(filters:!((col:{column},opr:sw,value:'1')))",
                          f"(filters:!((col:{column},opr:ct,value:'1')))",
                          f"(order_column:{column},order_direction:asc)"):
                response = client.get(f"{base}?q={query}", headers=headers)
                assert response.status_code == 400, (name, query, role)
        elif view.route_base:
            base = f"{view.route_base}/list/"
            if client.get(base).status_code != 200:
                continue
            unfiltered = _shown_ids(client.get(base))
            for prefix in ("13", "91", "20", "999"):
                response = client.get(f"{base}?_flt_0_{column}={prefix}")
                assert response.status_code == 400 or _shown_ids(response) == unfiltered, (
                    name, column, prefix, role)
            response = client.get(f"{base}?_oc_{name}={column}&_od_{name}=asc")
            assert response.status_code == 400, (name, "order", role)
            page = client.get(base).get_data(as_text=True)
            assert f'id="{column}"' not in page, ("the search form offers it", name, role)


def test_an_unmasked_field_still_filters(client, people):
    login(client, people["users"]["Platform"].username)
    found = client.get("/enterprisemodelview/list/?_flt_0_credit_code=9142").get_data(as_text=True)
    assert people["enterprise"].name in found
    headers = api_headers(client, people["users"]["Platform"].username)
    response = client.get("/api/v1/enterprise/?q=(filters:!((col:phone,opr:sw,value:'138')))",
                          headers=headers)
    assert response.status_code == 200 and response.json["count"] >= 1


# -- uploads ---------------------------------------------------------------------------------

def _png(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(chunk[4:])) + b"\0" * 16


def _jpeg(width, height):
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xda" + b"\x00" * 32 + b"\xff\xd9"


def _pdf(*objects, streams=()):
    body = b"%PDF-1.7\n"
    for i, obj in enumerate(objects, start=1):
        body += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    for j, data in enumerate(streams, start=len(objects) + 1):
        packed = zlib.compress(data, 9)
        body += (b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (j, len(packed))
                 + packed + b"\nendstream\nendobj\n")
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


GOOD = {
    "photo.png": _png(3000, 4000),
    "scan.jpg": _jpeg(4960, 7016),  # A4 at 600 dpi
    "report.pdf": _pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 0 >>",
                       streams=[b"BT /F1 12 Tf (text) Tj ET\n" * 2000]),
}
BAD = {
    "bomb.png": _png(100_000, 100_000),
    "wide.png": _png(1_000_000, 60),
    "bomb.jpg": _jpeg(65_000, 65_000),
    "encrypted.pdf": _pdf(b"<< /Type /Catalog >>") .replace(
        b"<< /Root 1 0 R >>", b"<< /Root 1 0 R /Encrypt 2 0 R >>"),
    "script.pdf": _pdf(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
    "hidden-script.pdf": _pdf(b"<< /Type /Catalog /OpenAction << /S /Java#53cript >> >>"),
    "launch.pdf": _pdf(b"<< /Type /Action /S /Launch /F (calc.exe) >>"),
    "attachment.pdf": _pdf(b"<< /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >>"),
    "objstm-script.pdf": _pdf(b"<< /Type /Catalog >>",
                              streams=[b"<< /S /JavaScript /JS (app.alert(1)) >>"]),
    "zip-bomb.pdf": _pdf(b"<< /Type /Catalog >>", streams=[b"\0" * (40 * 1024 * 1024)]),
}


def _check(app, name, data):
    with app.test_request_context():
        return check_upload(FileStorage(io.BytesIO(data), filename=name))


@pytest.mark.parametrize("name", sorted(GOOD))
def test_ordinary_documents_pass(app, name):
    assert _check(app, name, GOOD[name]) == name.rsplit(".", 1)[1]


@pytest.mark.parametrize("name", sorted(BAD))
def test_bombs_and_active_content_are_refused(app, name):
    with pytest.raises(UploadRejected, match="refused|被拒绝"):
        _check(app, name, BAD[name])


def test_a_bomb_uploaded_through_the_back_office_is_not_stored(client, make, db_session, app):
    import os

    enterprise = make.enterprise()
    make.open_round()
    user = make.user("Enterprise", enterprise_id=enterprise.id)
    login(client, user.username)
    before = set(os.listdir(app.config["UPLOAD_FOLDER"]))
    response = client.post("/needmodelview/add", content_type="multipart/form-data", data={
        "title": "炸弹附件", "category": make.category().id, "field": make.field().id,
        "amount": "200000", "attachment": (io.BytesIO(BAD["zip-bomb.pdf"]), "说明.pdf")})
    assert response.status_code == 200  # the form again, with the reason
    assert "refused" in response.get_data(as_text=True) or "拒绝" in response.get_data(as_text=True)
    assert db_session.scalars(select(Need).where(Need.title == "炸弹附件")).first() is None
    assert set(os.listdir(app.config["UPLOAD_FOLDER"])) == before


# -- stored XSS ------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RAW = (SCRIPT, "<img src=x onerror")
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")


@pytest.fixture()
def hostile(make, db_session):
    enterprise = make.enterprise(A, name=f"企业{IMG}")
    researcher = make.researcher(A, name=f"研究员{SCRIPT}")
    need = make.need(enterprise, NeedState.published, title=f"需求{SCRIPT}", background=IMG,
                     problem=SCRIPT)
    proposal = make.proposal(need, researcher, ProposalState.shortlisted)
    contract = make.contract(need, researcher)
    make.project(contract)
    users = {
        "Platform": make.user("Platform"),
        "Province": make.user("Province"),
        "Enterprise": make.user("Enterprise", enterprise_id=enterprise.id),
        "Researcher": make.user("Researcher", researcher_id=researcher.id),
    }
    return dict(enterprise=enterprise, researcher=researcher, need=need, proposal=proposal,
                users=users)


def _clean(page, url, must_show=True):
    for raw in RAW:
        assert raw not in page, f"unescaped {raw!r} on {url}"
    if must_show:
        assert any(e in page for e in ESCAPED), f"payload not shown at all on {url}"


def test_stored_markup_is_escaped_on_every_page(client, hostile, smtp):
    need, proposal = hostile["need"], hostile["proposal"]
    checked = 0
    # public pages, anonymous and as a signed-in researcher
    for who in (None, "Researcher"):
        if who:
            login(client, hostile["users"][who].username)
        for url in ("/needs", f"/needs/{need.id}"):
            _clean(client.get(url).get_data(as_text=True), url)
            checked += 1
    # the enterprise writes a hostile message: its thread, and the e-mail to the researcher
    login(client, hostile["users"]["Enterprise"].username)
    client.post(f"/docking/thread/{proposal.id}", data={"body": f"消息{IMG}{SCRIPT}"})
    message = db.session.scalars(select(Message).where(Message.proposal_id == proposal.id)).one()
    thread = client.get(f"/docking/thread/{proposal.id}").get_data(as_text=True)
    assert "消息&#34;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in thread
    for url in (f"/docking/thread/{proposal.id}", "/proposalmodelview/list/",
                f"/proposalmodelview/show/{proposal.id}", f"/messagemodelview/show/{message.id}"):
        _clean(client.get(url).get_data(as_text=True), url)
        checked += 1
    # back office as the platform
    login(client, hostile["users"]["Platform"].username)
    for url in ("/needmodelview/list/", f"/needmodelview/show/{need.id}",
                "/enterprisemodelview/list/", f"/enterprisemodelview/show/{hostile['enterprise'].id}",
                "/researchermodelview/list/", f"/researchermodelview/show/{hostile['researcher'].id}",
                "/proposalmodelview/list/", f"/proposalmodelview/show/{proposal.id}",
                f"/docking/thread/{proposal.id}", f"/docking/progress/need/{need.id}"):
        _clean(client.get(url).get_data(as_text=True), url)
        checked += 1
    # the dashboard names no participant, but must not carry markup either
    login(client, hostile["users"]["Province"].username)
    _clean(client.get("/dashboard/").get_data(as_text=True), "/dashboard/", must_show=False)
    checked += 1
    # e-mail: plain text only, so no markup can run in a mail client
    mails = [m for m in smtp.messages if b"alert(1)" in m.content]
    assert mails, "the message e-mail was not sent"
    for mail in mails:
        assert b"text/html" not in mail.content and b"Content-Type: text/plain" in mail.content
    assert checked == 19


def test_workbooks_keep_markup_as_inert_text(client, hostile):
    login(client, hostile["users"]["Province"].username)
    cells = []
    for url in ("/needlist/export.xlsx", "/dashboard/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        book = load_workbook(io.BytesIO(response.data))
        cells += [c for sheet in book for row in sheet.iter_rows() for c in row
                  if isinstance(c.value, str) and "alert(1)" in c.value]
    values = {c.value for c in cells}
    assert f"需求{SCRIPT}" in values and f"企业{IMG}" in values
    assert all(c.data_type == "s" and c.hyperlink is None for c in cells)


def test_a_stored_upload_is_readable_by_the_service_only(app, tmp_path, monkeypatch):
    from app.core.uploads import store_upload

    folder = tmp_path / "fresh-uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    with app.test_request_context():
        stored = store_upload(FileStorage(io.BytesIO(b"%PDF-1.4\n% proof\n"), "营业执照.pdf"))
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / stored).stat().st_mode & 0o777) == 0o600
