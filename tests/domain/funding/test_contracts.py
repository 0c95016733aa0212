"""Contracts over HTTP (notice §三(五), §四): the enterprise submits the contract of a selection
with its three files, reviewers see computed cross-checks, the province approves within the
round's funding rules and the approval creates the project."""
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from helpers import login
from sqlalchemy import func, select

from app.models import (
    Contract,
    ContractState,
    NeedState,
    Notification,
    ProgramRound,
    Project,
    ProposalState,
)
from app.utils import clock

TODAY = clock.today()


@pytest.fixture()
def world(make):
    enterprise = make.enterprise("420100")
    need = make.need(enterprise, NeedState.docking, title="注塑件缺陷在线检测")
    researcher = make.researcher("420100")
    w = {"enterprise": enterprise, "need": need, "researcher": researcher,
         "proposal": make.proposal(need, researcher, state=ProposalState.selected),
         "ent": make.user("Enterprise", "con_ent", enterprise_id=enterprise.id),
         "province": make.user("Province", "con_province"),
         "bureau": make.user("Bureau", "con_bureau", region_id=make.region("420100").id)}
    return w


def _files(tag="a"):
    return {name: (io.BytesIO(f"%PDF-1.4 {name} {tag}".encode()), f"{label}.pdf")
            for name, label in (("contract_file", "合同"), ("invoice_file", "发票"),
                                ("transfer_file", "转账流水"))}


def _form(world, amount="120000", **over):
    institution = world["researcher"].institution.name
    data = {"amount": amount, "signed_on": TODAY.isoformat(), "registration_number": "",
            "invoice_amount": amount, "invoice_date": TODAY.isoformat(),
            "invoice_issuer": institution, "transfer_amount": amount,
            "transfer_date": TODAY.isoformat(), "transfer_payee": institution, **_files()}
    data.update(over)
    return data


