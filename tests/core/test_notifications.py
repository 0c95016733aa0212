"""Notification delivery against real parts: Redis, an RQ SimpleWorker in burst mode, an SMTP
server (aiosmtpd) and an HTTP SMS gateway on loopback."""
import datetime as dt
import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from rq.registry import ScheduledJobRegistry
from sqlalchemy import event, select

from app.core.notifications import delivery
from app.core import queue as jobs
from app.extensions import Session
from app.jobs.notifications import send_notification, send_notifications
from app.jobs.schedule import schedule_next
from app.jobs.notifications import sweep_notifications
from app.models import Channel, Notification, NotificationState
from app.models.mixins import utcnow
from app.core.notifications.outbox import notify
from helpers import PAYLOAD, Inbox, free_port, login, work

def _rows(db_session, user):
    db_session.expire_all()
    return db_session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def _mail_body(envelope):
    return email.message_from_bytes(envelope.content, policy=email.policy.default).get_body()


def test_sms_goes_through_the_http_gateway_with_sign_token_and_request_id(
        app, make, db_session, async_queue, sms_gateway):
    user = make.user("Enterprise", phone="13800001234")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:901", channels=[Channel.sms])
    db_session.commit()
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.sent and row.attempts == 1
    (request,) = sms_gateway.requests
    assert request["token"] == "gw-token-123"
    body = request["body"]
    assert body["phone"] == "13800001234"
    assert body["sign"] == "【科技人员服务企业对接平台】"
    assert body["request_id"] == row.idempotency_key == "review:901:user%d:sms" % user.id
    assert "地方科技局已退回" in body["text"]
    assert body["text"].endswith(f"/n/{row.token}")


def test_long_sms_subject_is_cut_to_one_segment():
    from app.core.notifications.sms import SMS_TEXT_LIMIT, sms_text

    text = sms_text("需" * 100, "http://x/n/abc")
    subject, link = text.rsplit(" ", 1)
    assert len(subject) == SMS_TEXT_LIMIT and subject.endswith("…") and link == "http://x/n/abc"


def test_the_worker_writes_the_development_sms_gateway_to_its_log():
    """``flask worker`` configures logging so that SMS_BACKEND=log messages are seen: a fresh
    process (no pytest log capture) that sets up logging as the worker does and sends one SMS
    through the logging gateway prints it; without that set-up Python drops the INFO line."""
    import subprocess
    import sys

    send = ("from app.core.notifications.sms import LoggingGateway; "
            "LoggingGateway('【平台】').send('13900000000', '新需求推荐', 'req-1')")
    plain = subprocess.run([sys.executable, "-c", send], capture_output=True, text=True)
    assert "13900000000" not in plain.stdout + plain.stderr  # what the worker did before
    worker = subprocess.run(
        [sys.executable, "-c", "from app.cli import configure_worker_logging; "
         "configure_worker_logging(); " + send], capture_output=True, text=True)
    assert "SMS to 13900000000 [req-1]: 【平台】新需求推荐" in worker.stderr


def test_gateway_error_then_success_is_retried_and_delivered_once(
        app, make, db_session, async_queue, sms_gateway):
    sms_gateway.answers = [(500, {"code": "ERR"})]
    user = make.user("Enterprise", phone="13800001235")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:902", channels=[Channel.sms])
    db_session.commit()
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.sent and row.attempts == 2
    assert len(sms_gateway.requests) == 2 and len(sms_gateway.accepted) == 1
    assert {r["body"]["request_id"] for r in sms_gateway.requests} == {row.idempotency_key}


