"""公示 of the proposed funded list (app/domain/funding/publicity.py), from the outside: the
province publishes over HTTP, anyone objects on the public page, the province decides, and the
end of the window funds what no objection holds. Refusals change nothing."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from helpers import login
from sqlalchemy import func, select

from app.domain.funding import allocation, publicity
from app.domain.reference import working_days
from app.models import (
    Contract,
    ContractState,
    NeedState,
    Notification,
    Objection,
    ObjectionState,
    Project,
    ProjectState,
    Publicity,
    WorkingDayAdjustment,
)
from app.utils import clock

TODAY = clock.today()


@pytest.fixture()
def world(make):
    """Two approved contracts' projects, proposed, in regions A and B."""
    w = {"province": make.user("Province", "pub_province"),
         "platform": make.user("Platform", "pub_platform"),
         "bureau": make.user("Bureau", "pub_bureau", region_id=make.region("420100").id)}
    for side, code in (("A", "420100"), ("B", "420500")):
        enterprise = make.enterprise(code, name=f"{side}公示测试企业有限公司")
        researcher = make.researcher(code)
        contract = make.contract(make.need(enterprise, NeedState.contracted,
                                           title=f"{side}需求：焊缝缺陷检测"), researcher)
        contract.state = ContractState.approved
        project = make.project(contract, number=f"HB-P-{side}", state=ProjectState.proposed)
        w[side] = dict(enterprise=enterprise, researcher=researcher, contract=contract,
                       project=project,
                       owner=make.user("Enterprise", f"pub_ent_{side}",
                                       enterprise_id=enterprise.id))
    return w


def _publish(client, program_round, title=""):
    return client.post("/publicitymodelview/publish",
                       data={"round": program_round.id, "title": title}, follow_redirects=True)


def _object(client, publicity_, target, **over):
    data = {"project": str(target.id), "name": "李四", "phone": "13812345678",
            "email": "", "content": "该项目的合作双方存在关联关系，请核查。", **over}
    return client.post(f"/publicity/{publicity_.id}", data=data,
                       content_type="multipart/form-data")


def _count(db_session, model):
    return db_session.scalar(select(func.count(model.id)))


def _window_passed(db_session, publicity_):
    publicity_.starts_on = TODAY - dt.timedelta(days=10)
    publicity_.ends_on = TODAY - dt.timedelta(days=1)
    db_session.commit()


# --- working days ---------------------------------------------------------------------------

def test_the_window_counts_working_days_over_the_national_holiday(db_session):
    # 2026: 1–7 October off, Saturday 10 October worked (调休).
    assert working_days.window(dt.date(2026, 9, 30), 5) == (dt.date(2026, 9, 30),
                                                             dt.date(2026, 10, 12))
    # Published on a rest day, the window opens on the next working day.
    assert working_days.window(dt.date(2026, 10, 3), 1) == (dt.date(2026, 10, 8),
                                                            dt.date(2026, 10, 8))


def test_the_provinces_own_days_come_first_and_an_unknown_year_is_said(db_session, make):
    monday = dt.date(2027, 3, 1)  # the library knows no holidays of 2027
    assert not working_days.year_known(2027)
    assert working_days.window(monday, 5) == (monday, dt.date(2027, 3, 5))
    make.save(WorkingDayAdjustment(day=dt.date(2027, 3, 3), working=False, note="本地假日"))
    make.save(WorkingDayAdjustment(day=dt.date(2027, 3, 6), working=True, note="调休"))
    assert working_days.year_known(2027)
    assert working_days.window(monday, 5) == (monday, dt.date(2027, 3, 6))


# --- publishing -----------------------------------------------------------------------------

