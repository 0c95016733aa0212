"""The inbox and the word staff get of work: messages read as messages, each seen only by its
reader; marking read touches only the reader's rows; staff of the record's jurisdiction hear of
a record entering the state that waits on them, by e-mail as each chose."""
import datetime as dt

import pytest
from helpers import PAYLOAD, enterprise_form, get_with_statements, login, post_form
from sqlalchemy import select

from app.core.notifications.outbox import notify
from app.domain.desk import notices
from app.models import Channel, EnterpriseState, NeedState, Notification
from app.utils import clock
from app.workflows import apply_action

A, B = "420100", "420500"


def _rows(db_session, user, template=None):
    db_session.expire_all()
    stmt = select(Notification).where(Notification.user_id == user.id)
    if template:
        stmt = stmt.where(Notification.template == template)
    return db_session.scalars(stmt.order_by(Notification.id)).all()


@pytest.fixture()
def two(make):
    return make.user("Enterprise", "inbox_x"), make.user("Enterprise", "inbox_y")


def test_a_message_is_seen_only_by_its_reader(client, two, db_session):
    x, y = two
    notify(x, "needs.return_by_bureau", PAYLOAD, "inbox:1", channels=[Channel.site])
    notify(y, "needs.return_by_bureau", {**PAYLOAD, "subject_id": 8}, "inbox:2",
           channels=[Channel.site])
    db_session.commit()
    (mine,), (theirs,) = _rows(db_session, x), _rows(db_session, y)
    login(client, "inbox_x")
    page = client.get("/office/inbox/").get_data(as_text=True)
    assert f'data-message="{mine.id}"' in page and f'data-message="{theirs.id}"' not in page
    assert "needs.return_by_bureau" not in page  # a title, not a template code
    assert "技术需求" in page  # the title says what it is about
    assert client.get(f"/office/inbox/{theirs.id}").status_code == 404


def test_marking_read_changes_only_the_readers_rows(client, two, db_session):
    x, y = two
    for user, key in ((x, "inbox:3"), (y, "inbox:4")):
        notify(user, "needs.return_by_bureau", PAYLOAD, key, channels=[Channel.site])
    db_session.commit()
    (mine,), (theirs,) = _rows(db_session, x), _rows(db_session, y)
    login(client, "inbox_x")
    client.post("/office/inbox/read", data={"id": [mine.id, theirs.id]})
    (mine,), (theirs,) = _rows(db_session, x), _rows(db_session, y)
    assert mine.read_at is not None and theirs.read_at is None
    login(client, "inbox_y")
    client.post("/office/inbox/read-all")
    (mine,), (theirs,) = _rows(db_session, x), _rows(db_session, y)
    assert theirs.read_at is not None


def test_the_inbox_reads_the_same_statements_whatever_its_messages_name(client, make,
                                                                        db_session):
    """A page of messages about proposals names each proposal's need: one statement for all of
    them, not one per message (at province scale it was 13 more for a researcher's page)."""
    researcher = make.researcher()
    user = make.user("Researcher", "inbox_r", researcher_id=researcher.id)
    enterprise = make.enterprise()

    def proposal_messages(count, start):
        for n in range(start, start + count):
            need = make.need(enterprise, state=NeedState.published, title=f"需求{n}")
            proposal = make.proposal(need, researcher)
            notify(user, "proposals.shortlisted", {"subject_id": proposal.id,
                                                   "state": "shortlisted"}, f"inbox:p{n}",
                   channels=[Channel.site])
        db_session.commit()

    proposal_messages(2, 0)
    login(client, "inbox_r")
    client.get("/office/inbox/")
    page, few = get_with_statements(client, "/office/inbox/")
    assert "需求1" in page.get_data(as_text=True)
    proposal_messages(12, 2)
    client.get("/office/inbox/")
    page, many = get_with_statements(client, "/office/inbox/")
    assert "需求13" in page.get_data(as_text=True)
    assert len(many) == len(few), many


def test_the_badge_counts_up_to_99_then_says_99_plus(app, client, two, db_session):
    x, y = two
    for i in range(3):  # another reader's unread messages are not x's
        notify(y, "needs.return_by_bureau", PAYLOAD, f"badge-y:{i}", channels=[Channel.site])
    for i in range(99):
        notify(x, "needs.return_by_bureau", PAYLOAD, f"badge:{i}", channels=[Channel.site])
    db_session.commit()
    login(client, "inbox_x")
    page = client.get("/office/").get_data(as_text=True)
    assert 'class="badge inbox-count">99<' in page and "99 条未读消息" in page
    notify(x, "needs.return_by_bureau", PAYLOAD, "badge:99", channels=[Channel.site])
    notify(x, "needs.return_by_bureau", PAYLOAD, "badge:100", channels=[Channel.site])
    db_session.commit()
    page = client.get("/office/").get_data(as_text=True)
    assert 'class="badge inbox-count">99+<' in page and "超过 99 条未读消息" in page
    # Counted no further than 100: a neglected inbox costs each page no more than that.
    for i in range(101, 130):
        notify(x, "needs.return_by_bureau", PAYLOAD, f"badge:{i}", channels=[Channel.site])
    db_session.commit()
    with app.test_request_context("/office/"):
        assert app.appbuilder.sm.get_user_by_id(x.id).unread_notices == 100
    login(client, "inbox_y")
    page = client.get("/office/").get_data(as_text=True)
    assert 'class="badge inbox-count">3<' in page and "3 条未读消息" in page
    client.post("/office/inbox/read-all")
    page = client.get("/office/").get_data(as_text=True)
    assert "inbox-count" not in page


