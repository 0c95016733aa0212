"""A real ``flask worker`` process killed with SIGKILL while it sends an e-mail: the row it
claimed is recovered by the sweep and the e-mail is delivered exactly once."""
import asyncio
import os
import signal
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller
from rq import SimpleWorker
from sqlalchemy import insert, select

from app import create_app
from app.core.notifications import delivery
from app.core import queue as jobs
from app.extensions import db
from app.models import AppUser, Channel, Notification, NotificationState
from app.models.mixins import utcnow
from app.core.notifications.outbox import notify
from helpers import free_port


class StallingServer:
    """Holds the first message until told, then refuses it (it was never accepted); takes
    every later one."""

    def __init__(self):
        self.arrived, self.release = threading.Event(), threading.Event()
        self.delivered, self.calls = [], 0

    async def handle_DATA(self, server, session, envelope):
        self.calls += 1
        if self.calls == 1:
            self.arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        self.delivered.append(envelope)
        return "250 OK"


def _children(pid):
    """Processes whose parent is ``pid`` (RQ's work-horse is forked by the worker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry))
    return found



def test_a_worker_killed_mid_send_delivers_once_after_the_sweep(app, redis_conn, tmp_path):
    server = StallingServer()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    database = f"sqlite:///{tmp_path}/crash.db"
    secret = "crash-test-secret-key-that-is-long-enough-0123456789"
    # A database of its own, committed for real: the worker process must read what we write.
    crash_app = create_app("config.Config", SECRET_KEY=secret, SQLALCHEMY_DATABASE_URI=database,
                           REDIS_URL=app.config["REDIS_URL"], MAIL_SERVER="127.0.0.1",
                           MAIL_PORT=port, UPLOAD_FOLDER=str(tmp_path))
    env = dict(os.environ, SECRET_KEY=secret, DATABASE_URL=database,
               REDIS_URL=app.config["REDIS_URL"], MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
    log = open(tmp_path / "worker.log", "w")
    previous = jobs._worker_app
    try:
        with crash_app.app_context():
            from flask_migrate import upgrade

            upgrade()
            now = utcnow()
            db.session.execute(insert(AppUser), [dict(
                first_name="王", last_name="工", username="crash", email="crash@test.local",
                active=True, created_on=now, changed_on=now)])
            user = db.session.scalars(select(AppUser)).one()
            (row,) = notify(user, "needs.return_by_bureau", {"subject_id": 1, "state": "draft"},
                            "crash:1", channels=[Channel.email])
            row_id = row.id
            db.session.commit()  # the send job goes to Redis now
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app.embedded:create_cli_app", "worker",
             "--burst", "notifications"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        assert server.arrived.wait(90), (tmp_path / "worker.log").read_text()
        # The work-horse runs in a process group of its own: kill it and the worker, mid-SMTP.
        for pid in [*_children(worker.pid), worker.pid]:
            os.kill(pid, signal.SIGKILL)
        worker.wait(30)
        server.release.set()
        with crash_app.app_context():
            row = db.session.get(Notification, row_id)
            assert row.state is NotificationState.sending  # claimed, never finished
            crash_app.config["NOTIFY_SENDING_TIMEOUT"] = 0
            assert delivery.sweep(db.session)["stalled"] == 1
        jobs.init_worker_app(crash_app)  # a new worker picks the re-queued send up
        with crash_app.app_context():
            queue = jobs.get_queue("notifications")
        SimpleWorker([queue], connection=redis_conn).work(burst=True)
        with crash_app.app_context():
            row = db.session.get(Notification, row_id, populate_existing=True)
            assert row.state is NotificationState.sent and row.attempts == 2
        assert [m.rcpt_tos for m in server.delivered] == [["crash@test.local"]]
    finally:
        jobs.init_worker_app(previous)
        server.release.set()
        controller.stop()
        log.close()