def test_a_failed_attempt_with_retries_left_stays_pending(app, make, db_session, redis_conn,
                                                          sms_gateway, monkeypatch):
    """A real backoff (60 s): after the first failure the row waits, pending, for RQ's retry."""
    monkeypatch.setitem(app.config, "RQ_ASYNC", True)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [60, 300])
    monkeypatch.setattr(jobs, "_worker_app", app)
    sms_gateway.answers = [(503, {"code": "BUSY"})]
    user = make.user("Enterprise", phone="13800001236")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:903", channels=[Channel.sms])
    db_session.commit()
    work(app, redis_conn)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.pending and row.attempts == 1
    assert "HTTP 503" in row.last_error and row.next_attempt_at > utcnow()
    with app.app_context():
        assert ScheduledJobRegistry(queue=jobs.get_queue("notifications")).count == 1
    # The sweeper leaves a row alone while its retry is still to come.
    with app.app_context():
        assert delivery.sweep(db_session) == {"pending": 0, "stalled": 0}


def test_refusal_in_a_2xx_body_fails_for_good_after_the_last_retry(
        app, make, db_session, async_queue, sms_gateway):
    refusal = (200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"})
    sms_gateway.answers = [refusal] * 3
    user = make.user("Enterprise", phone="13800001237")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:904", channels=[Channel.sms])
    db_session.commit()
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.failed and row.attempts == 3
    assert "isv.BUSINESS_LIMIT_CONTROL" in row.last_error
    assert sms_gateway.accepted == []


def test_recipient_without_phone_fails_once_with_a_clear_error(
        app, make, db_session, async_queue, sms_gateway):
    user = make.user("Enterprise")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:905", channels=[Channel.sms])
    db_session.commit()
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.failed and row.attempts == 1
    assert row.last_error == "收件人没有手机号码。"
    assert sms_gateway.requests == []
    with app.app_context():  # not an RQ failure: nothing to retry, nothing in the failed registry
        assert jobs.get_queue("notifications").failed_job_registry.count == 0


def _failed_email(app, make, db_session, async_queue, monkeypatch, key):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens
    user = make.user("Enterprise", enterprise_id=make.enterprise().id,
                     first_name="失败", last_name=key)
    notify(user, "needs.return_by_bureau", PAYLOAD, key, channels=[Channel.email])
    db_session.commit()
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.failed and row.attempts == 3
    return user, row


def test_failed_notifications_are_listed_for_platform_and_sent_again(
        app, make, db_session, async_queue, monkeypatch, client):
    owner, row = _failed_email(app, make, db_session, async_queue, monkeypatch, "review:906")
    sent = make.user("Enterprise", first_name="成功", last_name="review:907")
    notify(sent, "needs.return_by_bureau", PAYLOAD, "review:907", channels=[Channel.site])
    db_session.commit()
    work(app, async_queue)
    make.user("Platform", "plat_failed")
    login(client, "plat_failed")
    page = client.get("/failednotificationmodelview/list/").get_data(as_text=True)
    assert str(owner) in page and "Connection refused" in page
    assert str(sent) not in page  # sent rows are not listed
    assert "发送失败的通知" in page

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
        response = client.post("/failednotificationmodelview/action_post",
                               data={"action": "resend", "rowid": [str(row.id)]})
        assert response.status_code == 302
        (row,) = _rows(db_session, owner)
        assert row.state is NotificationState.pending
        assert async_queue.llen("rq:queue:notifications") == 1
        work(app, async_queue)
    finally:
        controller.stop()
    (row,) = _rows(db_session, owner)
    assert row.state is NotificationState.sent and row.attempts == 4
    assert [m.rcpt_tos for m in inbox.messages] == [[owner.email]]
    assert str(owner) not in client.get("/failednotificationmodelview/list/").get_data(
        as_text=True)


def test_single_resend_action_and_participants_are_refused(
        app, make, db_session, async_queue, monkeypatch, client):
    owner, row = _failed_email(app, make, db_session, async_queue, monkeypatch, "review:908")
    login(client, owner.username)
    assert client.get("/failednotificationmodelview/list/").status_code in (302, 403, 404)
    refused = client.post(f"/failednotificationmodelview/action/resend/{row.id}")
    assert refused.status_code in (302, 403, 404)
    refused = client.post("/failednotificationmodelview/action_post",
                          data={"action": "resend", "rowid": [str(row.id)]})
    assert refused.status_code in (302, 403, 404)
    (row,) = _rows(db_session, owner)
    assert row.state is NotificationState.failed
    # The delivery log is the staff's; a participant reads its messages in the inbox.
    assert client.get(f"/notificationmodelview/show/{row.id}").status_code in (302, 403)
    assert client.get("/office/inbox/").status_code == 200

    make.user("Platform", "plat_single")
    login(client, "plat_single")
    response = client.post(f"/failednotificationmodelview/action/resend/{row.id}")
    assert response.status_code == 302
    (row,) = _rows(db_session, owner)
    assert row.state is NotificationState.pending


def test_redis_down_at_commit_leaves_the_row_for_the_sweeper(
        app, make, db_session, smtp, async_queue, monkeypatch):
    redis_url = app.config["REDIS_URL"]
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    user = make.user("Enterprise")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:909", channels=[Channel.email])
    db_session.commit()
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.pending and row.attempts == 0
    assert async_queue.llen("rq:queue:notifications") == 0
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)  # Redis is back
    monkeypatch.setitem(app.config, "NOTIFY_SWEEP_AGE", 0)
    result = app.test_cli_runner().invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0 and "1 pending" in result.output, result.output
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.sent
    assert len(smtp.messages) == 1


