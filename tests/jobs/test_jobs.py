"""Jobs against a real Redis server and a real RQ worker (burst mode), e-mail through a real
SMTP server on loopback."""
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.core import queue as jobs
from app.jobs.notifications import send_notification
from app.models import Channel, NeedState, Notification, NotificationState
from app.workflows import apply_action
from helpers import work


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture()
def smtp(app, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    yield inbox
    controller.stop()




def _returned_need(make):
    enterprise = make.enterprise()
    need = make.need(enterprise, NeedState.submitted)
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    bureau = make.user("Bureau", region_id=enterprise.region_id)
    return need, owner, bureau


def test_decision_writes_outbox_rows_and_the_worker_sends_them(app, make, db_session, smtp,
                                                              async_queue):
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充量化指标")
    rows = db_session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert {r.channel for r in rows} == {Channel.site, Channel.email}
    assert all(r.state is NotificationState.pending for r in rows)
    assert async_queue.llen("rq:queue:notifications") == 0  # nothing before the commit
    db_session.commit()
    assert async_queue.llen("rq:queue:notifications") == 1  # one job sends both rows
    work(app, async_queue)
    db_session.expire_all()
    assert all(r.state is NotificationState.sent for r in rows)
    assert len(smtp.messages) == 1
    assert smtp.messages[0].rcpt_tos == [owner.email]
    import email

    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert "请补充量化指标" in message.get_body().get_content()
    assert "地方科技局已退回" in str(message["Subject"])  # rendered in the owner's language


def test_rolled_back_decision_enqueues_nothing(app, make, db_session, async_queue):
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.rollback()
    assert async_queue.llen("rq:queue:notifications") == 0
    assert db_session.scalars(select(Notification).where(
        Notification.user_id == owner.id)).all() == []


def test_rerunning_a_sent_notification_never_sends_twice(app, make, db_session, smtp,
                                                        async_queue):
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.commit()
    work(app, async_queue)
    email = db_session.scalars(select(Notification).where(
        Notification.user_id == owner.id, Notification.channel == Channel.email)).one()
    with app.app_context():
        assert send_notification(email.id) == "skipped"
    assert len(smtp.messages) == 1


def test_smtp_failure_marks_the_row_failed_and_the_job_fails(app, make, db_session,
                                                            async_queue, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_PORT", dead_port)
    # No retries configured: the first failure is the last
    # (retries: tests/core/test_notifications.py).
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [])
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.commit()
    work(app, async_queue)
    db_session.expire_all()
    email = db_session.scalars(select(Notification).where(
        Notification.user_id == owner.id, Notification.channel == Channel.email)).one()
    assert email.state is NotificationState.failed and email.attempts == 1 and email.last_error
    with app.app_context():
        failed = jobs.get_queue("notifications").failed_job_registry
        assert failed.count == 1


def test_redis_down_at_commit_keeps_the_decision_and_the_pending_rows(app, make, db_session,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.commit()
    db_session.expire_all()
    assert need.state is NeedState.returned_by_bureau
    rows = db_session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert rows and all(r.state is NotificationState.pending for r in rows)


def test_inline_mode_runs_the_job_at_commit(app, make, db_session, redis_conn, smtp):
    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.commit()
    db_session.expire_all()
    rows = db_session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert len(rows) == 2 and all(r.state is NotificationState.sent for r in rows)
    assert len(smtp.messages) == 1


def test_unknown_queue_is_refused(app):
    with app.app_context(), pytest.raises(ValueError):
        jobs.get_queue("nope")


def test_worker_command_runs_in_burst(app, make, db_session, async_queue, smtp):
    from click.testing import CliRunner

    need, owner, bureau = _returned_need(make)
    apply_action(need, "return", bureau, "请补充")
    db_session.commit()
    result = CliRunner().invoke(app.cli, ["worker", "--burst", "--simple", "notifications"],
                                obj=None, catch_exceptions=False,
                                env={"FLASK_APP": ""})
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    rows = db_session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert len(rows) == 2 and all(r.state is NotificationState.sent for r in rows)
    # The worker started the chains of the queue's periodic jobs (the sweep, the work digest):
    # one run of each waits in the scheduled registry.
    from rq.registry import ScheduledJobRegistry

    from app.jobs.schedule import PERIODIC

    with app.app_context():
        scheduled = ScheduledJobRegistry(queue=jobs.get_queue("notifications")).get_job_ids()
    prefixes = sorted(p.job_id_prefix for p in PERIODIC.values() if p.queue == "notifications")
    assert sorted(i.rstrip("0123456789") for i in scheduled) == prefixes


def test_a_commit_enqueues_all_its_jobs_over_one_redis_connection(app, db_session, async_queue):
    """A push round commits thousands of send jobs at once: a new connection for each cost four
    times the enqueue itself. Counted by the server, so any way of connecting is seen."""
    from app.jobs.notifications import send_notifications

    def connections():
        return async_queue.info("stats")["total_connections_received"]

    before = connections()
    for batch in range(20):
        jobs.enqueue_after_commit(send_notifications, [batch], queue="notifications")
    jobs.enqueue_after_commit(send_notification, 1, queue="default")
    db_session.commit()
    assert async_queue.llen("rq:queue:notifications") == 20
    assert async_queue.llen("rq:queue:default") == 1
    assert connections() - before < 5  # one, give or take another client of the server
