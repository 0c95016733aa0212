"""Docking over HTTP (notice §三(三)(四)): a researcher writes and submits a proposal, the
enterprise compares, shortlists, talks and selects, and nobody else reads what is not theirs."""
import email
import email.policy
import io
import re
from decimal import Decimal

import pytest
from helpers import api_headers, login, work
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import (
    ComparisonCriterion,
    Message,
    NeedState,
    Notification,
    Proposal,
    ProposalScore,
    ProposalState,
    ResearcherState,
)
from app.models.proposal import ACTIVE_STATES
from app.utils import clock

A, B = "420100", "420500"  # 武汉, 宜昌
COMPLETE = {"approach": "采用机器视觉在线检测并闭环调整工艺参数", "expected_results": "良品率由90%提高到98%",
            "timeline": "2026-03 完成样机\n2026-06 产线验证", "budget": "80000",
            "team": "李四 教授；王五 博士生"}


@pytest.fixture()
def world(make):
    enterprise = make.enterprise(A)
    need = make.need(enterprise, NeedState.published, title="注塑件缺陷在线检测")
    w = {"enterprise": enterprise, "need": need,
         "ent": make.user("Enterprise", "dock_ent", enterprise_id=enterprise.id)}
    for n in (1, 2, 3):
        researcher = make.researcher(A, name=f"研究员甲{n}")
        w[f"r{n}"] = researcher
        w[f"res{n}"] = make.user("Researcher", f"dock_res{n}", researcher_id=researcher.id)
    other = make.enterprise(B)
    w["other_need"] = make.need(other, NeedState.published, title="宜昌的需求")
    w["other_ent"] = make.user("Enterprise", "dock_other_ent", enterprise_id=other.id)
    w["bureau_a"] = make.user("Bureau", "dock_bureau_a", region_id=make.region(A).id)
    w["bureau_b"] = make.user("Bureau", "dock_bureau_b", region_id=make.region(B).id)
    w["platform"] = make.user("Platform", "dock_platform")
    return w


def _add_draft(client, need, data=None):
    return client.post(f"/proposalmodelview/add?need={need.id}", data=data or COMPLETE,
                       follow_redirects=True)


def _proposal(db_session, researcher, need):
    return db_session.scalars(select(Proposal).where(Proposal.researcher_id == researcher.id,
                                                     Proposal.need_id == need.id)
                              .order_by(Proposal.id.desc())).first()


def _act(client, proposal, action, reason=""):
    return client.post(f"/docking/proposal/{proposal.id}/decide",
                       data={"action": action, "reason": reason}, follow_redirects=True)


def test_a_researcher_writes_keeps_a_draft_and_submits(client, world, db_session):
    login(client, "dock_res1")
    form = client.get(f"/proposalmodelview/add?need={world['need'].id}").get_data(as_text=True)
    assert "注塑件缺陷在线检测" in form
    page = _add_draft(client, world["need"], {"approach": "先写个思路"}).get_data(as_text=True)
    draft = _proposal(db_session, world["r1"], world["need"])
    assert draft.state is ProposalState.draft and draft.approach == "先写个思路"
    assert "预期成果" in page  # the missing sections are named beside the draft

    # The draft is the researcher's own: the enterprise does not see it anywhere.
    login(client, "dock_ent")
    assert client.get(f"/proposalmodelview/show/{draft.id}").status_code == 404
    assert "先写个思路" not in client.get("/proposalmodelview/list/").get_data(as_text=True)
    assert client.get(f"/api/v1/proposal/{draft.id}",
                      headers=api_headers(client, "dock_ent")).status_code == 404

    # Submitting a half-written proposal is refused and changes nothing.
    login(client, "dock_res1")
    page = client.post(f"/proposalmodelview/decide/{draft.id}", data={"action": "submit"},
                       follow_redirects=True).get_data(as_text=True)
    assert "请先完善" in page
    db_session.refresh(draft)
    assert draft.state is ProposalState.draft

    client.post(f"/proposalmodelview/edit/{draft.id}", data=COMPLETE)
    client.post(f"/proposalmodelview/decide/{draft.id}", data={"action": "submit"})
    db_session.refresh(draft)
    assert draft.state is ProposalState.submitted and draft.budget == Decimal(80000)
    told = db_session.scalars(select(Notification).where(
        Notification.user_id == world["ent"].id,
        Notification.template == "proposals.submit")).all()
    assert told, "the enterprise is told of a new proposal"

    # Submitted, it can no longer be changed (withdraw and write again instead).
    page = client.post(f"/proposalmodelview/edit/{draft.id}", data={**COMPLETE, "approach": "改"},
                       follow_redirects=True).get_data(as_text=True)
    db_session.refresh(draft)
    assert draft.approach == COMPLETE["approach"] and "草稿" in page


