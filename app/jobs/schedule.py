"""The periodic jobs, declared in one table (as redash keeps its periodic jobs in one place).

A periodic job runs once per slot of its interval (the next multiple of the interval in seconds
since the epoch); the job id names the slot, so every worker starting up and the running job
itself schedule the same one, and there is one run per slot however many workers there are.
Each job schedules its next slot when it ends, even after a failure; ``flask worker`` (re)starts
the chain for the queues it serves.

Keys are the jobs' dotted names and the prefixes are the job ids' (RQ stores both with every
scheduled job): renaming one leaves the jobs already scheduled under the old name behind.
"""
import datetime as dt
from dataclasses import dataclass

from flask import current_app

from app.core.display import local_time
from app.core.queue import schedule_in_slot


@dataclass(frozen=True)
class Periodic:
    queue: str
    interval_setting: str  # the config key of the interval, in seconds
    job_id_prefix: str
    # The digests name their period after the slot's start, so a re-run of a slot sends
    # nothing twice.
    period_argument: bool = False


PERIODIC = {
    "app.jobs.notifications.sweep_notifications":
        Periodic("notifications", "NOTIFY_SWEEP_INTERVAL", "notifications-sweep-"),
    "app.jobs.notifications.send_work_digests":
        Periodic("notifications", "WORK_DIGEST_INTERVAL", "work-digest-"),
    "app.jobs.projects.send_report_reminders":
        Periodic("default", "REPORT_REMINDER_INTERVAL", "report-reminders-"),
    "app.jobs.projects.send_progress_reminders":
        Periodic("default", "REPORT_REMINDER_INTERVAL", "progress-reminders-"),
    "app.jobs.projects.finalise_publicities":
        Periodic("default", "PUBLICITY_INTERVAL", "publicity-finalise-"),
    "app.jobs.matching.send_match_digests":
        Periodic("matching", "DIGEST_INTERVAL", "match-digest-", period_argument=True),
    "app.jobs.matching.sweep_matching":
        Periodic("matching", "MATCH_SWEEP_INTERVAL", "matching-sweep-"),
    "app.jobs.audit.check_audit_chain":
        Periodic("default", "AUDIT_CHECK_INTERVAL", "audit-check-"),
}


def schedule_next(name: str, now: float | None = None):
    """Schedule the periodic job ``name`` in its next slot (after ``now``); returns the job."""
    periodic = PERIODIC[name]
    interval = current_app.config[periodic.interval_setting]
    args = (lambda slot: _period_of(slot, interval),) if periodic.period_argument else ()
    return schedule_in_slot(periodic.queue, name, periodic.job_id_prefix, interval, *args,
                            now=now)


def _period_of(slot: int, interval: int) -> str:
    """A slot's period as staff read it on the matching page: its start in local time
    (``2026-12-07 16:00``), one name per slot as long as the interval is a minute or more."""
    return local_time(dt.datetime.fromtimestamp(slot * interval, tz=dt.timezone.utc))


def start(queues) -> list[str]:
    """Schedule every periodic job of ``queues`` (a worker starting up); returns their names."""
    names = [name for name, periodic in PERIODIC.items() if periodic.queue in queues]
    for name in names:
        schedule_next(name)
    return names