def _save_draft(client, proposal, data):
    return client.post(f"/contractmodelview/add?proposal={proposal.id}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def _submit(client, proposal, data):
    """Save the draft, then submit it from its page, as the enterprise does."""
    saved = _save_draft(client, proposal, data)
    found = re.search(r"/contractmodelview/decide/(\d+)", saved.get_data(as_text=True))
    if found is None:
        return saved
    client.post(f"/contractmodelview/decide/{found.group(1)}", data={"action": "submit"})
    return client.get(f"/contractmodelview/show/{found.group(1)}")


def test_a_contract_is_saved_as_a_draft_with_its_checks_before_it_is_submitted(
        client, world, db_session):
    login(client, "con_ent")
    page = _save_draft(client, world["proposal"], _form(world)).get_data(as_text=True)
    [contract] = _contracts(db_session)
    assert contract.state is ContractState.draft
    assert "✓" in page and "提交" in page  # the checks, and the way on
    assert world["need"].state is NeedState.docking  # nothing sent yet
    assert db_session.scalar(select(func.count(Notification.id)).where(
        Notification.idempotency_key.like("%contract%"))) == 0  # the province is not told yet
    client.post(f"/contractmodelview/decide/{contract.id}", data={"action": "submit"})
    db_session.expire_all()
    assert db_session.get(Contract, contract.id).state is ContractState.submitted
    assert world["need"].state is NeedState.contracted


def _contracts(db_session):
    db_session.expire_all()
    return db_session.scalars(select(Contract)).all()


def test_the_enterprise_submits_the_contract_of_its_selection(client, world, db_session):
    login(client, "con_ent")
    page = _submit(client, world["proposal"], _form(world)).get_data(as_text=True)
    [contract] = _contracts(db_session)
    assert contract.state is ContractState.submitted
    assert contract.researcher_id == world["researcher"].id
    assert contract.institution_id == world["researcher"].institution_id
    assert all(len(getattr(contract, f"{n}_hash") or "") == 64
               for n in ("contract_file", "invoice_file", "transfer_file"))
    assert world["need"].state is NeedState.contracted
    assert "✓" in page and "✗" not in page  # every cross-check passes


@pytest.mark.parametrize("case", ["no_invoice", "not_selected", "someone_elses", "twice"])
def test_a_contract_that_cannot_be_submitted_changes_nothing(client, world, db_session, make,
                                                             case):
    proposal, data, expected = world["proposal"], _form(world), None
    if case == "no_invoice":
        del data["invoice_file"]
        expected = "均为必填"
    elif case == "not_selected":
        proposal = make.proposal(world["need"], make.researcher("420100"),
                                 state=ProposalState.shortlisted)
        expected = "合作意向"
    elif case == "someone_elses":
        other = make.enterprise("420500")
        proposal = make.proposal(make.need(other, NeedState.docking), world["researcher"],
                                 state=ProposalState.selected)
        expected = "已选定的技术方案"
    else:
        login(client, "con_ent")
        _submit(client, proposal, _form(world))
        expected = "已有合同"
    login(client, "con_ent")
    before = len(_contracts(db_session))
    page = _submit(client, proposal, data).get_data(as_text=True)
    assert expected in page
    assert len(_contracts(db_session)) == before
    if case != "twice":
        assert world["need"].state is NeedState.docking


def test_cross_checks_flag_amounts_payee_dates_and_a_reused_file(client, world, db_session, make):
    login(client, "con_ent")
    _submit(client, world["proposal"], _form(world))
    other_need = make.need(world["enterprise"], NeedState.docking)
    colleague = make.researcher("420100", institution=world["researcher"].institution)
    second = make.proposal(other_need, colleague, state=ProposalState.selected)
    data = _form(world, invoice_amount="100000", transfer_payee="某某个人",
                 invoice_date=(TODAY - dt.timedelta(days=3)).isoformat())
    data["contract_file"] = (io.BytesIO(b"%PDF-1.4 contract_file a"), "同一份合同.pdf")
    page = _submit(client, second, data).get_data(as_text=True)
    first, contract = sorted(_contracts(db_session), key=lambda c: c.id)
    from app.domain.funding.checks import checks_of

    failed = {c.code for c in checks_of(contract) if not c.ok}
    assert failed == {"invoice_amount", "transfer_payee", "date_order", "file_reuse"}
    assert f"#{first.id}" in page and "某某个人" in page
    login(client, "con_province")
    assert "✗" in client.get(f"/contractmodelview/show/{contract.id}").get_data(as_text=True)


def _findings(page):
    """The cross-check lines of a contract page."""
    box = re.search(r'<div class="alert [^"]*findings">.*?</div>', page, re.S).group(0)
    return re.findall(r"<li>(.*?)</li>", box, re.S)


def _reuse_line(client, contract):
    client.get("/language/en")  # the new wording is asserted in English
    page = client.get(f"/contractmodelview/show/{contract.id}").get_data(as_text=True)
    [line] = [li for li in _findings(page) if "another contract" in li or "contract(s)" in li]
    return line, page


def test_a_reused_file_names_only_the_contracts_the_viewer_may_see(client, world, db_session,
                                                                   make):
    login(client, "con_ent")
    _submit(client, world["proposal"], _form(world))
    [mine] = _contracts(db_session)
    # Another enterprise (another region) holds a contract with the same invoice file.
    stranger = make.enterprise("420500", name="外市某某机械有限公司")
    theirs = make.contract(make.need(stranger, NeedState.docking), make.researcher("420500"))
    theirs.invoice_file_hash = mine.invoice_file_hash
    db_session.commit()

    for username in ("con_ent", "con_bureau"):  # the enterprise, and its own region's bureau
        login(client, username)
        line, page = _reuse_line(client, mine)
        assert line == "✗ A file was also used in another contract."
        assert f"#{theirs.id}" not in line and "外市某某机械有限公司" not in page
    login(client, "con_province")
    line, _page = _reuse_line(client, mine)
    assert line == f"✗ A file was also used in contract(s) #{theirs.id}."

    # A second contract of the enterprise's own with the same file is named; the stranger's not.
    own_need = make.need(world["enterprise"], NeedState.docking)
    own = make.contract(own_need, world["researcher"])
    own.transfer_file_hash = mine.transfer_file_hash
    db_session.commit()
    login(client, "con_ent")
    line, _page = _reuse_line(client, mine)
    assert line == f"✗ A file was also used in contract(s) #{own.id} and in another contract."
    login(client, "con_province")
    line, _page = _reuse_line(client, mine)
    assert line == f"✗ A file was also used in contract(s) #{theirs.id}, #{own.id}."


def _checked(make, world, **fields):
    """The cross-checks of a contract whose every value agrees, but for ``fields``."""
    from app.domain.funding.checks import checks_of

    contract = make.contract(world["need"], world["researcher"])
    amount, institution = contract.amount, world["researcher"].institution.name
    values = {"invoice_amount": amount, "transfer_amount": amount, "invoice_issuer": institution,
              "transfer_payee": institution, "invoice_date": contract.signed_on,
              "transfer_date": contract.signed_on, **fields}
    for name, value in values.items():
        setattr(contract, name, value)
    return {c.code: c for c in checks_of(contract, world["province"])}, contract


@pytest.mark.parametrize("code, fields, ok, shown", [
    ("transfer_amount", {}, True, "120,000"),
    ("transfer_amount", {"transfer_amount": Decimal("119999.99")}, False, "119,999.99"),
    ("transfer_amount", {"transfer_amount": Decimal("120000.01")}, False, "120,000.01"),
    ("invoice_issuer", {}, True, None),
    # The institution's name with stray spaces is still the institution.
    ("invoice_issuer", {"invoice_issuer": "institution-spelled-differently"}, True, None),
    ("invoice_issuer", {"invoice_issuer": "某某科技咨询有限公司"}, False, "某某科技咨询有限公司"),
    ("invoice_issuer", {"invoice_issuer": None}, False, "“—”"),
    ("round_window", {}, True, None),
    ("round_window", {"signed_on": "start", "invoice_date": "end", "transfer_date": "end"},
     True, None),
    ("round_window", {"signed_on": "before_start"}, False, None),
    ("round_window", {"transfer_date": "after_end"}, False, None),
])
def test_each_cross_check_fails_and_passes(make, world, db_session, code, fields, ok, shown):
    program_round = world["need"].round
    start, end = program_round.needs_filing_start, program_round.matching_end
    days = {"start": start, "end": end, "before_start": start - dt.timedelta(days=1),
            "after_end": end + dt.timedelta(days=1)}
    fields = {name: days.get(value, value) if isinstance(value, str) else value
              for name, value in fields.items()}
    if fields.get("invoice_issuer") == "institution-spelled-differently":
        name = world["researcher"].institution.name
        fields["invoice_issuer"] = f" {name[:2]} {name[2:]} "
    if fields.get("signed_on") == days["before_start"]:
        fields["invoice_date"] = fields["transfer_date"] = start  # still after the signature
    checks, contract = _checked(make, world, **fields)
    assert checks[code].ok is ok, checks[code].text
    # Only the rule under test is affected: the others still pass.
    assert {c for c, check in checks.items() if not check.ok} == (set() if ok else {code})
    if shown:
        assert shown in checks[code].text
    if code == "round_window":
        assert f"{start}" in checks[code].text and f"{end}" in checks[code].text
        assert checks[code].message.startswith("✓" if ok else "✗")


def _approve(client, contract, action="approve", opinion=""):
    return client.post(f"/contractmodelview/decide/{contract.id}",
                       data={"action": action, "opinion": opinion}, follow_redirects=True)


def test_approval_creates_the_project_with_min_of_amount_and_cap(client, world, db_session):
    login(client, "con_ent")
    _submit(client, world["proposal"], _form(world, amount="150000"))
    [contract] = _contracts(db_session)
    login(client, "con_bureau")
    _approve(client, contract)
    assert _contracts(db_session)[0].state is ContractState.submitted  # not the bureau's call
    login(client, "con_province")
    _approve(client, contract)
    [project] = db_session.scalars(select(Project)).all()
    db_session.refresh(contract)
    assert project.funding == Decimal(100000)  # the 2020 cap, not the contract's 150,000
    assert project.number == f"{contract.round.code}-001"
    assert project.contract_id == contract.id and contract.state is ContractState.approved


def test_one_project_per_enterprise_and_the_quota(client, world, db_session, make):
    login(client, "con_ent")
    _submit(client, world["proposal"], _form(world))
    second_need = make.need(world["enterprise"], NeedState.docking)
    second = make.proposal(second_need, make.researcher("420100"), state=ProposalState.selected)
    _submit(client, second, _form(world))
    first_contract, second_contract = sorted(_contracts(db_session), key=lambda c: c.id)
    # The simulation shows what approving in order would do, and changes nothing.
    login(client, "con_province")
    page = client.get("/funding/simulate").get_data(as_text=True)
    assert "100,000" in page and "已有 1 个资助项目" in page
    assert db_session.scalars(select(Project)).all() == []
    _approve(client, first_contract)
    page = _approve(client, second_contract).get_data(as_text=True)
    assert "已有 1 个资助项目" in page
    assert second_contract.state is ContractState.submitted

    # Another enterprise, with the round's quota reached.
    program_round = first_contract.round
    program_round.project_quota = 1
    other = make.enterprise("420100")
    other_need = make.need(other, NeedState.docking)
    other_proposal = make.proposal(other_need, make.researcher("420100"),
                                   state=ProposalState.selected)
    make.user("Enterprise", "con_other", enterprise_id=other.id)
    db_session.commit()
    login(client, "con_other")
    _submit(client, other_proposal, _form(world))
    third = max(_contracts(db_session), key=lambda c: c.id)
    login(client, "con_province")
    assert "名额" in _approve(client, third).get_data(as_text=True)
    program_round.allow_over_quota = True
    db_session.commit()
    _approve(client, third)
    assert len(db_session.scalars(select(Project)).all()) == 2


def test_a_returned_contract_is_corrected_and_submitted_again(client, world, db_session):
    login(client, "con_ent")
    _submit(client, world["proposal"], _form(world, transfer_payee="错误的收款方"))
    [contract] = _contracts(db_session)
    login(client, "con_province")
    page = _approve(client, contract, "return").get_data(as_text=True)
    assert contract.state is ContractState.submitted and "理由" in page  # a reason is required
    _approve(client, contract, "return", "收款方应为派出单位")
    assert _contracts(db_session)[0].state is ContractState.returned
    login(client, "con_ent")
    institution = world["researcher"].institution.name
    client.post(f"/contractmodelview/edit/{contract.id}",
                data={**_form(world), "transfer_payee": institution},
                content_type="multipart/form-data")
    client.post(f"/contractmodelview/decide/{contract.id}", data={"action": "submit"})
    [contract] = _contracts(db_session)
    assert contract.state is ContractState.submitted and contract.transfer_payee == institution


def test_a_round_is_created_in_the_back_office_and_its_values_rule(client, world, db_session,
                                                                   make):
    login(client, "con_province")
    base = {"code": "HB2027", "name": "2027年湖北专项", "province": "湖北省",
            "needs_filing_start": (TODAY - dt.timedelta(days=5)).isoformat(),
            "needs_filing_end": (TODAY + dt.timedelta(days=5)).isoformat(),
            "matching_end": (TODAY + dt.timedelta(days=50)).isoformat(),
            "execution_end": (TODAY + dt.timedelta(days=200)).isoformat(),
            "evaluation_end": (TODAY + dt.timedelta(days=300)).isoformat(),
            "min_need_amount": "50000", "funding_cap": "50000", "project_quota": "10",
            "projects_per_enterprise": "1"}
    bad = {**base, "matching_end": (TODAY - dt.timedelta(days=50)).isoformat()}
    page = client.post("/programroundmodelview/add", data=bad,
                       follow_redirects=True).get_data(as_text=True)
    assert "先后" in page
    assert db_session.scalars(select(ProgramRound).where(ProgramRound.code == "HB2027")).first() \
        is None
    client.post("/programroundmodelview/add", data=base)
    new_round = db_session.scalars(select(ProgramRound).where(ProgramRound.code == "HB2027")).one()
    need = make.need(world["enterprise"], NeedState.docking, round=new_round)
    proposal = make.proposal(need, world["researcher"], state=ProposalState.selected)
    login(client, "con_ent")
    _submit(client, proposal, _form(world, amount="80000"))
    contract = max(_contracts(db_session), key=lambda c: c.id)
    assert contract.round_id == new_round.id
    login(client, "con_province")
    _approve(client, contract)
    project = db_session.scalars(select(Project).where(Project.round_id == new_round.id)).one()
    assert project.funding == Decimal(50000) and project.number == "HB2027-001"
    # The 2020 round and the new one coexist.
    assert db_session.scalars(select(ProgramRound).where(ProgramRound.code == "HB-2020")).first()
