"""The execution of a funded project (app/domain/funding/progress.py) over HTTP: milestones set
by either party and recorded reached by the enterprise, the researcher's service log confirmed
or disputed by the enterprise and corrected, the mid-term check by the bureau of the region
or the province, and the desks' counts. Refusals change nothing."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from helpers import login
from sqlalchemy import select

from app.models import (
    ContractState,
    MidtermCheck,
    MilestoneState,
    NeedState,
    ServiceLogState,
)
from app.models.execution import Milestone, ServiceLog
from app.utils import clock

TODAY = clock.today()


@pytest.fixture()
def world(make):
    enterprise, researcher = make.enterprise("420100"), make.researcher("420100")
    contract = make.contract(make.need(enterprise, NeedState.contracted), researcher)
    contract.state = ContractState.approved
    other = make.researcher("420100")
    return {
        "project": make.project(make.save(contract), number="HB-RUN-001"),
        "owner": make.user("Enterprise", "run_ent", enterprise_id=enterprise.id),
        "expert": make.user("Researcher", "run_res", researcher_id=researcher.id),
        "stranger": make.user("Researcher", "run_other", researcher_id=other.id),
        "bureau_a": make.user("Bureau", "run_bureau_a", region_id=make.region("420100").id),
        "bureau_b": make.user("Bureau", "run_bureau_b", region_id=make.region("420500").id),
        "province": make.user("Province", "run_province"),
    }


def _all(db_session, model):
    db_session.expire_all()
    return db_session.scalars(select(model).order_by(model.id)).all()


def _decide(client, view, pk, action, opinion=""):
    return client.post(f"/{view}/decide/{pk}", data={"action": action, "opinion": opinion},
                       follow_redirects=True)


def test_milestones_are_set_by_the_parties_by_the_execution_end_and_reached(
        client, world, db_session):
    project = world["project"]
    add = f"/milestonemodelview/add?project={project.id}"
    late = (project.deadline + dt.timedelta(days=1)).isoformat()
    login(client, "run_other")
    client.post(add, data={"title": "样机", "due_on": TODAY.isoformat()})
    login(client, "run_res")
    page = client.post(add, data={"title": "样机试制", "due_on": late},
                       follow_redirects=True).get_data(as_text=True)
    assert "执行期结束" in page and _all(db_session, Milestone) == []
    client.post(add, data={"title": "样机试制", "due_on": (TODAY + dt.timedelta(days=5))
                           .isoformat(), "deliverable": "样机一台"})
    login(client, "run_ent")
    client.post(add, data={"title": "产线部署", "due_on": (TODAY + dt.timedelta(days=10))
                           .isoformat()})
    first, second = _all(db_session, Milestone)
    assert (first.project_id, first.researcher_id, first.state) == (
        project.id, project.researcher_id, MilestoneState.planned)
    login(client, "run_res")
    _decide(client, "milestonemodelview", first.id, "reach")  # the enterprise's call
    login(client, "run_ent")
    _decide(client, "milestonemodelview", first.id, "reach")
    first = _all(db_session, Milestone)[0]
    assert first.state is MilestoneState.reached and first.reached_on == TODAY


def _log(client, project, **over):
    data = {"starts_on": (TODAY - dt.timedelta(days=1)).isoformat(),
            "ends_on": TODAY.isoformat(), "hours": "14", "work_done": "现场调试并培训。", **over}
    return client.post(f"/servicelogmodelview/add?project={project.id}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


@pytest.mark.parametrize("over, message", [
    ({"hours": "49"}, "每天最多 24"),
    ({"ends_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "在未来"),
    ({"starts_on": (TODAY + dt.timedelta(days=2)).isoformat()}, "不能早于"),
])
def test_a_wrong_service_entry_is_refused_and_kept_as_typed(
        client, world, db_session, over, message):
    login(client, "run_res")
    page = _log(client, world["project"], **over).get_data(as_text=True)
    assert message in page and "现场调试并培训" in page
    assert _all(db_session, ServiceLog) == []


def test_the_service_log_is_confirmed_or_disputed_and_corrected(client, world, db_session):
    project = world["project"]
    for username in ("run_ent", "run_other"):
        login(client, username)
        _log(client, project)
    assert _all(db_session, ServiceLog) == []
    login(client, "run_res")
    _log(client, project)
    _log(client, project, hours="6", work_done="远程答疑。")
    first, second = _all(db_session, ServiceLog)
    login(client, "run_ent")
    counts = client.get("/office/").get_data(as_text=True)
    assert 'data-todo="service_logs_to_confirm">' in counts
    _decide(client, "servicelogmodelview", first.id, "confirm_service")
    _decide(client, "servicelogmodelview", second.id, "dispute", "")
    assert _all(db_session, ServiceLog)[1].state is ServiceLogState.submitted  # reason needed
    _decide(client, "servicelogmodelview", second.id, "dispute", "当天无人到场")
    first, second = _all(db_session, ServiceLog)
    assert first.state is ServiceLogState.confirmed
    assert (second.state, second.dispute_reason) == (ServiceLogState.disputed, "当天无人到场")
    # The researcher corrects the disputed entry and sends it again; the confirmed one stays.
    login(client, "run_res")
    edit = {"starts_on": second.starts_on.isoformat(), "ends_on": second.ends_on.isoformat(),
            "hours": "3", "work_done": "远程答疑（电话）。"}
    client.post(f"/servicelogmodelview/edit/{second.id}", data=edit,
                content_type="multipart/form-data")
    client.post(f"/servicelogmodelview/edit/{first.id}", data={**edit, "hours": "1"},
                content_type="multipart/form-data")
    _decide(client, "servicelogmodelview", second.id, "submit")
    first, second = _all(db_session, ServiceLog)
    assert first.hours == Decimal(14)
    assert (second.state, second.hours) == (ServiceLogState.submitted, Decimal(3))


def test_the_mid_term_check_by_the_regions_bureau_or_the_province(client, world, db_session):
    project = world["project"]
    add = f"/midtermcheckmodelview/add?project={project.id}"
    data = {"checked_on": TODAY.isoformat(), "result": "behind", "opinion": "进度滞后一个月。"}
    for username in ("run_bureau_b", "run_ent", "run_res"):
        login(client, username)
        client.post(add, data=data)
    assert _all(db_session, MidtermCheck) == []
    login(client, "run_bureau_a")
    client.post(add, data=data)
    [check] = _all(db_session, MidtermCheck)
    assert (check.result.value, check.checked_by_id) == ("behind", world["bureau_a"].id)
    login(client, "run_res")
    assert "进度滞后一个月" in client.get(
        f"/midtermcheckmodelview/show/{check.id}").get_data(as_text=True)


TODO = re.compile(r'data-todo="(\w+)">\s*<span class="badge">(\d+)</span>')


def test_overdue_milestones_are_counted_on_each_desk_of_the_project(
        client, world, make, db_session):
    project = world["project"]
    make.milestone(project, due_on=TODAY - dt.timedelta(days=3))
    make.milestone(project, MilestoneState.reached, due_on=TODAY - dt.timedelta(days=3))
    make.milestone(project, due_on=TODAY + dt.timedelta(days=3))
    for username, count in (("run_ent", 1), ("run_res", 1), ("run_bureau_a", 1),
                            ("run_bureau_b", 0), ("run_province", 1)):
        login(client, username)
        page = client.get("/office/").get_data(as_text=True)
        assert 'data-todo="milestones_overdue"' in page, username
        counts = {key: int(n) for key, n in TODO.findall(page)}
        assert counts.get("milestones_overdue", 0) == count, (username, counts)


def test_each_side_rates_the_other_once_after_self_acceptance_and_it_feeds_the_evaluation(
        client, world, db_session):
    from app.models import ProjectState, SatisfactionRating

    project = world["project"]
    add = f"/satisfactionratingmodelview/add?project={project.id}"
    login(client, "run_ent")
    client.post(add, data={"score": "4", "comment": "响应及时"})
    assert _all(db_session, SatisfactionRating) == []  # not self-accepted yet
    project.state = ProjectState.accepted
    db_session.commit()
    page = client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert add in page
    client.post(add, data={"score": "4", "comment": "响应及时"})
    page = client.post(add, data={"score": "5"}, follow_redirects=True).get_data(as_text=True)
    assert "已经评价" in page
    login(client, "run_other")
    client.post(add, data={"score": "1"})
    login(client, "run_res")
    client.post(add, data={"score": "5", "comment": "保障到位"})
    ratings = _all(db_session, SatisfactionRating)
    assert [(r.by_side, r.score) for r in ratings] == [("enterprise", 4), ("researcher", 5)]
    # The evaluation's satisfaction points start from the enterprise's rating: 4 / 5 × 20.
    login(client, "run_province")
    page = client.get(f"/projectmodelview/evaluate/{project.id}").get_data(as_text=True)
    assert 'id="satisfaction" name="satisfaction" value="16.0"' in page


def test_the_enterprise_records_its_support_conditions_and_phd_posts(client, world, db_session):
    project = world["project"]
    url = f"/projectmodelview/support/{project.id}"
    login(client, "run_res")
    client.post(url, data={"support_conditions": "提供住宿", "phd_posts": "1"})
    db_session.refresh(project)
    assert project.support_conditions is None
    login(client, "run_ent")
    page = client.post(url, data={"support_conditions": "提供实验室与住宿", "phd_posts": "x"})
    assert page.status_code == 422 and "提供实验室与住宿" in page.get_data(as_text=True)
    db_session.refresh(project)
    assert project.support_conditions is None
    client.post(url, data={"support_conditions": "提供实验室与住宿", "phd_posts": "2"})
    db_session.refresh(project)
    assert (project.support_conditions, project.phd_posts) == ("提供实验室与住宿", 2)
    login(client, "run_bureau_a")
    page = client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    assert "提供实验室与住宿" in page


def _ask(client, project, **over):
    data = {"kind": "change", "reason": "交付内容调整为两套样机。", "new_funding": "", **over}
    return client.post(f"/changerequestmodelview/add?project={project.id}", data=data,
                       follow_redirects=True)


def test_a_change_lowers_the_funding_never_below_what_is_paid_and_a_termination_ends_it(
        client, world, make, db_session):
    from app.models import ChangeRequest, PaymentState, ProjectState, RequestState

    project = world["project"]
    make.payment(project, PaymentState.paid, amount=Decimal(30000))
    for username in ("run_res", "run_bureau_a"):
        login(client, username)
        _ask(client, project)
    assert _all(db_session, ChangeRequest) == []
    login(client, "run_ent")
    assert "最多为现在的" in _ask(client, project, new_funding="150000").get_data(as_text=True)
    _ask(client, project, new_funding="20000")
    assert "等待省科技厅决定" in _ask(client, project).get_data(as_text=True)  # one at a time
    [change] = _all(db_session, ChangeRequest)
    login(client, "run_province")
    page = _decide(client, "changerequestmodelview", change.id, "approve", "同意").get_data(
        as_text=True)
    assert "30,000.00" in page  # already paid: the funding cannot go below it
    _decide(client, "changerequestmodelview", change.id, "reject", "经费不宜下调。")
    assert _all(db_session, ChangeRequest)[0].state is RequestState.rejected
    # The province cannot end a project on its own; an approved termination does.
    _decide(client, "projectmodelview", project.id, "terminate", "终止")
    db_session.refresh(project)
    assert project.state is ProjectState.funded
    login(client, "run_ent")
    _ask(client, project, kind="termination", reason="企业转产，项目无法继续。")
    termination = _all(db_session, ChangeRequest)[-1]
    login(client, "run_province")
    _decide(client, "changerequestmodelview", termination.id, "approve", "同意终止。")
    db_session.refresh(project)
    assert project.state is ProjectState.terminated and project.funding == Decimal(30000)
    login(client, "run_ent")
    assert "/changerequestmodelview/add" not in client.get(
        f"/projectmodelview/show/{project.id}").get_data(as_text=True)


def test_the_overdue_milestones_page_shows_the_jurisdictions_own(client, world, make):
    late = make.milestone(world["project"], title="逾期的样机交付",
                          due_on=TODAY - dt.timedelta(days=4))
    for username, seen in (("run_bureau_a", True), ("run_bureau_b", False),
                           ("run_ent", True), ("run_other", False), ("run_province", True)):
        login(client, username)
        page = client.get("/milestonemodelview/overdue/").get_data(as_text=True)
        assert (late.title in page) is seen, username


def test_reminders_of_milestones_due_and_entries_left_unconfirmed_are_sent_once(
        world, make, db_session):
    from app.domain.funding import progress
    from app.models import Notification

    project = world["project"]
    make.milestone(project, title="一周后到期", due_on=TODAY + dt.timedelta(days=7))
    make.milestone(project, title="三天后到期", due_on=TODAY + dt.timedelta(days=3))
    old = make.service_log(project)
    old.updated_at = old.created_at = clock.utcnow() - dt.timedelta(days=5)
    make.service_log(project)  # sent today: not yet a reminder
    db_session.commit()
    first = progress.send_progress_reminders()
    db_session.commit()
    assert progress.send_progress_reminders() == 0  # nothing twice
    rows = db_session.scalars(select(Notification).where(Notification.template.in_(
        ("milestones.reminder", "service_logs.reminder")))).all()
    milestone_users = {n.user_id for n in rows if n.template == "milestones.reminder"}
    log_users = {n.user_id for n in rows if n.template == "service_logs.reminder"}
    assert milestone_users == {world["owner"].id, world["expert"].id}
    assert log_users == {world["owner"].id} and first == len(rows)
    assert {n.payload["subject_id"] for n in rows
            if n.template == "service_logs.reminder"} == {old.id}  # not today's entry
