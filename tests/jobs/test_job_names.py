"""RQ stores a job's dotted name with every queued and scheduled job, so a job that moves or is
renamed leaves the jobs already in Redis unable to run. These names are a contract: the list is
written here by hand, not read from the code, so that a rename fails this test."""
import ast
import pathlib
import re

import pytest
from rq import SimpleWorker
from rq.job import JobStatus
from werkzeug.utils import import_string

from app.core import queue
from app.jobs.schedule import PERIODIC

STABLE_JOB_NAMES = (
    "app.jobs.notifications.send_notification",
    "app.jobs.notifications.send_notifications",
    "app.jobs.notifications.sweep_notifications",
    "app.jobs.notifications.send_work_digests",
    "app.jobs.matching.match_need",
    "app.jobs.matching.match_researcher",
    "app.jobs.matching.rematch_all",
    "app.jobs.matching.rematch_block",
    "app.jobs.matching.push_block",
    "app.jobs.matching.send_match_digests",
    "app.jobs.matching.sweep_matching",
    "app.jobs.projects.send_report_reminders",
    "app.jobs.projects.finalise_publicities",
    "app.jobs.projects.send_progress_reminders",
    "app.jobs.audit.check_audit_chain",
)
APP = pathlib.Path(__file__).resolve().parents[2] / "app"
DOTTED_JOB = re.compile(r"^app\.jobs\.\w+\.\w+$")


@pytest.mark.parametrize("name", STABLE_JOB_NAMES)
def test_a_stable_name_is_still_a_job(name):
    function = import_string(name)
    assert callable(function) and hasattr(function, "__wrapped__"), f"{name} is not an @job"


def _job_names_in_the_code():
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and DOTTED_JOB.match(node.value):
                yield node.value


def test_the_code_queues_jobs_only_by_stable_names():
    named = set(_job_names_in_the_code()) | set(PERIODIC)
    assert named, "the code names no job by its dotted name: has the convention changed?"
    assert named <= set(STABLE_JOB_NAMES)


def test_jobs_queued_by_their_dotted_names_run_in_a_worker(app, make, db_session, async_queue):
    with app.app_context():
        jobs = [queue.get_queue("notifications").enqueue("app.jobs.notifications.sweep_notifications"),
                queue.get_queue("notifications").enqueue("app.jobs.notifications.send_notifications", []),
                queue.get_queue("default").enqueue("app.jobs.projects.send_report_reminders", False)]
        queues = [queue.get_queue(name) for name in queue.QUEUES]
    SimpleWorker(queues, connection=async_queue).work(burst=True)
    for job in jobs:
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, (job.func_name, job.latest_result())