def test_approving_a_contract_proposes_its_project_and_only_the_province_publishes(
        client, world, db_session):
    program_round = world["A"]["project"].round
    for username in ("pub_bureau", "pub_platform", "pub_ent_A"):
        login(client, username)
        _publish(client, program_round)
        assert _count(db_session, Publicity) == 0, username
    login(client, "pub_province")
    page = client.get("/publicitymodelview/publish").get_data(as_text=True)
    assert "2 项拟立项" in page
    page = _publish(client, program_round, "2026年拟立项项目公示").get_data(as_text=True)
    assert "已发布：2 个项目公示至" in page
    [listed] = db_session.scalars(select(Publicity)).all()
    start, end = working_days.window(TODAY, program_round.publicity_days)
    assert (listed.starts_on, listed.ends_on, listed.working_days) == (start, end, 5)
    db_session.expire_all()
    assert {p.publicity_id for p in db_session.scalars(select(Project))} == {listed.id}
    # Each enterprise hears of it; publishing again finds nothing left to publish.
    told = db_session.scalars(select(Notification).where(
        Notification.template == "publicity.listed")).all()
    assert {n.user_id for n in told} == {world["A"]["owner"].id, world["B"]["owner"].id}
    page = _publish(client, program_round).get_data(as_text=True)
    assert "没有待公示的拟立项项目" in page and _count(db_session, Publicity) == 1


def test_a_withdrawn_project_gives_its_place_in_the_quota_back(world, db_session, make):
    program_round = world["A"]["project"].round
    assert allocation.usage(program_round).projects == 2
    world["A"]["project"].state = ProjectState.withdrawn
    db_session.commit()
    usage = allocation.usage(program_round)
    assert usage.projects == 1 and usage.funding == Decimal(100000)


# --- the public page and objections -----------------------------------------------------------

def test_the_public_list_shows_no_personal_data(client, world, make, db_session):
    listed = make.publicity([world["A"]["project"], world["B"]["project"]])
    page = client.get("/publicity").get_data(as_text=True)
    assert listed.title in page and "公示中" in page
    page = client.get(f"/publicity/{listed.id}").get_data(as_text=True)
    for side in "AB":
        researcher = world[side]["researcher"]
        assert world[side]["enterprise"].name in page
        assert researcher.institution.name in page and f"{side}需求：焊缝缺陷检测" in page
        assert researcher.name not in page and researcher.phone not in page
    assert "100,000" in page and "提出异议" in page


@pytest.mark.parametrize("field, value, message", [
    ("phone", "12345", "11 位大陆手机号码"),
    ("name", "", "必填"),
    ("content", "不同意", "至少 10 个字"),
    ("project", "", "必填"),
    ("email", "not-an-address", "电子邮箱格式不正确"),
])
def test_a_bad_objection_is_refused_beside_its_field_and_keeps_what_was_typed(
        client, world, make, db_session, field, value, message):
    listed = make.publicity([world["A"]["project"]])
    response = _object(client, listed, world["A"]["project"], **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert "关联关系" in page or field == "content"  # what was typed is still there
    assert _count(db_session, Objection) == 0


def test_an_objection_is_lodged_and_the_province_is_told(client, world, make, db_session):
    listed = make.publicity([world["A"]["project"]])
    pdf = (io.BytesIO(b"%PDF-1.4 evidence"), "证明.pdf")
    response = _object(client, listed, world["A"]["project"], attachment=pdf)
    assert response.status_code == 302
    [objection] = db_session.scalars(select(Objection)).all()
    assert (objection.project_id, objection.phone, objection.state) == (
        world["A"]["project"].id, "13812345678", ObjectionState.lodged)
    assert objection.attachment.endswith("证明.pdf")
    told = db_session.scalars(select(Notification).where(
        Notification.template == "work.objections.lodged")).all()
    assert {n.user_id for n in told} == {world["province"].id}


def test_no_objection_before_or_after_the_window(client, world, make, db_session):
    project = world["A"]["project"]
    listed = make.publicity([project])
    _window_passed(db_session, listed)
    response = _object(client, listed, project)
    assert response.status_code == 400 and "不再受理异议" in response.get_data(as_text=True)
    listed.starts_on, listed.ends_on = TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=5)
    db_session.commit()
    with pytest.raises(publicity.PublicityRuleError):
        publicity.lodge(listed, project.id, "李四", "13812345678", "", "内容足够长的异议理由。")
    assert _count(db_session, Objection) == 0


