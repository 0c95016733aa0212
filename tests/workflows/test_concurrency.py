"""Two staff members deciding the same record at once (need, contract, enterprise and
researcher registration): one decision wins, the other is told so in plain words, and the record
keeps one review record, one audit row of the decision and one set of notifications.

Two shapes of "at once":
* one after the other over HTTP (both had the page open): the second POST finds the new state
  and gets the flash message; nothing is written for it;
* truly overlapping: the second clerk's request loaded the record before the first decision
  committed and writes after it. The version column (``VersionedMixin``) makes that write match
  no row, and ``apply_action`` turns the StaleDataError into ``ConcurrentDecision``.
"""
import dataclasses

import pytest
from helpers import login
from sqlalchemy import func, select

from app.domain.transitions import TRANSITIONS
from app.models import (
    Action,
    AuditLog,
    ContractState,
    EnterpriseState,
    NeedState,
    Notification,
    Project,
    ResearcherState,
    ReviewRecord,
)
from app.models.mixins import VersionedMixin
from app.workflows import ConcurrentDecision, apply_action

RELOAD = "该记录刚刚已由他人处理，请刷新页面查看最新状态。"


def test_every_record_staff_decide_is_versioned():
    """Optimistic locking covers each model of the workflow table (a new one must opt in)."""
    assert all(issubclass(model, VersionedMixin) and model.__mapper__.version_id_col is not None
               for model in TRANSITIONS)


@pytest.fixture()
def cases(make):
    """For each kind: the record, the view, the action, the opinion and two deciding clerks."""
    region = make.region("420100")
    enterprise = make.enterprise("420100")
    researcher = make.researcher("420100")
    published = make.need(enterprise, NeedState.published)
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    make.user("Researcher", researcher_id=researcher.id)
    return {
        "need": (make.need(enterprise, NeedState.submitted), "needmodelview", "recommend",
                 "推荐", [make.user("Bureau", region_id=region.id) for _ in range(2)]),
        "contract": (make.contract(published, researcher), "contractmodelview", "approve", "",
                     [make.user("Province") for _ in range(2)]),
        "enterprise": (make.enterprise("420100", state=EnterpriseState.submitted),
                       "enterprisemodelview", "verify", "",
                       [make.user("Bureau", region_id=region.id), make.user("Platform")]),
        "researcher": (make.researcher("420100", state=ResearcherState.submitted),
                       "researchermodelview", "approve", "",
                       [make.user("Platform") for _ in range(2)]),
        "owner": owner,
    }


KINDS = ["need", "contract", "enterprise", "researcher"]
DECIDED = {"need": NeedState.recommended, "contract": ContractState.approved,
           "enterprise": EnterpriseState.verified, "researcher": ResearcherState.approved}


def _count(db_session, model, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def _written(db_session, record):
    table = type(record).__tablename__
    return (_count(db_session, ReviewRecord, ReviewRecord.subject_type == table,
                   ReviewRecord.subject_id == record.id),
            _count(db_session, AuditLog, AuditLog.subject_type == table,
                   AuditLog.subject_id == record.id),
            _count(db_session, Notification))


def _decide(client, view, record, action, opinion):
    return client.post(f"/{view}/decide/{record.id}", data={"action": action, "opinion": opinion},
                       follow_redirects=True)


@pytest.mark.parametrize("kind", KINDS)
def test_the_second_of_two_decisions_over_http_is_told_and_writes_nothing(
        client, cases, db_session, kind):
    record, view, action, opinion, (first, second) = cases[kind]
    before = _written(db_session, record)
    login(client, first.username)
    assert _decide(client, view, record, action, opinion).status_code == 200
    after_first = _written(db_session, record)
    assert after_first[:2] == (before[0] + 1, before[1] + 1)
    login(client, second.username)
    page = _decide(client, view, record, action, opinion).get_data(as_text=True)
    assert f"记录处于“{DECIDED[kind].title}”状态时，不能执行" in page  # the flash, in Chinese
    assert _written(db_session, record) == after_first
    db_session.refresh(record)
    assert record.state is DECIDED[kind]


def _stale_copy(db_session, model, pk):
    """The record as the second clerk's request loaded it, before the first decision committed
    (detached, so the test's own transaction does not outlive the first request)."""
    record = db_session.get(model, pk, populate_existing=True)
    assert record.version and record.state  # loaded now
    db_session.expunge(record)
    db_session.commit()
    return record


@pytest.mark.parametrize("kind", KINDS)
def test_overlapping_decisions_one_wins_the_other_is_told_to_reload(
        client, cases, db_session, kind, monkeypatch):
    record, view, action, opinion, (first, second) = cases[kind]
    table = TRANSITIONS[type(record)]
    key = (record.state, Action(action))
    # The loser's checks (the contract's funding rules) ran before the winner committed and
    # passed; what is left to stop it is the version check of its write.
    monkeypatch.setitem(table, key, dataclasses.replace(table[key], guard=None))
    model, winner = type(record), first.username
    before = _written(db_session, record)
    # Nothing may touch the test's session between this and the winner's request: a load would
    # open a savepoint that the loser's rollback would take the winner's writes down with.
    stale = _stale_copy(db_session, model, record.id)
    login(client, winner)
    assert _decide(client, view, record, action, opinion).status_code == 200
    won = _written(db_session, record)
    assert won[:2] == (before[0] + 1, before[1] + 1)
    # The second clerk's request now writes the copy it loaded before.
    late = db_session.merge(stale, load=False)
    with pytest.raises(ConcurrentDecision) as refused:
        apply_action(late, action, second, opinion or None)
    assert str(refused.value) == RELOAD
    db_session.rollback()
    assert _written(db_session, record) == won  # one review, one audit row, no extra notices
    fresh = db_session.get(model, record.id, populate_existing=True)
    assert fresh.state is DECIDED[kind] and fresh.version > stale.version
    if kind == "contract":
        assert _count(db_session, Project, Project.contract_id == record.id) == 1