def test_a_job_run_twice_sends_one_email(app, make, db_session, smtp, async_queue):
    user = make.user("Enterprise")
    (row,) = notify(user, "needs.return_by_bureau", PAYLOAD, "review:910",
                    channels=[Channel.email])
    db_session.commit()
    with app.app_context():
        second = jobs.get_queue("notifications").enqueue(send_notification, row.id)
    work(app, async_queue)
    assert second.return_value() == "skipped"
    assert len(smtp.messages) == 1
    assert _rows(db_session, user)[0].attempts == 1


def test_the_same_event_notified_twice_is_one_row(app, make, db_session, redis_conn, smtp):
    user = make.user("Enterprise")
    first = notify(user, "needs.return_by_bureau", PAYLOAD, "review:911", channels=[Channel.email])
    again = notify(user, "needs.return_by_bureau", PAYLOAD, "review:911", channels=[Channel.email])
    db_session.commit()
    assert len(first) == 1 and again == []
    assert len(_rows(db_session, user)) == 1 and len(smtp.messages) == 1


def test_a_worker_killed_after_claiming_is_recovered_by_the_sweeper(
        app, make, db_session, smtp, async_queue):
    user = make.user("Enterprise")
    (row,) = notify(user, "needs.return_by_bureau", PAYLOAD, "review:912",
                    channels=[Channel.email])
    db_session.commit()
    # The crashed worker: it claimed the row and never came back.
    with app.app_context():
        assert delivery.claim(db_session, row.id) is not None
    work(app, async_queue)  # the queued job finds the row taken
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.sending and smtp.messages == []
    with app.app_context():
        assert delivery.sweep(db_session)["stalled"] == 0  # not yet: it may just be slow
        later = row.claimed_at + dt.timedelta(seconds=app.config["NOTIFY_SENDING_TIMEOUT"] + 1)
        assert delivery.sweep(db_session, now=later) == {"pending": 0, "stalled": 1}
    work(app, async_queue)
    with app.app_context():
        assert delivery.sweep(db_session, now=later) == {"pending": 0, "stalled": 0}
    work(app, async_queue)
    (row,) = _rows(db_session, user)
    assert row.state is NotificationState.sent and row.attempts == 2
    assert len(smtp.messages) == 1


