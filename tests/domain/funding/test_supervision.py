"""Supervision (app/domain/funding/supervision.py) over HTTP: a case about a funded project is
opened from its page by staff of its jurisdiction, investigated and closed by the province; a
project is suspended on a case (and not paid meanwhile), resumed, or its funding revoked after
a violation; a credit record from a violation bars the enterprise and the researcher from
filing, saying why and until when. Refusals change nothing."""
import datetime as dt
from decimal import Decimal

import pytest
from helpers import login
from sqlalchemy import select

from app.domain.funding import allocation
from app.models import (
    CaseState,
    ContractState,
    CreditRecord,
    NeedState,
    Payment,
    ProjectState,
    ProposalState,
    SupervisionCase,
)
from app.utils import clock

TODAY = clock.today()


@pytest.fixture()
def world(make):
    w = {"province": make.user("Province", "sup_province"),
         "platform": make.user("Platform", "sup_platform"),
         "bureau_a": make.user("Bureau", "sup_bureau_a", region_id=make.region("420100").id),
         "bureau_b": make.user("Bureau", "sup_bureau_b", region_id=make.region("420500").id)}
    enterprise, researcher = make.enterprise("420100"), make.researcher("420100")
    contract = make.contract(make.need(enterprise, NeedState.contracted), researcher)
    contract.state = ContractState.approved
    w.update(enterprise=enterprise, researcher=researcher,
             project=make.project(contract, number="HB-SUP-001"),
             owner=make.user("Enterprise", "sup_ent", enterprise_id=enterprise.id),
             expert=make.user("Researcher", "sup_res", researcher_id=researcher.id))
    return w


def _open(client, project, summary="发票金额与合同不符，疑似虚开。"):
    return client.post(f"/supervisioncasemodelview/add?project={project.id}",
                       data={"source": "cross_check", "summary": summary},
                       follow_redirects=True)


def _decide(client, view, pk, action, opinion=""):
    return client.post(f"/{view}/decide/{pk}", data={"action": action, "opinion": opinion},
                       follow_redirects=True)


def _cases(db_session):
    db_session.expire_all()
    return db_session.scalars(select(SupervisionCase).order_by(SupervisionCase.id)).all()


def test_staff_of_the_jurisdiction_open_a_case_from_the_project(client, world, db_session):
    project = world["project"]
    for username in ("sup_bureau_b", "sup_ent", "sup_res"):
        login(client, username)
        _open(client, project)
    assert _cases(db_session) == []
    login(client, "sup_bureau_a")
    page = client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert f"/supervisioncasemodelview/add?project={project.id}" in page
    _open(client, project)
    [case] = _cases(db_session)
    assert (case.project_id, case.enterprise_id, case.state, case.source.value) == (
        project.id, project.enterprise_id, CaseState.open, "cross_check")
    # The other region's bureau and the parties do not read it.
    for username in ("sup_bureau_b", "sup_ent"):
        login(client, username)
        assert "疑似虚开" not in client.get(
            f"/supervisioncasemodelview/show/{case.id}").get_data(as_text=True)


