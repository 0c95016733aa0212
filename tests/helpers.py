"""Plain helpers the tests share: signing in, API tokens, running queued jobs, counting a
request's SQL, a free port and an SMTP inbox, the registration forms and the notification
payload. Fixtures live in conftest.py; tests import these with ``from helpers import ...``."""
import io
import socket

from sqlalchemy import event
from stdnum.cn import uscc

from app.extensions import db

# The two regions of the shared ``world`` fixture (conftest.py): 武汉, 宜昌.
REGION_A, REGION_B = "420100", "420500"

# A notification's payload, as the needs workflow sends it on a return by the bureau.
PAYLOAD = {"subject_id": 7, "state": "returned_by_bureau", "opinion": "请补充量化指标"}

# The proofs the registration forms upload.
PDF = b"%PDF-1.4\n% proof\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def work(app, redis_conn):
    """Run every queued job in a real RQ worker (burst mode, in this process)."""
    from rq import SimpleWorker

    from app.core import queue as jobs

    with app.app_context():
        queues = [jobs.get_queue(name) for name in jobs.QUEUES]
    SimpleWorker(queues, connection=redis_conn).work(burst=True)


def get_with_statements(client, url):
    """GET ``url``: the response and the SQL statements the request ran, less the test
    harness's own (its savepoints: each test runs inside one outer transaction)."""
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK",
                                                      "BEGIN")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert response.status_code == 200, (url, response.status_code)
    return response, seen


def login(client, username, password="pw-Test-123456"):
    client.get("/logout/")  # FAB ignores a login form while someone is signed in
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], (
        f"login failed for {username}")
    return client


def api_headers(client, username, password="pw-Test-123456"):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"})
    assert response.status_code == 200, response.json
    return {"Authorization": "Bearer " + response.json["access_token"]}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def credit_code(seed="91420100MA4K1234"):
    body = (seed + "5")[:17]
    return body + uscc.calc_check_digit(body)


def enterprise_form(make, **overrides):
    region = make.region("420100")
    zone = region.zones[0]
    data = {
        "name": "武汉光谷量子传感科技有限公司", "credit_code": credit_code(),
        "sme_number": "202042010000123", "region_id": region.id, "zone_id": zone.id,
        "field_id": make.field().id, "address": "武汉市东湖高新区光谷大道1号",
        "contact_name": "李经理", "phone": "13912345678", "email": "li@quantum.example.cn",
        "password": "Sichuan-Road-88", "confirm": "Sichuan-Road-88",
        "license_file": (io.BytesIO(PDF), "营业执照.pdf"),
        "sme_proof_file": (io.BytesIO(PNG), "入库证明.png"),
    }
    data.update(overrides)
    return data


def researcher_form(make, **overrides):
    data = {
        "name": "曾晓明", "institution_name": "华中农业大学", "institution_type": "university",
        "region_id": make.region("420100").id, "position": "postdoc", "title": "博士后",
        "degree": "博士", "field_ids": [make.field("0101").id, make.field("0102").id],
        "keywords": "嵌入式 传感器 边缘计算", "expertise": "长期从事嵌入式传感系统研究。",
        "achievements": "发表论文10篇", "phone": "13787654321", "email": "zeng@hzau.example.cn",
        "password": "Lion-Hill-2020", "confirm": "Lion-Hill-2020", "willing_to_serve": "y",
        "proof_file": (io.BytesIO(PDF), "工作证明.pdf"),
    }
    data.update(overrides)
    return data


def post_form(client, url, data):
    """POST ``data`` as a multipart form (the registration forms carry files)."""
    return client.post(url, data=data, content_type="multipart/form-data")
