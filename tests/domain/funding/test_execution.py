"""Execution and evaluation over HTTP (notice §四): the summary report, the researcher's
co-signature, self-acceptance, deadline reminders, the overdue list, the province's score sheet
and the researcher's service record (notice §五(三))."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from helpers import login
from pypdf import PdfReader
from sqlalchemy import func, select

from app.models import EvaluationResult, Notification, ProjectState
from app.utils import clock

A, B = "420100", "420500"  # 武汉, 宜昌
PDF = b"%PDF-1.4\n% summary report\n"
SHEET = {"goals": "36", "funds": "18", "satisfaction": "17.5", "transfer": "15",
         "opinion": "按期完成目标"}


@pytest.fixture()
def world(make):
    enterprise = make.enterprise(A, name="甲企业有限公司")
    researcher = make.researcher(A, name="张<script>alert(1)</script>")
    need = make.need(enterprise, title="注塑件缺陷在线检测")
    project = make.project(make.contract(need, researcher), number="HB-EXEC-0001")
    other_ent = make.enterprise(B)
    other_res = make.researcher(B)
    return {
        "project": project, "enterprise": enterprise, "researcher": researcher, "need": need,
        "ent": make.user("Enterprise", "exec_ent", enterprise_id=enterprise.id),
        "res": make.user("Researcher", "exec_res", researcher_id=researcher.id),
        "other_ent": make.user("Enterprise", "exec_other_ent", enterprise_id=other_ent.id),
        "other_res": make.user("Researcher", "exec_other_res", researcher_id=other_res.id),
        "province": make.user("Province", "exec_province"),
        "platform": make.user("Platform", "exec_platform"),
        "bureau_a": make.user("Bureau", "exec_bureau_a", region_id=make.region(A).id),
        "bureau_b": make.user("Bureau", "exec_bureau_b", region_id=make.region(B).id),
    }


def _upload(client, project, name="总结报告.pdf", content=PDF):
    return client.post(f"/projectmodelview/edit/{project.id}",
                       data={"summary_report": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def _act(client, project, action, opinion=""):
    return client.post(f"/projectmodelview/decide/{project.id}",
                       data={"action": action, "opinion": opinion}, follow_redirects=True)


def _state(db_session, project):
    db_session.expire_all()
    return db_session.get(type(project), project.id)


def _accepted(client, world, db_session):
    login(client, "exec_ent")
    _upload(client, world["project"])
    _act(client, world["project"], "report")
    login(client, "exec_res")
    _act(client, world["project"], "confirm")
    login(client, "exec_ent")
    _act(client, world["project"], "accept")
    project = _state(db_session, world["project"])
    assert project.state is ProjectState.accepted
    return project


def test_report_without_file_is_refused(client, world, db_session):
    login(client, "exec_ent")
    page = _act(client, world["project"], "report").get_data(as_text=True)
    assert "请上传总结报告" in page
    assert _state(db_session, world["project"]).state is ProjectState.funded


def test_report_must_be_a_pdf(client, world, db_session):
    login(client, "exec_ent")
    page = _upload(client, world["project"], "报告.pdf", b"not a pdf at all").get_data(as_text=True)
    assert _state(db_session, world["project"]).summary_report is None
    assert "不是" in page or "PDF" in page
    _upload(client, world["project"], "照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    page = _act(client, world["project"], "report").get_data(as_text=True)
    assert "PDF" in page
    assert _state(db_session, world["project"]).state is ProjectState.funded


def test_report_cosign_and_self_accept(client, world, db_session):
    login(client, "exec_ent")
    _upload(client, world["project"])
    project = _state(db_session, world["project"])
    assert project.summary_report.endswith("_sep_总结报告.pdf")
    _act(client, project, "report")
    project = _state(db_session, project)
    assert project.state is ProjectState.reported and project.summary_submitted_at

    # Submitted, the report is frozen.
    page = _upload(client, project, "新报告.pdf").get_data(as_text=True)
    assert "不能再修改" in page
    assert _state(db_session, project).summary_report == project.summary_report

    # Self-acceptance before the researcher's co-signature is refused, with the reason.
    page = _act(client, project, "accept").get_data(as_text=True)
    assert "会签" in page
    assert _state(db_session, project).state is ProjectState.reported

    # The enterprise cannot co-sign for the researcher.
    _act(client, project, "confirm")
    assert _state(db_session, project).researcher_confirmed_at is None

    login(client, "exec_res")
    _act(client, project, "confirm")
    project = _state(db_session, project)
    assert project.researcher_confirmed_at and project.state is ProjectState.reported
    page = _act(client, project, "confirm").get_data(as_text=True)  # only once
    assert "已经会签" in page

    login(client, "exec_ent")
    _act(client, project, "accept")
    project = _state(db_session, project)
    assert project.state is ProjectState.accepted and project.self_accepted_at


def test_other_participants_get_404(client, world):
    project = world["project"]
    login(client, "exec_ent")
    _upload(client, project)
    _act(client, project, "report")
    for user in ("exec_other_ent", "exec_other_res"):
        login(client, user)
        assert client.get(f"/projectmodelview/show/{project.id}").status_code == 404
        assert client.post(f"/projectmodelview/decide/{project.id}",
                           data={"action": "confirm"}).status_code == 404
    login(client, "exec_other_ent")
    assert client.post(f"/projectmodelview/edit/{project.id}",
                       data={"summary_report": (io.BytesIO(PDF), "x.pdf")},
                       content_type="multipart/form-data").status_code == 404


def test_evaluation_by_province(client, world, db_session):
    project = world["project"]
    # Refused before the self-acceptance.
    login(client, "exec_province")
    page = client.post(f"/projectmodelview/evaluate/{project.id}", data=SHEET,
                       follow_redirects=True).get_data(as_text=True)
    assert _state(db_session, project).state is ProjectState.funded
    assert _state(db_session, project).evaluation_score is None
    assert "不能" in page or "无法" in page

    project = _accepted(client, world, db_session)
    _deadline_in(db_session, project, -1)  # the execution has ended: the evaluation phase
    # Neither a bureau nor the enterprise may evaluate.
    for user in ("exec_bureau_a", "exec_ent"):
        login(client, user)
        assert client.post(f"/projectmodelview/evaluate/{project.id}",
                           data=SHEET).status_code in (302, 403)
        _act(client, project, "evaluate", "好")
        assert _state(db_session, project).state is ProjectState.accepted

    login(client, "exec_province")
    assert "目标完成情况" in client.get(f"/projectmodelview/evaluate/{project.id}").get_data(
        as_text=True)
    # Points above a criterion's maximum are refused.
    page = client.post(f"/projectmodelview/evaluate/{project.id}",
                       data={**SHEET, "goals": "41"}, follow_redirects=True).get_data(as_text=True)
    assert "0 到 40" in page or "0和40" in page or "40" in page
    assert _state(db_session, project).state is ProjectState.accepted
    # The generic decide page cannot evaluate without the score sheet.
    page = _act(client, project, "evaluate", "好").get_data(as_text=True)
    assert "评分表" in page
    client.post(f"/projectmodelview/evaluate/{project.id}", data=SHEET)
    project = _state(db_session, project)
    assert project.state is ProjectState.evaluated
    assert project.evaluation_score == Decimal("86.5")
    assert project.evaluation_result is EvaluationResult.good
    assert project.evaluation_opinion == "按期完成目标"
    assert project.evaluation_scores["satisfaction"] == "17.5"
    assert "良好" in client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)


def test_result_thresholds():
    from app.domain.funding.execution import result_for

    assert result_for(90) is EvaluationResult.excellent
    assert result_for(Decimal("89.9")) is EvaluationResult.good
    assert result_for(60) is EvaluationResult.qualified
    assert result_for(Decimal("59.9")) is EvaluationResult.unqualified


def _deadline_in(db_session, project, days):
    project.round.execution_end = clock.today() + dt.timedelta(days=days)
    project.round.evaluation_end = project.round.execution_end + dt.timedelta(days=30)
    project.round.matching_end = min(project.round.matching_end, project.round.execution_end)
    project.round.needs_filing_end = min(project.round.needs_filing_end,
                                         project.round.matching_end)
    project.round.needs_filing_start = min(project.round.needs_filing_start,
                                           project.round.needs_filing_end)
    db_session.commit()


def test_reminders_are_sent_once_per_user_and_offset(app, world, db_session):
    from app.jobs.projects import send_report_reminders

    _deadline_in(db_session, world["project"], 7)

    def reminders():
        return db_session.execute(
            select(Notification.user_id, Notification.channel, Notification.payload)
            .where(Notification.template == "projects.report_reminder")).all()

    send_report_reminders(reschedule=False)
    send_report_reminders(reschedule=False)
    db_session.expire_all()
    rows = reminders()
    users = {world["ent"].id, world["res"].id}
    assert {r.user_id for r in rows} == users
    site = [r for r in rows if r.channel.value == "site"]
    assert len(site) == 2 and {r.payload["offset"] for r in site} == {7}

    # A day later the 1-day reminder is not due yet; the 7-day one is not repeated.
    from app.domain.funding import execution

    assert execution.send_report_reminders(clock.today() + dt.timedelta(days=1)) == 0
    # On the last day the 1-day reminder goes out, once.
    assert execution.send_report_reminders(clock.today() + dt.timedelta(days=6)) > 0
    assert execution.send_report_reminders(clock.today() + dt.timedelta(days=6)) == 0
    db_session.commit()

    # Accepted projects get no reminder.
    assert execution.reminder_offset(7, (30, 7, 1)) == 7
    assert execution.reminder_offset(5, (30, 7, 1)) == 7
    assert execution.reminder_offset(31, (30, 7, 1)) is None


def test_no_reminder_for_accepted_projects(client, world, db_session):
    from app.domain.funding import execution

    project = _accepted(client, world, db_session)
    _deadline_in(db_session, project, 7)
    assert execution.send_report_reminders() == 0


def test_reminder_text(app, world, db_session):
    from app.core.notifications.outbox import render
    from app.domain.funding import execution

    _deadline_in(db_session, world["project"], 7)
    execution.send_report_reminders()
    db_session.commit()
    row = db_session.scalars(select(Notification).where(
        Notification.template == "projects.report_reminder")).first()
    subject, _body = render(row)
    assert "HB-EXEC-0001" in subject and "7" in subject and "总结报告" in subject


def test_overdue_flag_and_list(client, world, db_session, make):
    _deadline_in(db_session, world["project"], -3)
    login(client, "exec_province")
    page = client.get("/projectmodelview/list/").get_data(as_text=True)
    assert "HB-EXEC-0001" in page and "逾期" in page
    page = client.get("/projectmodelview/overdue/").get_data(as_text=True)
    assert "HB-EXEC-0001" in page and "甲企业有限公司" in page
    login(client, "exec_bureau_a")
    assert "HB-EXEC-0001" in client.get("/projectmodelview/overdue/").get_data(as_text=True)
    login(client, "exec_bureau_b")
    assert "HB-EXEC-0001" not in client.get("/projectmodelview/overdue/").get_data(as_text=True)
    login(client, "exec_ent")
    assert client.get("/projectmodelview/overdue/").status_code in (302, 403)


def test_service_record(client, world, db_session):
    """The certificate of service (服务企业证明) is a PDF, issued once the project has been
    evaluated: before that the researcher is sent back to the project with the reason."""
    project = world["project"]
    url = f"/projectmodelview/service_record/{project.id}"
    login(client, "exec_res")
    assert client.get(url).status_code == 302
    project = _accepted(client, world, db_session)
    login(client, "exec_res")
    assert client.get(url).status_code == 302  # self-accepted, not evaluated yet
    assert url not in client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)

    _deadline_in(db_session, project, -1)  # the evaluation phase
    login(client, "exec_province")
    client.post(f"/projectmodelview/evaluate/{project.id}", data=SHEET)
    assert _state(db_session, project).state is ProjectState.evaluated

    login(client, "exec_res")
    assert url in client.get(f"/projectmodelview/show/{project.id}").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "甲企业有限公司" in text and "注塑件缺陷在线检测" in text and "HB-EXEC-0001" in text
    assert world["researcher"].institution.name in text
    assert "张<script>alert(1)</script>" in text  # printed as text, never as markup

    login(client, "exec_province")
    assert client.get(url).status_code == 200
    login(client, "exec_other_res")
    assert client.get(url).status_code == 404
    login(client, "exec_bureau_b")
    assert client.get(url).status_code == 404
    login(client, "exec_ent")
    assert client.get(url).status_code in (302, 403, 404)


def test_remind_cli(app, world, db_session):
    _deadline_in(db_session, world["project"], 30)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["projects", "remind"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count(Notification.id)).where(
        Notification.template == "projects.report_reminder")) > 0


def _english(client, username):
    login(client, username)
    client.get("/language/en")  # the new messages are asserted in English


def _until(project):
    return f"was possible until {project.round.execution_end}, the end of the"


@pytest.mark.parametrize("step", ["report", "confirm", "accept"])
def test_execution_steps_are_refused_after_the_execution_end(client, world, db_session, step):
    """SPEC §4: out of phase, refused with the deadline named; the project stays overdue."""
    project = world["project"]
    login(client, "exec_ent")
    _upload(client, project)
    if step in ("confirm", "accept"):
        _act(client, project, "report")
    if step == "accept":
        login(client, "exec_res")
        _act(client, project, "confirm")
    _deadline_in(db_session, project, -1)
    before = _state(db_session, project)
    state, confirmed = before.state, before.researcher_confirmed_at

    _english(client, "exec_res" if step == "confirm" else "exec_ent")
    page = _act(client, project, step).get_data(as_text=True)
    assert _until(project) in page and "deadline has passed" in page
    after = _state(db_session, project)
    assert after.state is state and after.researcher_confirmed_at == confirmed
    # Exactly these projects are overdue: they can no longer report or be accepted.
    login(client, "exec_province")
    assert "HB-EXEC-0001" in client.get("/projectmodelview/overdue/").get_data(as_text=True)


def test_the_deadline_day_itself_is_still_in_time(client, world, db_session):
    _deadline_in(db_session, world["project"], 0)
    project = _accepted(client, world, db_session)
    assert project.self_accepted_at is not None
    login(client, "exec_province")
    assert "HB-EXEC-0001" not in client.get("/projectmodelview/overdue/").get_data(as_text=True)


def test_evaluation_only_in_the_evaluation_phase(client, world, db_session):
    project = _accepted(client, world, db_session)  # self-accepted early, during execution
    _english(client, "exec_province")
    url = f"/projectmodelview/evaluate/{project.id}"
    first_day = project.round.execution_end + dt.timedelta(days=1)
    form = client.get(url).get_data(as_text=True)
    assert f"takes place from {first_day} to {project.round.evaluation_end}" in form
    # The grading scale, with the English separator (the Chinese “；” used to show here).
    assert ("Excellent ≥ 90; Good ≥ 80; Qualified ≥ 60; below that: Unqualified" in form
            and "；" not in form)

    def refused():
        page = client.post(url, data=SHEET, follow_redirects=True).get_data(as_text=True)
        evaluated = _state(db_session, project)
        assert evaluated.state is ProjectState.accepted and evaluated.evaluation_score is None
        return page

    # Outside its phase the score sheet is shown closed, with the dates it opens.
    assert "<fieldset disabled" in form and "closed now" in form
    # Refused on the server too, and what was typed is kept.
    kept = client.post(url, data={**SHEET, "opinion": "typed before the phase"})
    assert "typed before the phase" in kept.get_data(as_text=True)

    # Before the execution end: the evaluation phase, and its end, are named.
    page = refused()
    assert "only possible during" in page and "Performance evaluation" in page
    assert f"until {project.round.evaluation_end}" in page
    # After the evaluation end: refused as well.
    _deadline_in(db_session, project, -40)
    assert "Closed" in refused()
    # In the phase: open, and recorded.
    _deadline_in(db_session, project, -1)
    assert "<fieldset disabled" not in client.get(url).get_data(as_text=True)
    client.post(url, data=SHEET)
    assert _state(db_session, project).state is ProjectState.evaluated