def test_the_sweep_reschedules_itself_once_per_slot(app, db_session, async_queue, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SWEEP_INTERVAL", 300)
    with app.app_context():
        registry = ScheduledJobRegistry(queue=jobs.get_queue("notifications"))
        schedule_next("app.jobs.notifications.sweep_notifications", now=1000)
        schedule_next("app.jobs.notifications.sweep_notifications", now=1100)  # a second worker starting in the same slot
        assert registry.get_job_ids() == ["notifications-sweep-4"]
        jobs.get_queue("notifications").enqueue(sweep_notifications)
    work(app, async_queue)
    with app.app_context():
        ids = set(registry.get_job_ids())
    assert len(ids) == 2 and "notifications-sweep-4" in ids


def test_the_link_records_the_first_opening_and_redirects(app, make, db_session, smtp,
                                                          redis_conn, client):
    user = make.user("Enterprise")
    (row,) = notify(user, "needs.return_by_bureau", PAYLOAD, "review:913",
                    channels=[Channel.email])
    db_session.commit()
    link = f"{app.config['PUBLIC_BASE_URL']}/n/{row.token}"
    assert link in _mail_body(smtp.messages[0]).get_content()
    response = client.get(f"/n/{row.token}")  # anonymous: a phone's browser
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/needmodelview/show/7")
    first = _rows(db_session, user)[0].opened_at
    assert first is not None
    client.get(f"/n/{row.token}")
    assert _rows(db_session, user)[0].opened_at == first
    assert client.get("/n/not-a-token").status_code == 404


def test_response_rates_per_channel(app, make, db_session):
    user = make.user("Enterprise")
    rows = [Notification(user_id=user.id, channel=channel, template="needs.publish",
                         payload={}, state=state, idempotency_key=f"rates:{n}",
                         opened_at=utcnow() if opened else None)
            for n, (channel, state, opened) in enumerate([
                (Channel.email, NotificationState.sent, True),
                (Channel.email, NotificationState.sent, False),
                (Channel.email, NotificationState.failed, False),
                (Channel.sms, NotificationState.pending, False),
                (Channel.sms, NotificationState.sent, True)])]
    old = Notification(user_id=user.id, channel=Channel.email, template="needs.publish",
                       payload={}, state=NotificationState.sent, idempotency_key="rates:old",
                       created_at=utcnow() - dt.timedelta(days=30))
    db_session.add_all(rows + [old])
    db_session.commit()
    since = utcnow() - dt.timedelta(days=1)
    rates = delivery.response_rates(db_session, since=since)
    assert rates[Channel.email] == {"created": 3, "sent": 2, "failed": 1, "opened": 1}
    assert rates[Channel.sms] == {"created": 2, "sent": 1, "failed": 0, "opened": 1}
    assert rates[Channel.site] == {"created": 0, "sent": 0, "failed": 0, "opened": 0}
    assert delivery.response_rates(db_session)[Channel.email]["created"] == 4


def test_a_push_round_is_sent_in_batches_and_a_failing_row_does_not_stop_the_others(
        app, make, db_session, async_queue, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_BATCH", 3)
    users = [make.user("Researcher") for _ in range(7)]
    broken = users[3]
    refused = broken.email  # read here: the SMTP server's thread must not touch the session

    async def refuse_one(self, server, session, envelope):
        if refused in envelope.rcpt_tos:
            return "451 mailbox busy"  # temporary: retried (a 5xx fails at once, test_faults)
        self.messages.append(envelope)
        return "250 OK"

    monkeypatch.setattr(type(smtp), "handle_DATA", refuse_one)
    for user in users:
        notify(user, "needs.return_by_bureau", PAYLOAD, "round:1", channels=[Channel.email])
    db_session.commit()
    assert async_queue.llen("rq:queue:notifications") == 3  # 7 rows in batches of 3
    work(app, async_queue)  # the batch holding the broken row is retried (interval 0 here)
    delivered = sorted(m.rcpt_tos[0] for m in smtp.messages)
    assert delivered == sorted(u.email for u in users if u is not broken)  # each exactly once
    db_session.expire_all()
    (row,) = _rows(db_session, broken)
    assert row.state is NotificationState.failed and row.attempts == 3 and "451" in row.last_error


def test_a_batch_delivers_its_in_site_rows_at_once_and_one_commit_per_mail(
        app, make, db_session, async_queue, smtp):
    users = [make.user("Researcher") for _ in range(4)]
    rows = {}
    for user in users:
        for row in notify(user, "needs.return_by_bureau", PAYLOAD, "round:2",
                          channels=[Channel.site, Channel.email]):
            rows[user.id, row.channel] = row.id
    db_session.commit()
    # Another job holds one in-site row: the batch must leave it to that job.
    with app.app_context():
        assert delivery.claim(db_session, rows[users[0].id, Channel.site]) is not None
    commits = []

    def count(_session):
        commits.append(1)

    event.listen(Session, "after_commit", count)
    try:
        work(app, async_queue)
    finally:
        event.remove(Session, "after_commit", count)
    for user in users:
        site, mail = _rows(db_session, user)
        assert mail.state is NotificationState.sent and mail.attempts == 1 and mail.sent_at
        if user is users[0]:
            assert site.state is NotificationState.sending and site.sent_at is None
        else:
            assert site.state is NotificationState.sent and site.attempts == 1 and site.sent_at
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(u.email for u in users)
    # The in-site rows: one commit; each mail and the held row: a claim (which also commits
    # the previous mail's "sent"); the last mail's "sent": one more. (Two per mail: 11.)
    assert len(commits) <= 1 + (len(users) + 1) + 1, len(commits)


def test_a_worker_dying_between_a_mail_and_the_next_claim_sends_that_mail_again(
        app, make, db_session, smtp, async_queue, monkeypatch):
    """The at-least-once window of a batch: the mail the server accepted is "sent" only once
    the next row's claim commits. If the worker dies in between, the sweep sends it again,
    with the same Message-ID; the next row was never claimed and is sent once."""
    first, second = make.user("Researcher"), make.user("Researcher")
    ids = [row.id for user in (first, second) for row in notify(
        user, "needs.return_by_bureau", PAYLOAD, "round:3", channels=[Channel.email])]
    db_session.commit()  # its job waits in Redis: this test runs the batch itself
    claims = []
    real_claim = delivery.claim

    def dying_claim(session, notification_id):
        claims.append(notification_id)
        if len(claims) == 2:
            raise SystemExit("worker killed")
        return real_claim(session, notification_id)

    monkeypatch.setattr(delivery, "claim", dying_claim)
    with app.app_context(), pytest.raises(SystemExit):
        send_notifications(ids)  # its app context ends: the session is rolled back
    monkeypatch.setattr(delivery, "claim", real_claim)
    assert [r.state for r in _rows(db_session, first) + _rows(db_session, second)] == [
        NotificationState.sending, NotificationState.pending]
    (row,) = _rows(db_session, first)
    later = row.claimed_at + dt.timedelta(seconds=app.config["NOTIFY_SENDING_TIMEOUT"] + 1)
    with app.app_context():
        assert delivery.sweep(db_session, now=later)["stalled"] == 1
    with app.app_context():
        send_notifications(ids)
    assert [r.state for r in _rows(db_session, first) + _rows(db_session, second)] == [
        NotificationState.sent, NotificationState.sent]
    recipients = [m.rcpt_tos[0] for m in smtp.messages]
    assert recipients == [first.email, first.email, second.email]
    message_ids = {email.message_from_bytes(m.content)["Message-ID"] for m in smtp.messages[:2]}
    assert len(message_ids) == 1


def test_a_commit_with_no_redis_url_leaves_its_rows_to_the_sweep(app, make, db_session,
                                                                  monkeypatch):
    """A `flask` command under the embedded default has no REDIS_URL (its Redis lives in
    `python run.py`): the commit goes through and the rows wait, pending, for the sweep."""
    monkeypatch.setitem(app.config, "RQ_ASYNC", True)
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    user = make.user("Enterprise")
    notify(user, "needs.return_by_bureau", PAYLOAD, "review:990")
    db_session.commit()
    rows = _rows(db_session, user)
    assert rows and {row.state for row in rows} == {NotificationState.pending}
