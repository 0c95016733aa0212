"""Factories: small callables that create valid records (Indico style, no library)."""
import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import uscc

from app.extensions import db
from app.models import (
    CaseState,
    Contract,
    Enterprise,
    EnterpriseState,
    Institution,
    InstitutionType,
    MilestoneState,
    Need,
    NeedCategory,
    NeedState,
    Objection,
    Payment,
    PaymentState,
    ProgramRound,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
    Publicity,
    Region,
    RequestState,
    Researcher,
    ResearcherState,
    ServiceLogState,
    SupervisionCase,
    TechField,
)
from app.models.execution import ChangeRequest, Milestone, ServiceLog
from app.models.mixins import utcnow
from app.utils import clock

PASSWORD = "pw-Test-123456"
_seq = itertools.count(1)


def _save(record):
    """Commit a record; a returned one gets the reason the database requires."""
    if record.state.value == "returned" and not record.return_reason:
        record.return_reason = "材料不全"
    db.session.add(record)
    db.session.commit()
    return record


class Factories:
    def __init__(self, app):
        self.app = app

    def save(self, record):
        """Add and commit any record; returns it."""
        db.session.add(record)
        db.session.commit()
        return record

    def region(self, code="420100"):
        return db.session.scalars(select(Region).where(Region.code == code)).one()

    def field(self, code="0101"):
        return db.session.scalars(select(TechField).where(TechField.code == code)).one()

    def category(self, code="product_innovation"):
        return db.session.scalars(select(NeedCategory).where(NeedCategory.code == code)).one()

    def open_round(self):
        """A round whose filing phase contains today."""
        today = clock.today()
        code = "T-OPEN"
        found = db.session.scalars(select(ProgramRound).where(ProgramRound.code == code)).first()
        if found:
            return found
        found = ProgramRound(code=code, name="测试批次", needs_filing_start=today - dt.timedelta(10),
                             needs_filing_end=today + dt.timedelta(10),
                             matching_end=today + dt.timedelta(20),
                             execution_end=today + dt.timedelta(30),
                             evaluation_end=today + dt.timedelta(40))
        db.session.add(found)
        db.session.flush()
        return found

    def user(self, role, username=None, **links):
        sm = self.app.appbuilder.sm
        n = next(_seq)
        username = username or f"{role.lower()}{n}"
        user = sm.add_user(username, role, str(n), f"{username}@test.local", sm.find_role(role),
                           password=PASSWORD)
        assert user, f"could not create {username}"
        for key, value in links.items():
            setattr(user, key, value)
        db.session.commit()
        return user

    def enterprise(self, region_code="420100", state=EnterpriseState.verified, **kw):
        n = next(_seq)
        body = f"91420100MA4K{n:05d}"[:17]
        values = dict(name=f"测试企业{n}有限公司", credit_code=body + uscc.calc_check_digit(body),
                      region=self.region(region_code), state=state,
                      phone=f"1370000{n:04d}", email=f"e{n}@test.local")
        values.update(kw)
        return _save(Enterprise(**values))

    def institution(self, region_code="420100", kind=InstitutionType.university):
        n = next(_seq)
        inst = Institution(name=f"测试大学{n}", type=kind, region=self.region(region_code))
        db.session.add(inst)
        db.session.commit()
        return inst

    def researcher(self, region_code="420100", state=ResearcherState.approved, **kw):
        n = next(_seq)
        values = dict(name=f"研究员{n}", institution=self.institution(region_code), state=state,
                      fields=[self.field()], keywords="传感器 物联网", phone=f"1360000{n:04d}",
                      email=f"r{n}@test.local", willing_to_serve=True)
        values.update(kw)
        return _save(Researcher(**values))

    def need(self, enterprise, state=NeedState.draft, attachment=None, **kw):
        values = dict(round=self.open_round(), enterprise=enterprise, title=f"技术需求{next(_seq)}",
                      category=self.category(), field=self.field(), background="背景",
                      problem="问题", targets="良品率98%", amount=Decimal(150000), state=state,
                      attachment=attachment)
        if state.value.startswith("returned"):
            values["return_reason"] = "请补充"
        if state in (NeedState.published, NeedState.docking, NeedState.contracted,
                     NeedState.closed):
            values["published_at"] = utcnow()
        values.update(kw)
        need = Need(**values)
        db.session.add(need)
        db.session.commit()
        return need

    def proposal(self, need, researcher, state=ProposalState.submitted, **kw):
        values = dict(approach="方案", expected_results="良品率提高到98%", timeline="2026-03 完成样机",
                      budget=Decimal(90000), team="张三 教授", state=state)
        if state is not ProposalState.draft:
            values["submitted_at"] = utcnow()
        values.update(kw)
        proposal = Proposal(need=need, researcher=researcher, **values)
        db.session.add(proposal)
        db.session.commit()
        return proposal

    def contract(self, need, researcher, files=("c.pdf", "i.pdf", "t.pdf")):
        contract = Contract(round=need.round, need=need, enterprise=need.enterprise,
                            researcher=researcher, institution=researcher.institution,
                            amount=Decimal(120000), signed_on=clock.today(),
                            contract_file=files[0], invoice_file=files[1], transfer_file=files[2])
        db.session.add(contract)
        db.session.commit()
        return contract

    def project(self, contract, number=None, state=None):
        project = Project(number=number or f"HB-T-{next(_seq):04d}", round=contract.round,
                          contract=contract, enterprise=contract.enterprise,
                          researcher=contract.researcher, funding=Decimal(100000))
        if state is not None:
            project.state = state
        db.session.add(project)
        db.session.commit()
        return project

    def publicity(self, projects, starts_on=None, ends_on=None):
        """A 公示 list of ``projects`` (made proposed), open from ``starts_on`` (default
        today) to ``ends_on`` (default four days later)."""
        starts_on = starts_on or clock.today()
        ends_on = ends_on or starts_on + dt.timedelta(days=4)
        publicity = Publicity(round=projects[0].round, title=f"公示 {next(_seq)}",
                              starts_on=starts_on, ends_on=ends_on, working_days=5)
        db.session.add(publicity)
        for project in projects:
            project.publicity, project.state = publicity, ProjectState.proposed
        db.session.commit()
        return publicity

    def payment(self, project, state=None, amount=Decimal(50000), **values):
        """A payment of ``project``'s subsidy (planned unless ``state`` says otherwise)."""
        values = {"batch": "2020年第一批", "planned_on": clock.today(),
                  "payer": "湖北省科学技术厅", **values}
        payment = Payment(project=project, round_id=project.round_id,
                          enterprise_id=project.enterprise_id, amount=amount, **values)
        if state is not None:
            payment.state = state
            if state is not PaymentState.planned:
                payment.paid_on = payment.paid_on or clock.today()
                payment.voucher = payment.voucher or "v_sep_拨付凭证.pdf"
            if state is PaymentState.returned:
                payment.return_reason = "项目终止，资金退回"
        db.session.add(payment)
        db.session.commit()
        return payment

    def _of_project(self, record, project, state, **values):
        record.project, record.enterprise_id = project, project.enterprise_id
        record.researcher_id = project.researcher_id
        for name, value in values.items():
            setattr(record, name, value)
        if state is not None:
            record.state = state
        db.session.add(record)
        db.session.commit()
        return record

    def milestone(self, project, state=None, **values):
        values = {"title": "样机试制", "due_on": clock.today() + dt.timedelta(days=30),
                  **values}
        if state is MilestoneState.reached:
            values.setdefault("reached_on", clock.today())
        return self._of_project(Milestone(), project, state, **values)

    def service_log(self, project, state=None, **values):
        values = {"starts_on": clock.today() - dt.timedelta(days=2),
                  "ends_on": clock.today() - dt.timedelta(days=1), "hours": Decimal(12),
                  "work_done": "现场调试视觉检测设备，培训操作人员。", **values}
        if state is ServiceLogState.disputed:
            values.setdefault("dispute_reason", "工时与考勤不符")
        return self._of_project(ServiceLog(), project, state, **values)

    def change_request(self, project, kind="change", state=None, **values):
        values = {"kind": kind, "reason": "样机方案调整，延后交付。", **values}
        if state is RequestState.rejected:
            values.setdefault("decision", "理由不充分")
        return self._of_project(ChangeRequest(), project, state, **values)

    def case(self, project, state=None, **values):
        """A supervision case about ``project`` (open unless ``state`` says otherwise)."""
        case = SupervisionCase(project=project, enterprise_id=project.enterprise_id,
                               summary="发票与合同金额不符，疑似虚开。", **values)
        if state is not None:
            case.state = state
            if state in (CaseState.cleared, CaseState.violation):
                case.findings, case.closed_at = case.findings or "已核实", utcnow()
        db.session.add(case)
        db.session.commit()
        return case

    def objection(self, project, state=None, **values):
        """An objection against ``project`` (put on a list if it is on none)."""
        if project.publicity is None:
            self.publicity([project])
        objection = Objection(publicity=project.publicity, project=project, name="王五",
                              phone="13900000000", content="该企业与研究人员存在关联关系。",
                              **values)
        if state is not None:
            objection.state = state
            objection.decision_reason = objection.decision_reason or "已核实"
        db.session.add(objection)
        db.session.commit()
        return objection