def test_one_active_proposal_per_researcher_and_need(client, world, db_session, make):
    login(client, "dock_res1")
    _add_draft(client, world["need"])
    page = _add_draft(client, world["need"]).get_data(as_text=True)
    assert "您对该需求已有技术方案" in page
    proposals = db_session.scalars(select(Proposal).where(
        Proposal.researcher_id == world["r1"].id)).all()
    assert len(proposals) == 1
    client.post(f"/proposalmodelview/decide/{proposals[0].id}", data={"action": "withdraw"})
    _add_draft(client, world["need"])
    db_session.expire_all()
    states = sorted(p.state.value for p in db_session.scalars(select(Proposal).where(
        Proposal.researcher_id == world["r1"].id)))
    assert states == ["draft", "withdrawn"]
    # The database refuses a second active proposal even when the code is bypassed.
    db_session.add(Proposal(need=world["need"], researcher=world["r1"], state=ProposalState.submitted))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_the_active_proposal_lookup_is_served_by_the_partial_index(world, db_session, make):
    """A need's page asks for the researcher's active proposal on every view. With the states
    as bound parameters no planner can prove that uq_proposal_active applies (SQLite never,
    PostgreSQL not in a generic plan), and the IN list was re-expanded on each execution."""
    from app.domain.docking import proposals as docking

    statement = docking._active_statement(True)
    compiled = statement.compile(db_session.get_bind())
    assert not {state.value for state in ACTIVE_STATES} & set(map(str, compiled.params.values()))
    r1, need = world["r1"], world["need"]
    found = make.proposal(need=need, researcher=r1, state=ProposalState.submitted)
    db_session.flush()
    assert docking.active_proposal(need.id, r1.id, brief=True) == (found.id, found.state)
    found.state = ProposalState.withdrawn
    db_session.flush()
    assert docking.active_proposal(need.id, r1.id, brief=True) is None
    if db_session.get_bind().dialect.name == "sqlite":
        plan = db_session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(compiled.construct_params({"need_id": need.id, "researcher_id": r1.id})
                  [name] for name in compiled.positiontup)).all()
        assert any("uq_proposal_active" in row[-1] for row in plan), plan
    else:  # the generic plan a prepared statement gets after five executions
        names = list(compiled.params)
        sql = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", str(compiled))
        conn = db_session.connection()
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("PREPARE active_probe AS " + sql)
        try:
            plan = " ".join(row[0] for row in conn.exec_driver_sql(
                "EXPLAIN EXECUTE active_probe({})".format(", ".join(["1"] * len(names)))))
        finally:
            conn.exec_driver_sql("DEALLOCATE active_probe")
        assert "uq_proposal_active" in plan, plan


@pytest.mark.parametrize("case", ["not_approved", "draft_need", "other_role", "closed_round"])
def test_who_may_not_write_a_proposal(client, world, db_session, make, case):
    need = world["need"]
    username = "dock_res1"
    if case == "not_approved":
        researcher = make.researcher(A, state=ResearcherState.submitted)
        make.user("Researcher", "dock_pending", researcher_id=researcher.id)
        username, expected = "dock_pending", "审核通过"
    elif case == "draft_need":
        need = make.need(world["enterprise"], NeedState.submitted)
        expected = "请选择一项已发布的需求"
    elif case == "other_role":
        username, expected = "dock_ent", None
    else:
        program_round = need.round
        import datetime as dt

        past = clock.today() - dt.timedelta(days=1)
        program_round.needs_filing_start = past - dt.timedelta(days=30)
        program_round.needs_filing_end = past - dt.timedelta(days=20)
        program_round.matching_end = past
        db_session.commit()
        expected = "对接已于"
    login(client, username)
    before = db_session.scalar(select(Proposal.id).order_by(Proposal.id.desc()).limit(1))
    response = _add_draft(client, need)
    if expected is None:
        assert response.status_code in (403, 404) or "权限" in response.get_data(as_text=True)
    else:
        assert expected in response.get_data(as_text=True)
    assert db_session.scalar(select(Proposal.id).order_by(Proposal.id.desc()).limit(1)) == before