def test_the_window_closes_at_midnight_in_beijing_not_in_utc(client, world, make, db_session,
                                                            monkeypatch):
    """On the last day's evening in UTC it is already the next day in Wuhan: no objection."""
    project = world["A"]["project"]
    listed = make.publicity([project])
    last = listed.ends_on
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(
        last, dt.time(16, 30), tzinfo=dt.timezone.utc))  # 00:30 the next day in Beijing
    response = _object(client, listed, project)
    assert response.status_code == 400 and "不再受理异议" in response.get_data(as_text=True)
    assert _count(db_session, Objection) == 0
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(
        last, dt.time(15, 30), tzinfo=dt.timezone.utc))  # 23:30 on the last day in Beijing
    assert _object(client, listed, project).status_code in (200, 302)
    assert _count(db_session, Objection) == 1


def test_an_objection_names_a_project_of_its_own_list(client, world, make, db_session):
    listed = make.publicity([world["A"]["project"]])
    make.publicity([world["B"]["project"]])
    response = _object(client, listed, world["B"]["project"])
    assert response.status_code == 400 and _count(db_session, Objection) == 0


# --- decisions and the end of the window ------------------------------------------------------

def _decide(client, objection, action, opinion="经核查，情况属实。"):
    return client.post(f"/objectionmodelview/decide/{objection.id}",
                       data={"action": action, "opinion": opinion}, follow_redirects=True)


def test_only_global_staff_read_objections_and_only_the_province_decides(
        client, world, make, db_session):
    objection = make.objection(world["A"]["project"])
    for username in ("pub_bureau", "pub_ent_A"):
        login(client, username)
        assert "13900000000" not in client.get(
            f"/objectionmodelview/show/{objection.id}").get_data(as_text=True)
        _decide(client, objection, "uphold")
    login(client, "pub_platform")
    assert "13900000000" in client.get(
        f"/objectionmodelview/show/{objection.id}").get_data(as_text=True)
    _decide(client, objection, "uphold")
    db_session.refresh(objection)
    assert objection.state is ObjectionState.lodged
    login(client, "pub_province")
    page = _decide(client, objection, "uphold", opinion="").get_data(as_text=True)
    assert "请填写“异议成立”的意见或理由。" in page
    db_session.refresh(objection)
    assert objection.state is ObjectionState.lodged


def test_an_upheld_objection_withdraws_the_funding(client, world, make, db_session):
    project = world["A"]["project"]
    objection = make.objection(project)
    login(client, "pub_province")
    _decide(client, objection, "uphold", "双方存在关联关系，属实。")
    db_session.refresh(objection)
    db_session.refresh(project)
    assert objection.state is ObjectionState.upheld and objection.decided_at is not None
    assert objection.decision_reason == "双方存在关联关系，属实。"
    assert project.state is ProjectState.withdrawn
    assert project.publicity.closed_at is not None  # nothing else was on the list
    assert allocation.usage(project.round).projects == 1


def test_the_window_ends_the_funding_is_final_unless_an_objection_waits(
        client, world, make, db_session):
    first, second = world["A"]["project"], world["B"]["project"]
    listed = make.publicity([first, second])
    objection = make.objection(second)
    assert publicity.finalise_due() == 0  # the window is still open
    _window_passed(db_session, listed)
    assert publicity.finalise_due() == 1
    db_session.commit()
    db_session.refresh(first)
    db_session.refresh(second)
    assert first.state is ProjectState.funded and first.funded_at is not None
    assert second.state is ProjectState.proposed and listed.closed_at is None
    assert publicity.finalise_due() == 0  # nothing twice
    # The dismissal after the window funds the project at once and closes the list.
    login(client, "pub_province")
    _decide(client, objection, "dismiss", "经核查，异议不成立。")
    db_session.refresh(second)
    db_session.refresh(listed)
    assert second.state is ProjectState.funded and listed.closed_at is not None
    page = client.get(f"/publicity/{listed.id}").get_data(as_text=True)
    # The final list is announced: its day, the funded projects and their total.
    assert "<h2>立项公告</h2>" in page and "提出异议" not in page
    assert f"公告日期：{clock.today().isoformat()}" in page
    assert "以下 2 个项目予以立项资助，资助金额合计 200,000.00 元" in page
    assert "HB-P-A" in page and "HB-P-B" in page and "撤销立项" not in page
    assert "已公告" in client.get("/publicity").get_data(as_text=True)
    # What was announced stays as announced: a later revocation or change of funding does not
    # rewrite it.
    first.state, first.funding = ProjectState.revoked, Decimal("0.01")
    db_session.commit()
    page = client.get(f"/publicity/{listed.id}").get_data(as_text=True)
    assert "资助金额合计 200,000.00 元" in page and "100,000.00" in page


