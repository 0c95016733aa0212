"""Each role's desk over HTTP, in two regions: every to-do count equals the rows of the list it
links to, a bureau never counts another region's rows, what is not a list is counted as the
rule says; the desk costs one statement once kept."""
import datetime as dt
import re

import pytest
from helpers import get_with_statements, login
from sqlalchemy import select

from app.models import (
    ContractState,
    EnterpriseState,
    Message,
    NeedState,
    Notification,
    NotificationState,
    ProjectState,
    ProposalState,
    ResearcherState,
    WhitelistStatus,
)
from app.models.mixins import utcnow
from app.utils import clock

A, B = "420100", "420500"
TODO = re.compile(r'href="([^"]+)" data-todo="(\w+)">\s*<span class="badge">(\d+)</span>')
ZERO = re.compile(r'href="([^"]+)" data-todo="(\w+)">')
LIST_COUNT = re.compile(r"<strong>[^<]*:</strong>\s*(\d+)")


def _side(make, code, side):
    """One region's records, a few of each kind the desks count, and its accounts."""
    owner = make.enterprise(code, whitelist_status=WhitelistStatus.not_found)
    researcher = make.researcher(code)
    make.enterprise(code, state=EnterpriseState.submitted)
    make.enterprise(code, state=EnterpriseState.returned)
    make.researcher(code, state=ResearcherState.submitted)
    for state in (NeedState.submitted, NeedState.submitted, NeedState.recommended,
                  NeedState.draft, NeedState.returned_by_bureau, NeedState.returned_by_platform):
        make.need(owner, state)
    stalled = make.need(owner, NeedState.published, title=f"{side}无人问津")
    stalled.published_at = utcnow() - dt.timedelta(days=40)
    make.save(stalled)
    published = make.need(owner, NeedState.published)
    other = make.need(owner, NeedState.published)
    third = make.need(owner, NeedState.published)
    users = {
        "Enterprise": make.user("Enterprise", f"desk_ent_{side}", enterprise_id=owner.id),
        "Researcher": make.user("Researcher", f"desk_res_{side}", researcher_id=researcher.id),
        "Bureau": make.user("Bureau", f"desk_bureau_{side}", region_id=make.region(code).id),
    }
    shortlisted = make.proposal(published, researcher, ProposalState.shortlisted)
    make.proposal(other, researcher, ProposalState.selected)  # no contract yet
    make.proposal(third, researcher, ProposalState.draft)
    make.save(Message(proposal_id=shortlisted.id, sender_id=users["Enterprise"].id,
                      body="请补充样机参数"))
    contracted = make.need(owner, NeedState.contracted)
    make.contract(contracted, researcher)  # submitted
    returned = make.contract(make.need(owner, NeedState.contracted), researcher)
    returned.state, returned.return_reason = ContractState.returned, "发票抬头不符"
    make.save(returned)
    # One funded project per enterprise and round: the owner's is funded, other enterprises of
    # the region hold the others (the researcher works on all four).
    for state in (ProjectState.funded, ProjectState.reported, ProjectState.accepted,
                  ProjectState.evaluated):
        holder = owner if state is ProjectState.funded else make.enterprise(code)
        contract = make.contract(make.need(holder, NeedState.contracted), researcher)
        contract.state = ContractState.approved
        project = make.project(make.save(contract))
        project.state = state
        make.save(project)
    # 公示: one proposed project not published yet, one on a list with an objection waiting.
    for listed in (False, True):
        contract = make.contract(make.need(make.enterprise(code), NeedState.contracted),
                                 researcher)
        contract.state = ContractState.approved
        project = make.project(make.save(contract), state=ProjectState.proposed)
        if listed:
            make.objection(project)
    return users


@pytest.fixture()
def desks(make):
    users = {}
    for side, code in (("A", A), ("B", B)):
        users.update({(role, side): user for role, user in _side(make, code, side).items()})
    failed = make.save(Notification(user_id=users[("Enterprise", "A")].id, channel="email",
                                    template="needs.publish", payload={},
                                    idempotency_key="desk:failed", state=NotificationState.failed))
    assert failed.id
    for role in ("Platform", "Province", "Admin"):
        users[(role, None)] = make.user(role, f"desk_{role.lower()}")
    return users


def _todos(client):
    page = client.get("/office/").get_data(as_text=True)
    found = {key: (int(count), href.replace("&amp;", "&"))
             for href, key, count in TODO.findall(page)}
    for href, key in ZERO.findall(page):
        found.setdefault(key, (0, href.replace("&amp;", "&")))
    return found


def _list_count(client, href) -> int:
    page = client.get(href).get_data(as_text=True)
    counts = LIST_COUNT.findall(page)
    return int(counts[-1]) if counts else 0


LISTED = {"enterprises_to_verify", "needs_to_recommend", "needs_to_publish",
          "researchers_to_vet", "enterprises_not_found", "failed_notifications",
          "contracts_to_approve", "evaluations_to_record", "reports_submitted",
          "registration_returned", "needs_returned_by_bureau", "needs_returned_by_platform",
          "contracts_returned", "needs_draft", "reports_due", "acceptance_due",
          "proposals_selected", "proposals_shortlisted", "proposals_draft", "service_records",
          "enterprises_returned", "needs_returned", "objections_to_decide"}