def test_a_case_is_investigated_and_closed_by_the_province_with_findings(
        client, world, make, db_session):
    case = make.case(world["project"])
    login(client, "sup_bureau_a")
    _decide(client, "supervisioncasemodelview", case.id, "investigate")
    assert _cases(db_session)[0].state is CaseState.investigating
    _decide(client, "supervisioncasemodelview", case.id, "find_violation", "虚开属实")
    assert _cases(db_session)[0].state is CaseState.investigating  # not the bureau's call
    login(client, "sup_province")
    _decide(client, "supervisioncasemodelview", case.id, "find_violation", "")
    assert _cases(db_session)[0].state is CaseState.investigating  # findings are required
    _decide(client, "supervisioncasemodelview", case.id, "find_violation",
            "发票系虚开，合同未实际履行。")
    [closed] = _cases(db_session)
    assert closed.state is CaseState.violation and closed.closed_at is not None
    # The amounts: never more recovered than to recover.
    edit = f"/supervisioncasemodelview/edit/{case.id}"
    page = client.post(edit, data={"amount_to_recover": "100000", "amount_recovered": "120000"},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能超过" in page
    assert _cases(db_session)[0].amount_recovered is None
    client.post(edit, data={"amount_to_recover": "100000", "amount_recovered": "40000"})
    assert _cases(db_session)[0].amount_recovered == Decimal(40000)


def test_suspended_on_a_case_unpaid_meanwhile_then_revoked_after_a_violation(
        client, world, make, db_session):
    project = world["project"]
    login(client, "sup_province")
    _decide(client, "projectmodelview", project.id, "suspend", "立案调查期间暂停")
    db_session.refresh(project)
    assert project.state is ProjectState.funded  # no case yet
    case = make.case(project)
    _decide(client, "projectmodelview", project.id, "suspend", "立案调查期间暂停")
    db_session.refresh(project)
    assert project.state is ProjectState.suspended
    client.post(f"/paymentmodelview/add?project={project.id}", data={
        "batch": "第一批", "amount": "1000", "planned_on": TODAY.isoformat(),
        "payer": "湖北省科学技术厅"}, content_type="multipart/form-data")
    assert db_session.scalars(select(Payment)).all() == []
    _decide(client, "projectmodelview", project.id, "revoke", "撤销资助")
    db_session.refresh(project)
    assert project.state is ProjectState.suspended  # no violation found yet
    case.state, case.findings = CaseState.violation, "虚开属实"
    db_session.commit()
    before = allocation.usage(project.round).projects
    _decide(client, "projectmodelview", project.id, "revoke", "违规，撤销资助并追回资金。")
    db_session.refresh(project)
    assert project.state is ProjectState.revoked
    assert allocation.usage(project.round).projects == before - 1


def _record(client, case, **over):
    data = {"party": "both", "reason": "虚开发票骗取补助",
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + dt.timedelta(days=3 * 365)).isoformat(), **over}
    return client.post(f"/creditrecordmodelview/add?case={case.id}", data=data,
                       follow_redirects=True)


def test_a_credit_record_follows_a_violation_and_bars_filing_with_its_reason(
        client, world, make, db_session):
    project = world["project"]
    login(client, "sup_province")
    _record(client, make.case(project, CaseState.investigating))
    assert db_session.scalars(select(CreditRecord)).all() == []  # no violation yet
    violation = make.case(project, CaseState.violation)
    page = _record(client, violation, ends_on=(TODAY - dt.timedelta(days=1)).isoformat())
    assert "不能早于" in page.get_data(as_text=True)
    _record(client, violation)
    [record] = db_session.scalars(select(CreditRecord)).all()
    assert (record.enterprise_id, record.researcher_id, record.case_id) == (
        project.enterprise_id, project.researcher_id, violation.id)

    need = make.need(world["enterprise"], NeedState.draft)
    login(client, "sup_ent")
    page = _decide(client, "needmodelview", need.id, "submit").get_data(as_text=True)
    assert "失信" in page and "虚开发票骗取补助" in page
    db_session.refresh(need)
    assert need.state is NeedState.draft
    assert "虚开发票骗取补助" in client.get("/creditrecordmodelview/list/").get_data(as_text=True)

    other = make.need(make.enterprise("420100"), NeedState.published)
    proposal = make.proposal(other, world["researcher"], ProposalState.draft)
    login(client, "sup_res")
    page = _decide(client, "proposalmodelview", proposal.id, "submit").get_data(as_text=True)
    assert "失信" in page
    db_session.refresh(proposal)
    assert proposal.state is ProposalState.draft

    # Once the period is over, filing is open again.
    record.starts_on = TODAY - dt.timedelta(days=30)
    record.ends_on = TODAY - dt.timedelta(days=1)
    db_session.commit()
    _decide(client, "proposalmodelview", proposal.id, "submit")
    db_session.refresh(proposal)
    assert proposal.state is ProposalState.submitted
