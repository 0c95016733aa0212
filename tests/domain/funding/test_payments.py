"""拨付 (app/domain/funding/payments.py) over HTTP: the province plans a funded project's payments
from its page, never above the funding, records them paid with date and voucher, or returned
with the reason; each party sees its own; the round's reconciliation and its Excel export.
Refusals change nothing."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from helpers import login
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.domain.funding import payments
from app.models import (
    ContractState,
    NeedState,
    Notification,
    Payment,
    PaymentState,
    ProjectState,
)
from app.utils import clock

TODAY = clock.today()


@pytest.fixture()
def world(make):
    w = {"province": make.user("Province", "pay_province"),
         "platform": make.user("Platform", "pay_platform"),
         "bureau": make.user("Bureau", "pay_bureau", region_id=make.region("420100").id)}
    for side, code in (("A", "420100"), ("B", "420500")):
        enterprise = make.enterprise(code)
        contract = make.contract(make.need(enterprise, NeedState.contracted),
                                 make.researcher(code))
        contract.state = ContractState.approved
        w[side] = {"project": make.project(contract, number=f"HB-PAY-{side}"),  # funded
                   "owner": make.user("Enterprise", f"pay_ent_{side}",
                                      enterprise_id=enterprise.id)}
    return w


def _plan(client, project, amount="60000", **over):
    data = {"batch": "2020年第一批", "amount": amount, "planned_on": TODAY.isoformat(),
            "paid_on": "", "payer": "湖北省科学技术厅", "note": "", **over}
    return client.post(f"/paymentmodelview/add?project={project.id}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def _payments(db_session):
    db_session.expire_all()
    return db_session.scalars(select(Payment).order_by(Payment.id)).all()


def test_the_province_plans_a_payment_from_the_project_and_never_above_its_funding(
        client, world, db_session):
    project = world["A"]["project"]
    login(client, "pay_province")
    page = client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert f"/paymentmodelview/add?project={project.id}" in page
    _plan(client, project, "60000")
    [first] = _payments(db_session)
    assert (first.project_id, first.enterprise_id, first.round_id, first.state) == (
        project.id, project.enterprise_id, project.round_id, PaymentState.planned)
    page = _plan(client, project, "50000").get_data(as_text=True)
    assert "最多还可拨付 40,000.00 元" in page and 'value="50000"' in page
    assert len(_payments(db_session)) == 1
    _plan(client, project, "40000")
    assert sum(p.amount for p in _payments(db_session)) == Decimal(100000)


def test_no_payment_before_the_funding_is_final_nor_by_another_role(
        client, world, make, db_session):
    project = world["A"]["project"]
    project.state = ProjectState.proposed
    db_session.commit()
    login(client, "pay_province")
    assert "公示" in _plan(client, project).get_data(as_text=True)
    project.state = ProjectState.funded
    db_session.commit()
    for username in ("pay_platform", "pay_bureau", "pay_ent_A"):
        login(client, username)
        _plan(client, project)
    assert _payments(db_session) == []


def test_recorded_paid_with_its_date_and_voucher_then_returned_with_a_reason(
        client, world, make, db_session):
    project = world["A"]["project"]
    payment = make.payment(project, amount=Decimal(100000))
    login(client, "pay_province")
    decide = f"/paymentmodelview/decide/{payment.id}"
    page = client.post(decide, data={"action": "pay"}, follow_redirects=True)
    assert "拨付凭证" in page.get_data(as_text=True)
    assert _payments(db_session)[0].state is PaymentState.planned
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    edit = {"batch": payment.batch, "amount": "100000", "planned_on": TODAY.isoformat(),
            "payer": payment.payer, "note": "", "paid_on": future}

    def correct(**values):
        data = {**edit, **values, "voucher": (io.BytesIO(b"%PDF-1.4 voucher"), "拨付凭证.pdf")}
        return client.post(f"/paymentmodelview/edit/{payment.id}", data=data,
                           content_type="multipart/form-data")

    correct()
    page = client.post(decide, data={"action": "pay"}, follow_redirects=True)
    assert "拨付日期" in page.get_data(as_text=True) and "在未来" in page.get_data(as_text=True)
    correct(paid_on=TODAY.isoformat())
    client.post(decide, data={"action": "pay"})
    [paid] = _payments(db_session)
    assert paid.state is PaymentState.paid and paid.paid_on == TODAY
    told = db_session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == world["A"]["owner"].id, Notification.template == "payments.pay"))
    assert told >= 1
    # A paid payment is no longer corrected; it is returned with the reason.
    correct(paid_on=TODAY.isoformat(), amount="1")
    assert _payments(db_session)[0].amount == Decimal(100000)
    client.post(decide, data={"action": "refund", "opinion": ""})
    assert _payments(db_session)[0].state is PaymentState.paid
    client.post(decide, data={"action": "refund", "opinion": "项目终止，资金退回。"})
    [returned] = _payments(db_session)
    assert returned.state is PaymentState.returned
    # The returned money no longer holds the funding.
    _plan(client, project, "100000")
    assert len(_payments(db_session)) == 2


def test_each_party_reads_its_own_payments(client, world, make, db_session):
    mine = make.payment(world["A"]["project"], batch="A批")
    theirs = make.payment(world["B"]["project"], batch="B批")
    for username, seen, unseen in (("pay_ent_A", mine, theirs), ("pay_bureau", mine, theirs),
                                   ("pay_ent_B", theirs, mine)):
        login(client, username)
        page = client.get("/paymentmodelview/list/").get_data(as_text=True)
        assert seen.batch in page and unseen.batch not in page, username
        assert client.get(f"/paymentmodelview/show/{unseen.id}").status_code in (302, 404)
    login(client, "pay_platform")
    page = client.get("/paymentmodelview/list/").get_data(as_text=True)
    assert "A批" in page and "B批" in page


def test_the_reconciliation_and_its_workbook(client, world, make, db_session):
    project_a, project_b = world["A"]["project"], world["B"]["project"]
    make.payment(project_a, PaymentState.paid, amount=Decimal(60000))
    make.payment(project_a, amount=Decimal(40000))
    make.payment(project_b, PaymentState.returned, amount=Decimal(30000))
    figures = payments.reconcile(project_a.round, world["province"])
    assert (figures.projects, figures.funding, figures.planned, figures.paid,
            figures.returned, figures.to_pay) == (
        2, Decimal(200000), Decimal(40000), Decimal(60000), Decimal(30000), Decimal(140000))
    login(client, "pay_province")
    page = client.get(f"/paymentmodelview/reconcile?round={project_a.round_id}")
    assert "140,000.00" in page.get_data(as_text=True)
    response = client.get(f"/paymentmodelview/export.xlsx?round={project_a.round_id}")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["HB-PAY-A", "HB-PAY-A", "HB-PAY-B"]
    assert sorted(r[4] for r in rows[1:]) == [30000, 40000, 60000]
    login(client, "pay_ent_A")
    assert client.get(f"/paymentmodelview/reconcile?round={project_a.round_id}"
                      ).status_code in (302, 403)