def test_the_announcement_sets_apart_what_an_upheld_objection_withdrew(
        client, world, make, db_session):
    first, second = world["A"]["project"], world["B"]["project"]
    listed = make.publicity([first, second])
    objection = make.objection(second)
    _window_passed(db_session, listed)
    login(client, "pub_province")
    _decide(client, objection, "uphold", "经核查，双方存在关联关系，异议成立。")
    publicity.finalise_due()
    db_session.commit()
    db_session.refresh(listed)
    assert listed.closed_at is not None
    page = client.get(f"/publicity/{listed.id}").get_data(as_text=True)
    funded, withdrawn = page.split("经异议核实撤销立项的项目")
    assert "以下 1 个项目予以立项资助，资助金额合计 100,000.00 元" in funded
    assert "HB-P-A" in funded and "HB-P-B" not in funded and "HB-P-B" in withdrawn


def test_a_list_whose_every_project_was_withdrawn_says_so(client, world, make, db_session):
    project = world["A"]["project"]
    listed = make.publicity([project])
    objection = make.objection(project)
    login(client, "pub_province")
    _decide(client, objection, "uphold", "经核查，双方存在关联关系，异议成立。")
    db_session.refresh(listed)
    assert listed.closed_at is not None
    page = client.get(f"/publicity/{listed.id}").get_data(as_text=True)
    assert "均不予立项资助" in page and "予以立项资助，资助金额合计" not in page


def test_the_periodic_job_funds_what_is_due(world, make, db_session):
    from app.jobs.projects import finalise_publicities

    project = world["A"]["project"]
    _window_passed(db_session, make.publicity([project]))
    assert finalise_publicities(reschedule=False) == 1
    db_session.refresh(project)
    assert project.state is ProjectState.funded


def test_nobody_funds_a_proposed_project_by_hand(client, world, make, db_session):
    project = world["A"]["project"]
    _window_passed(db_session, make.publicity([project]))
    login(client, "pub_province")
    client.post(f"/projectmodelview/decide/{project.id}", data={"action": "fund"})
    db_session.refresh(project)
    assert project.state is ProjectState.proposed


def test_a_contract_approval_proposes_the_project(make, db_session):
    from app.workflows import apply_action

    enterprise = make.enterprise("420100")
    contract = make.contract(make.need(enterprise, NeedState.contracted),
                             make.researcher("420100"))
    apply_action(contract, "approve", make.user("Province"))
    db_session.commit()
    project = db_session.scalars(select(Project).where(Project.contract_id == contract.id)).one()
    assert project.state is ProjectState.proposed and project.publicity_id is None
    assert db_session.get(Contract, contract.id).state is ContractState.approved


def test_upholding_one_objection_decides_the_others_against_the_same_project(
        client, world, make, db_session):
    project = world["A"]["project"]
    first, second = make.objection(project), make.objection(project)
    login(client, "pub_province")
    # Withdrawing a proposed project by hand, without an objection upheld, is refused.
    client.post(f"/projectmodelview/decide/{project.id}",
                data={"action": "withdraw", "opinion": "撤回"})
    db_session.refresh(project)
    assert project.state is ProjectState.proposed
    _decide(client, first, "uphold", "关联关系属实。")
    db_session.expire_all()
    states = [o.state for o in db_session.scalars(select(Objection).order_by(Objection.id))]
    assert states == [ObjectionState.upheld, ObjectionState.upheld]
    assert db_session.get(Objection, second.id).decision_reason.startswith("随异议")
    assert db_session.get(type(project), project.id).state is ProjectState.withdrawn