def test_opening_a_message_marks_it_read_and_leads_to_the_record(client, make, db_session):
    enterprise = make.enterprise(A)
    user = make.user("Enterprise", "inbox_owner", enterprise_id=enterprise.id)
    need = make.need(enterprise, NeedState.draft)
    notify(user, "needs.return_by_bureau", {**PAYLOAD, "subject_id": need.id}, "inbox:5",
           channels=[Channel.site])
    db_session.commit()
    (row,) = _rows(db_session, user)
    login(client, "inbox_owner")
    page = client.get("/office/").get_data(as_text=True)
    assert 'class="badge inbox-count">1<' in page  # the navbar's unread badge
    response = client.get(f"/office/inbox/{row.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/needmodelview/show/{need.id}")
    (row,) = _rows(db_session, user)
    assert row.read_at is not None
    assert "inbox-count" not in client.get("/office/").get_data(as_text=True)


def test_the_inbox_speaks_the_readers_language_at_read_time(client, two, db_session):
    x, _y = two
    notify(x, "needs.return_by_bureau", PAYLOAD, "inbox:6", channels=[Channel.site])
    db_session.commit()
    login(client, "inbox_x")
    assert "技术需求" in client.get("/office/inbox/").get_data(as_text=True)
    client.get("/language/en")
    assert "technical need" in client.get("/office/inbox/").get_data(as_text=True)


# -- staff hear of work ------------------------------------------------------------------------

@pytest.fixture()
def staff(make):
    return {
        "bureau_a": make.user("Bureau", "work_bureau_a", region_id=make.region(A).id),
        "bureau_b": make.user("Bureau", "work_bureau_b", region_id=make.region(B).id),
        "platform": make.user("Platform", "work_platform"),
        "province": make.user("Province", "work_province"),
    }


def test_a_registration_is_word_for_its_regions_bureau_only(client, make, staff, db_session):
    assert post_form(client, "/register/enterprise", enterprise_form(make)).status_code == 302
    told = {name: [r.template for r in _rows(db_session, user)] for name, user in staff.items()}
    assert told["bureau_a"] == ["work.enterprises.submitted"]
    assert told["bureau_b"] == [] and told["platform"] == [] and told["province"] == []
    login(client, "work_bureau_a")
    page = client.get("/office/inbox/?kind=work").get_data(as_text=True)
    assert "注册申请待您审核" in page and "武汉光谷量子传感科技有限公司" in page


def test_each_waiting_state_is_word_for_the_role_it_waits_on(make, staff, db_session):
    enterprise = make.enterprise(A)
    owner = make.user("Enterprise", "work_owner", enterprise_id=enterprise.id)
    need = make.need(enterprise, NeedState.draft)
    apply_action(need, "submit", owner, today=need.round.needs_filing_end)
    db_session.commit()

    def work(user):
        return [r.template for r in _rows(db_session, user) if r.template.startswith("work.needs")]

    assert work(staff["bureau_a"]) == ["work.needs.submitted"]
    apply_action(need, "recommend", staff["bureau_a"], "推荐")
    db_session.commit()
    assert work(staff["platform"]) == ["work.needs.recommended"]
    assert work(staff["bureau_b"]) == [] and work(staff["province"]) == []


def test_work_email_at_once_daily_or_never(make, staff, db_session):
    bureau = staff["bureau_a"]
    for choice, emails_now in (("immediate", 1), ("daily", 0), ("never", 0)):
        notices.choose_work_email(bureau, choice)
        db_session.commit()
        enterprise = make.enterprise(A, state=EnterpriseState.draft)
        owner = make.user("Enterprise", enterprise_id=enterprise.id)
        apply_action(enterprise, "submit", owner)
        db_session.commit()
        rows = _rows(db_session, bureau)
        assert [r.channel for r in rows[-1 - emails_now:]].count(Channel.email) == emails_now
    # The daily digest: one e-mail listing the unread work, for those who chose it.
    notices.choose_work_email(bureau, "daily")
    db_session.commit()
    assert notices.send_work_digests(clock.today() + dt.timedelta(days=1)) >= 1
    db_session.commit()
    (digest,) = _rows(db_session, bureau, "work.digest")
    assert digest.channel is Channel.email and digest.payload["count"] == 3
    notices.send_work_digests(clock.today() + dt.timedelta(days=1))
    db_session.commit()
    assert len(_rows(db_session, bureau, "work.digest")) == 1  # once per day


def test_the_staff_choose_their_work_email_on_the_inbox_page(client, staff, db_session):
    login(client, "work_bureau_a")
    assert 'name="work_email"' in client.get("/office/inbox/").get_data(as_text=True)
    client.post("/office/inbox/work-email", data={"work_email": "never"})
    db_session.refresh(staff["bureau_a"])
    assert staff["bureau_a"].work_email == "never"
    assert client.post("/office/inbox/work-email", data={"work_email": "hourly"}).status_code == 400