@pytest.mark.parametrize("role", ["Bureau", "Platform", "Province", "Enterprise", "Researcher"])
def test_every_listed_count_equals_the_rows_of_its_list(client, desks, role):
    key = (role, "A") if (role, "A") in desks else (role, None)
    login(client, desks[key].username)
    todos = _todos(client)
    listed = {k: v for k, v in todos.items() if k in LISTED}
    assert listed, todos
    for item, (count, href) in listed.items():
        assert _list_count(client, href) == count, (role, item, href)


# What the region-A user of each role must count: built by _side (each region the same).
EXPECTED = {
    "Bureau": {"enterprises_to_verify": 1, "needs_to_recommend": 2, "enterprises_returned": 1,
               "needs_returned": 1, "needs_without_proposals": 1},
    "Enterprise": {"needs_draft": 1, "needs_returned_by_bureau": 1,
                   "needs_returned_by_platform": 1, "contracts_returned": 1,
                   "contracts_to_submit": 1, "reports_due": 1, "acceptance_due": 0,
                   "threads_unread": 0},
    "Researcher": {"proposals_shortlisted": 1, "proposals_selected": 1, "proposals_draft": 1,
                   "threads_unread": 1, "cosign_requested": 1, "service_records": 1},
    "Platform": {"needs_to_publish": 2, "researchers_to_vet": 2, "enterprises_not_found": 2,
                 "failed_notifications": 1, "needs_without_proposals": 2},
    "Province": {"contracts_to_approve": 2, "reports_submitted": 2, "evaluations_to_record": 2,
                 "projects_to_publicise": 2, "objections_to_decide": 2},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_counts_its_own_work_and_a_bureau_its_own_region(client, desks, role):
    key = (role, "A") if (role, "A") in desks else (role, None)
    login(client, desks[key].username)
    counts = {k: v[0] for k, v in _todos(client).items()}
    for item, expected in EXPECTED[role].items():
        assert counts.get(item) == expected, (role, item, counts.get(item))


def test_new_since_the_last_visit_counts_what_came_after_it(client, desks, make):
    login(client, desks[("Enterprise", "A")].username)
    before = _todos(client)["proposals_new"][0]
    assert before >= 1  # never visited: every proposal received is new
    assert client.get("/docking/").status_code == 200  # the enterprise looks at its desk
    assert _todos(client)["proposals_new"][0] == 0


@pytest.mark.parametrize("role", ["Bureau", "Platform", "Province", "Enterprise", "Researcher",
                                  "Admin"])
def test_the_desk_costs_one_statement_once_kept(client, desks, role):
    """The user with the tokens of the desk's tables: no count, no panel, no frame."""
    key = (role, "A") if (role, "A") in desks else (role, None)
    login(client, desks[key].username)
    client.get("/office/")
    _response, statements = get_with_statements(client, "/office/")
    assert len(statements) == 1, statements


def test_a_write_to_a_counted_table_counts_again_in_its_region_only(client, desks, make):
    login(client, desks[("Bureau", "A")].username)
    before = _todos(client)["enterprises_to_verify"][0]
    login(client, desks[("Bureau", "B")].username)
    other = _todos(client)["enterprises_to_verify"][0]
    make.enterprise(A, state=EnterpriseState.submitted)
    assert _todos(client)["enterprises_to_verify"][0] == other
    login(client, desks[("Bureau", "A")].username)
    assert _todos(client)["enterprises_to_verify"][0] == before + 1


def test_every_item_reading_the_clock_is_kept_a_minute_at_most():
    """Generated from the table: an item whose rows depend on the time of day must say so, or
    its kept count would hold past the minute (a lock that has expired still counted)."""
    from types import SimpleNamespace

    from app.domain.desk.todo import ITEMS, Context

    user = SimpleNamespace(id=1, region_id=1, enterprise_id=1, researcher_id=1)

    def compiled(item, minute):
        ctx = Context(user, dt.date(2026, 1, 5), minute, {}, 14)
        statement = select(item.model.id).where(*item.where(ctx))
        return str(statement.compile(compile_kwargs={"literal_binds": True}))

    early, late = dt.datetime(2026, 1, 5, 9, 0), dt.datetime(2026, 1, 5, 9, 1)
    moving = {item.key for item in ITEMS if compiled(item, early) != compiled(item, late)}
    assert moving == {item.key for item in ITEMS if item.by_minute}
    assert moving  # the admin's locked accounts and role changes read it


def test_an_enterprise_sees_what_was_returned_and_why(client, desks):
    def returned(user):
        login(client, user.username)
        page = client.get("/office/").get_data(as_text=True)
        return page, {link: href.replace("&amp;", "&") for href, link in re.findall(
            r'href="([^"]+)" data-returned="(\w+-\d+)"', page)}

    page, mine = returned(desks[("Enterprise", "A")])
    assert sorted(link.split("-")[0] for link in mine) == ["contract", "need", "need"]
    assert "发票抬头不符" in page  # the contract's reason, beside it
    for href in mine.values():  # each opens the record
        assert client.get(href).status_code == 200, href
    _page, theirs = returned(desks[("Enterprise", "B")])
    assert len(theirs) == 3 and not set(mine) & set(theirs)
    for href in mine.values():  # another enterprise's links open nothing
        assert client.get(href).status_code != 200, href


def test_an_enterprise_sees_the_proposals_of_each_need_and_the_new_ones(client, desks):
    login(client, desks[("Enterprise", "A")].username)
    page = client.get("/office/").get_data(as_text=True)
    needs = re.findall(r'data-need="(\d+)"', page)
    assert len(needs) == 2 and "1 份新方案" in page  # shortlisted and selected; draft is none
    client.get("/docking/")  # it looks at its docking desk: nothing is new any more
    page = client.get("/office/").get_data(as_text=True)
    assert re.findall(r'data-need="(\d+)"', page) == needs and "份新方案" not in page


def test_the_province_sees_the_quota_left_and_the_simulation(client, desks, db_session):
    from app.domain.rounds import current_round
    from app.models import Project

    login(client, desks[("Province", None)].username)
    page = client.get("/office/").get_data(as_text=True)
    program_round = current_round(clock.today())
    funded = len(db_session.scalars(select(Project).where(
        Project.round_id == program_round.id)).all())
    assert funded  # the fixture's projects are of the current round
    left = program_round.project_quota - funded
    assert (f"已资助 {funded} 项，共 {program_round.project_quota} 项；尚余 {left} 项" in page)
    assert "/funding/simulate" in page


def test_the_admin_sees_the_last_check_of_the_audit_chain(client, desks, app, db_session):
    login(client, desks[("Admin", None)].username)
    assert "尚未校验" in client.get("/office/").get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert "哈希链完整" in client.get("/office/").get_data(as_text=True)


def test_the_desk_shows_the_round_phase_and_its_deadline(client, desks):
    login(client, desks[("Enterprise", "A")].username)
    page = client.get("/office/").get_data(as_text=True)
    assert "测试批次" in page and "需求征集" in page


@pytest.mark.parametrize("role", ["Bureau", "Enterprise", "Province"])
def test_the_kept_desk_follows_the_readers_language(client, desks, role):
    user = desks[(role, "A")] if (role, "A") in desks else desks[(role, None)]
    login(client, user.username)
    for _ in range(2):  # made, then kept: both in the reader's language
        page = client.get("/office/").get_data(as_text=True)
        assert "待办事项" in page and "To do" not in page
    client.get("/language/en")
    for _ in range(2):
        page = client.get("/office/").get_data(as_text=True)
        assert "To do" in page and "待办事项" not in page
        assert "Inbox" in page  # the frame (its menu) follows too
    client.get("/language/zh")
    assert "待办事项" in client.get("/office/").get_data(as_text=True)


def test_the_rounds_name_is_in_the_readers_language_whoever_came_first(client, desks,
                                                                       db_session):
    """The round is kept a day: an English reader first must not give everyone its English
    name (the journey's desk said "2026 Researchers Serving Enterprises" in Chinese)."""
    from app.domain.rounds import current_round

    current_round(clock.today()).name_en = "Test round"
    db_session.flush()
    login(client, desks[("Enterprise", "A")].username)
    client.get("/language/en")
    assert "Test round" in client.get("/office/").get_data(as_text=True)
    client.get("/language/zh")
    page = client.get("/office/").get_data(as_text=True)
    assert "测试批次" in page and "Test round" not in page


def test_a_reload_of_the_desk_or_a_list_sends_no_new_session_cookie(client, desks):
    login(client, desks[("Bureau", "A")].username)
    for path in ("/office/", "/needmodelview/list/"):
        assert client.get(path).status_code == 200
        again = client.get(path)
        assert again.status_code == 200 and "Set-Cookie" not in again.headers, path
    # Another page is still remembered, for a form to return to.
    client.get("/office/")
    assert client.get("/needmodelview/list/").headers.get("Set-Cookie")


def test_a_desk_with_a_flashed_message_is_made_whole(client, desks):
    login(client, desks[("Bureau", "A")].username)
    client.get("/office/")  # kept
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "记录已更新")]
    page = client.get("/office/").get_data(as_text=True)
    assert "记录已更新" in page and "待办事项" in page and "data-todo=" in page
    assert "记录已更新" not in client.get("/office/").get_data(as_text=True)


def test_anonymous_visitors_get_the_sign_in_link(client):
    page = client.get("/office/").get_data(as_text=True)
    assert "/login/" in page and "desk-todo" not in page


def test_a_staff_user_sees_no_unread_message_that_is_not_theirs(client, desks, db_session):
    login(client, desks[("Platform", None)].username)
    page = client.get("/office/inbox/").get_data(as_text=True)
    # The failed e-mail row belongs to enterprise A; the platform reads only its own.
    rows = db_session.scalars(select(Notification).where(
        Notification.idempotency_key == "desk:failed")).all()
    assert rows and f'data-message="{rows[0].id}"' not in page