def _three_proposals(make, world):
    return [make.proposal(world["need"], world[f"r{n}"], approach=f"方案{n}的技术路线")
            for n in (1, 2, 3)]


def test_the_enterprise_compares_side_by_side_with_its_own_weighted_scores(
        client, world, db_session, make):
    p1, p2, p3 = _three_proposals(make, world)
    login(client, "dock_ent")
    url = f"/docking/need/{world['need'].id}/compare?p={p1.id}&p={p2.id}&p={p3.id}"
    page = client.get(url).get_data(as_text=True)
    for n in (1, 2, 3):
        assert f"方案{n}的技术路线" in page and f"研究员甲{n}" in page
    assert "技术契合度" in page and "可行性" in page  # the default criteria

    form = {"p": [p1.id, p2.id, p3.id], "rows": "5",
            "c0-code": "fit", "c0-name": "技术契合度", "c0-weight": "50",
            "c1-code": "feasibility", "c1-name": "可行性", "c1-weight": "50",
            "c2-code": "cost", "c2-name": "成本", "c2-remove": "1", "c2-weight": "20",
            "c3-code": "team", "c3-name": "团队", "c3-remove": "1", "c3-weight": "10",
            "c4-name": "知识产权", "c4-weight": "0",
            f"c0-s{p1.id}": "8", f"c1-s{p1.id}": "6",
            f"c0-s{p2.id}": "9", f"c1-s{p2.id}": "9",
            f"c0-s{p3.id}": "5"}
    page = client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "已保存" in page
    criteria = db_session.scalars(select(ComparisonCriterion).where(
        ComparisonCriterion.need_id == world["need"].id)
        .order_by(ComparisonCriterion.position)).all()
    assert [(c.label, c.weight) for c in criteria] == [("技术契合度", 50), ("可行性", 50),
                                                       ("知识产权", 0)]
    assert criteria[0].code == "fit" and criteria[2].code is None
    assert "7.00" in page and "9.00" in page  # (8×50+6×50)/100 and (9×50+9×50)/100
    assert "未评完" in page  # p3 lacks a feasibility score

    # A bad score is refused alone: it keeps its stored value, comes back as typed beside
    # its box, and every other score typed with it is saved.
    again = {"p": [p1.id, p2.id, p3.id], "rows": "4",
             **{f"c{i}-id": str(c.id) for i, c in enumerate(criteria)},
             **{f"c{i}-name": c.label for i, c in enumerate(criteria)},
             **{f"c{i}-weight": str(c.weight) for i, c in enumerate(criteria)},
             f"c0-s{p1.id}": "8", f"c1-s{p1.id}": "6", f"c0-s{p2.id}": "9",
             f"c1-s{p2.id}": "9", f"c0-s{p3.id}": "5"}
    for n, bad in enumerate(("12", "abc", "-1", "NaN")):
        response = client.post(url, data={**again, f"c0-s{p1.id}": bad,
                                           f"c1-s{p3.id}": str(n + 1)})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert "0 到 10" in page and f'value="{bad}"' in page, bad
        assert db_session.scalar(select(ProposalScore.score).where(
            ProposalScore.proposal_id == p3.id,
            ProposalScore.criterion_id == criteria[1].id)) == n + 1, bad
    saved = db_session.scalars(select(ProposalScore).where(ProposalScore.proposal_id == p1.id))
    assert sorted(s.score for s in saved) == [Decimal(6), Decimal(8)]

    # A criterion that cannot be saved changes nothing and gives the whole table back as typed.
    response = client.post(url, data={**again, "c0-weight": "500", f"c1-s{p1.id}": "3"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="500"' in page and "0 到" in page
    assert db_session.scalar(select(ProposalScore.score).where(
        ProposalScore.proposal_id == p1.id, ProposalScore.criterion_id == criteria[1].id)) == 6

    # Shortlisting from the comparison saves the scores typed with it first.
    response = client.post(url, data={**again, f"c1-s{p3.id}": "7",
                                      "decide": f"{p2.id}:shortlist"}, follow_redirects=True)
    assert response.status_code == 200
    assert db_session.scalar(select(ProposalScore.score).where(
        ProposalScore.proposal_id == p3.id, ProposalScore.criterion_id == criteria[1].id)) == 7
    db_session.refresh(p2)
    assert p2.state == ProposalState.shortlisted

    # The scores are the enterprise's own: the researcher cannot open the comparison.
    login(client, "dock_res1")
    assert client.get(url).status_code in (302, 403, 404)


@pytest.mark.parametrize("ids", ["one", "six", "others", "draft"])
def test_a_comparison_needs_two_to_five_of_the_needs_proposals(client, world, db_session, make,
                                                                ids):
    ps = _three_proposals(make, world)
    chosen = {"one": [ps[0].id],
              "six": [p.id for p in ps] + [p.id + 100 for p in ps],
              "others": [ps[0].id, make.proposal(world["other_need"], world["r1"]).id],
              "draft": [ps[0].id, make.proposal(world["need"], make.researcher(A),
                                                state=ProposalState.draft).id]}[ids]
    login(client, "dock_ent")
    query = "&".join(f"p={i}" for i in chosen)
    page = client.get(f"/docking/need/{world['need'].id}/compare?{query}",
                      follow_redirects=True).get_data(as_text=True)
    assert "方案2的技术路线" not in page
    assert "请选择" in page or "只能比较" in page


def test_shortlist_decline_with_reason_and_select_move_the_need_to_docking(
        client, world, db_session, make):
    p1, p2, p3 = _three_proposals(make, world)
    login(client, "dock_ent")
    _act(client, p1, "shortlist")
    _act(client, p2, "shortlist")
    _act(client, p3, "decline", "预算超出计划")
    for p in (p1, p2, p3):
        db_session.refresh(p)
    assert (p1.state, p2.state, p3.state) == (ProposalState.shortlisted, ProposalState.shortlisted,
                                              ProposalState.declined)
    assert p3.decline_reason == "预算超出计划"
    _act(client, p1, "select")
    _act(client, p2, "select")  # more than one researcher may be selected
    db_session.expire_all()
    assert world["need"].state is NeedState.docking
    assert {p1.state, p2.state} == {ProposalState.selected}

    # The researcher sees the reason on their proposal and on their docking page.
    login(client, "dock_res3")
    assert "预算超出计划" in client.get(f"/proposalmodelview/show/{p3.id}").get_data(as_text=True)
    desk = client.get("/docking/").get_data(as_text=True)
    assert "预算超出计划" in desk and "未采纳" in desk
    # A selected proposal can no longer be withdrawn.
    login(client, "dock_res1")
    client.post(f"/proposalmodelview/decide/{p1.id}", data={"action": "withdraw"})
    db_session.refresh(p1)
    assert p1.state is ProposalState.selected


def test_decisions_on_someone_elses_proposal_answer_404(client, world, db_session, make):
    theirs = make.proposal(world["other_need"], world["r1"])
    for username in ("dock_ent", "dock_res1", "dock_bureau_a"):
        login(client, username)
        assert client.post(f"/docking/proposal/{theirs.id}/decide",
                           data={"action": "shortlist"}).status_code in (403, 404)
    db_session.refresh(theirs)
    assert theirs.state is ProposalState.submitted


def test_withdrawing_before_selection(client, world, db_session, make):
    p1 = make.proposal(world["need"], world["r1"], state=ProposalState.shortlisted)
    login(client, "dock_res1")
    client.post(f"/proposalmodelview/decide/{p1.id}", data={"action": "withdraw"})
    db_session.refresh(p1)
    assert p1.state is ProposalState.withdrawn


def _thread(client, proposal, body, attachment=None):
    data = {"body": body}
    if attachment is not None:
        data["attachment"] = attachment
    return client.post(f"/docking/thread/{proposal.id}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def test_a_thread_between_the_two_sides_notifies_the_other(client, world, db_session, make):
    proposal = make.proposal(world["need"], world["r1"])
    login(client, "dock_ent")
    page = _thread(client, proposal, "想先聊聊").get_data(as_text=True)
    assert "入围" in page  # not before the shortlist
    assert db_session.scalars(select(Message)).first() is None

    _act(client, proposal, "shortlist")
    pdf = (io.BytesIO(b"%PDF-1.4 test"), "检测数据.pdf")
    _thread(client, proposal, "请问样机周期多长？<script>alert(1)</script>", pdf)
    message = db_session.scalars(select(Message).where(Message.proposal_id == proposal.id)).one()
    assert message.attachment.endswith("检测数据.pdf")
    told = db_session.scalars(select(Notification).where(
        Notification.user_id == world["res1"].id, Notification.template == "messages.new")).all()
    assert told and told[0].payload["path"] == f"/docking/thread/{proposal.id}"

    login(client, "dock_res1")
    assert "1" in client.get("/docking/").get_data(as_text=True)
    page = client.get(f"/docking/thread/{proposal.id}").get_data(as_text=True)
    assert "请问样机周期多长？" in page and "<script>alert(1)</script>" not in page
    download = client.get(f"/messagemodelview/download/{message.attachment}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    download.close()
    _thread(client, proposal, "约三个月。")
    assert db_session.scalars(select(Notification).where(
        Notification.user_id == world["ent"].id, Notification.template == "messages.new")).all()
    db_session.refresh(message)
    assert message.read_at is not None

    # A bad attachment is refused and the message is not lost half-way.
    page = _thread(client, proposal, "附件", (io.BytesIO(b"MZ\x90\x00"), "tool.exe"))
    assert "附件" in page.get_data(as_text=True)
    assert len(db_session.scalars(select(Message)).all()) == 2


@pytest.mark.parametrize("username", ["dock_res2", "dock_other_ent", "dock_bureau_b"])
def test_nobody_else_reads_or_writes_a_thread(client, world, db_session, make, username):
    proposal = make.proposal(world["need"], world["r1"], state=ProposalState.shortlisted)
    db_session.add(Message(proposal_id=proposal.id, sender_id=world["ent"].id, body="机密报价"))
    db_session.commit()
    message = db_session.scalars(select(Message)).one()
    login(client, username)
    assert client.get(f"/docking/thread/{proposal.id}").status_code in (403, 404)
    assert _thread(client, proposal, "插一句").status_code in (403, 404)
    assert client.get(f"/messagemodelview/show/{message.id}").status_code in (403, 404)
    assert "机密报价" not in client.get("/messagemodelview/list/").get_data(as_text=True)
    headers = api_headers(client, username)
    assert client.get(f"/api/v1/message/{message.id}", headers=headers).status_code in (403, 404)
    listing = client.get("/api/v1/message/", headers=headers)
    assert listing.status_code == 403 or listing.json["count"] == 0
    assert client.get(f"/api/v1/proposal/{proposal.id}", headers=headers).status_code in (403, 404)
    assert len(db_session.scalars(select(Message)).all()) == 1


@pytest.mark.parametrize("username", ["dock_platform", "dock_bureau_a"])
def test_staff_read_the_threads_of_their_jurisdiction_but_do_not_write(
        client, world, db_session, make, username):
    proposal = make.proposal(world["need"], world["r1"], state=ProposalState.shortlisted)
    db_session.add(Message(proposal_id=proposal.id, sender_id=world["ent"].id, body="报价八万"))
    db_session.commit()
    login(client, username)
    assert "报价八万" in client.get(f"/docking/thread/{proposal.id}").get_data(as_text=True)
    _thread(client, proposal, "工作人员插话")
    assert len(db_session.scalars(select(Message)).all()) == 1


def test_docking_progress_for_staff_by_jurisdiction(client, world, db_session, make):
    p1, p2, p3 = _three_proposals(make, world)
    make.proposal(world["need"], make.researcher(A), state=ProposalState.draft)  # not counted
    make.proposal(world["other_need"], world["r1"])
    for proposal, state in ((p1, ProposalState.shortlisted), (p3, ProposalState.declined)):
        proposal.state = state
    db_session.commit()
    login(client, "dock_platform")
    page = client.get("/docking/progress/").get_data(as_text=True)
    assert "注塑件缺陷在线检测" in page and "宜昌的需求" in page
    row = page[page.index("注塑件缺陷在线检测"):]
    row = re.sub(r"\s+", "", row[:row.index("</tr>")])
    # proposals (the draft not counted), shortlisted, selected, declined, withdrawn, messages
    assert ">3</a></td><td>1</td><td>0</td><td>1</td><td>0</td><td>0</td>" in row

    login(client, "dock_bureau_b")
    page = client.get("/docking/progress/").get_data(as_text=True)
    assert "宜昌的需求" in page and "注塑件缺陷在线检测" not in page

    for username in ("dock_ent", "dock_res1"):
        login(client, username)
        assert client.get("/docking/progress/").status_code in (302, 403)


def test_the_researchers_page_shows_recommended_needs_and_proposals(client, world, db_session,
                                                                     make):
    from app.models import Match, MatchDirection

    fresh = make.need(world["enterprise"], NeedState.published, title="推荐给我的需求")
    # Publishing may already have matched them; the page shows whatever matching stored.
    if db_session.scalars(select(Match).where(Match.need_id == fresh.id,
                                              Match.researcher_id == world["r1"].id)).first() is None:
        db_session.add(Match(need=fresh, researcher=world["r1"], score=0.8, reasons={},
                             direction=MatchDirection.researcher_to_need))
    make.proposal(world["need"], world["r1"])
    db_session.commit()
    login(client, "dock_res1")
    page = client.get("/docking/").get_data(as_text=True)
    assert "推荐给我的需求" in page and f"/proposalmodelview/add?need={fresh.id}" in page
    assert "注塑件缺陷在线检测" in page and "已提交" in page
    detail = client.get(f"/needs/{fresh.id}").get_data(as_text=True)
    assert f"/proposalmodelview/add?need={fresh.id}" in detail
    detail = client.get(f"/needs/{world['need'].id}").get_data(as_text=True)
    assert "您对该需求已有技术方案" in detail


def test_a_message_arrives_by_email_through_the_outbox(app, client, world, db_session, make,
                                                      smtp, async_queue):
    proposal = make.proposal(world["need"], world["r1"], state=ProposalState.shortlisted)
    login(client, "dock_ent")
    _thread(client, proposal, "下周三来厂里看产线可以吗？")
    work(app, async_queue)
    to_researcher = [m for m in smtp.messages if world["r1"].email in m.rcpt_tos
                     or world["res1"].email in m.rcpt_tos]
    assert len(to_researcher) == 1
    mail = email.message_from_bytes(to_researcher[0].content, policy=email.policy.default)
    assert "注塑件缺陷在线检测" in mail["Subject"]
    assert "下周三来厂里看产线可以吗？" in mail.get_body().get_content()


def test_two_selections_at_once_one_is_told_to_reload(world, db_session, make):
    """Another selection moved the need to docking meanwhile: this one is refused whole (the
    proposal stays shortlisted, no review is written) and succeeds once reloaded."""
    from sqlalchemy import text
    from sqlalchemy.orm.attributes import set_committed_value

    from app.models import ReviewRecord
    from app.workflows import ConcurrentDecision, apply_action

    need = world["need"]
    p1 = make.proposal(need, world["r1"], state=ProposalState.shortlisted)
    loaded_version = need.version
    db_session.execute(text("UPDATE needs SET state='docking', version = version + 1 "
                            "WHERE id = :id"), {"id": need.id})
    db_session.commit()
    set_committed_value(need, "version", loaded_version)
    set_committed_value(need, "state", NeedState.published)
    with pytest.raises(ConcurrentDecision):
        apply_action(p1, "select", world["ent"])
    db_session.expire_all()
    assert p1.state is ProposalState.shortlisted and need.state is NeedState.docking
    assert db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_type == "proposals", ReviewRecord.subject_id == p1.id)).all() == []
    apply_action(p1, "select", world["ent"])
    db_session.commit()
    assert p1.state is ProposalState.selected


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_proposals_attachment_reaches_the_needs_enterprise_and_nobody_else(client, world,
                                                                             db_session):
    login(client, "dock_res1")
    response = client.post(f"/proposalmodelview/add?need={world['need'].id}", data={
        **COMPLETE, "attachment": (io.BytesIO(PDF), "技术方案书.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    proposal = _proposal(db_session, world["r1"], world["need"])
    assert proposal.attachment and proposal.attachment.endswith("技术方案书.pdf")
    url = f"/proposalmodelview/download/{proposal.attachment}"
    own = client.get(url)
    assert own.status_code == 200 and own.data == PDF
    assert "%E6%8A%80%E6%9C%AF" in own.headers["Content-Disposition"]  # its Chinese name
    own.close()
    login(client, "dock_ent")
    assert client.get(url).status_code == 404  # a draft is the researcher's own
    login(client, "dock_res1")
    client.post(f"/proposalmodelview/decide/{proposal.id}", data={"action": "submit"})
    db_session.refresh(proposal)
    assert proposal.state is ProposalState.submitted
    for username, status in (("dock_ent", 200), ("dock_res2", 404), ("dock_other_ent", 404),
                             ("dock_bureau_b", 404)):
        login(client, username)
        answer = client.get(url)
        assert answer.status_code == status, username
        answer.close()
