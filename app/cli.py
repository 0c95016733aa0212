"""Flask CLI commands: ``flask seed | init-roles | demo | worker | translate ...``."""
import logging
import subprocess
import sys
import time

import click
from babel.messages.pofile import read_po, write_po
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from sqlalchemy import select

from app.core import audit
from app.core.notifications import delivery
from app.core.queue import QUEUES, get_queue, init_worker_app, redis_connection
from app.core.security import sync_roles
from app.domain.demo import load_demo
from app.domain.desk import notices
from app.domain.funding.execution import send_report_reminders
from app.domain.funding.publicity import finalise_due
from app.domain.matching.push_rounds import run_push_round, start_push_round
from app.domain.matching.runs import progress_of, run_rematch, start_rematch
from app.domain.reference.loader import seed_reference_data
from app.domain.words import warm_up
from app.extensions import db
from app.jobs import schedule
from app.models import Project
from app.utils import clock
from app.workflows.errors import RuleViolation


@click.command("seed")
@with_appcontext
def seed_command():
    """Load the reference data and the 2020 Hubei round (idempotent)."""
    counts = seed_reference_data()
    click.echo(f"reference data: {counts['created']} created, {counts['updated']} updated")


@click.command("init-roles")
@with_appcontext
def init_roles_command():
    """Create every view's permissions and converge the six roles to ROLE_DEFINITIONS."""
    for role, count in sync_roles(current_app.appbuilder).items():
        click.echo(f"{role}: {count} permissions")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load a small demo dataset and print the demo accounts (never for production)."""
    for line in load_demo():
        click.echo(line)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork per job).")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst, simple, queues):
    """Run an RQ worker with this app preloaded (stock `rq worker` rebuilds it per job)."""
    configure_worker_logging()

    app = current_app._get_current_object()
    init_worker_app(app)
    warm_up()  # the segmenter's dictionary, loaded once here rather than in every forked job
    if not simple:
        db.engine.dispose()  # forked work-horses must not share the parent's connections
    unknown = set(queues) - set(QUEUES)
    if unknown:
        raise click.BadParameter(f"unknown queue(s): {', '.join(sorted(unknown))}")
    names = list(queues) or list(QUEUES)
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([get_queue(n) for n in names], connection=redis_connection(app))
    schedule.start(names)  # each periodic job schedules its next run; this (re)starts them
    worker.work(burst=burst, with_scheduler=True)


def configure_worker_logging():
    """Jobs' INFO lines go to stderr. Python drops INFO records that no handler takes, and
    with ``SMS_BACKEND=log`` the log *is* the SMS gateway: without this, every SMS the worker
    sent in development vanished. A handler already configured is kept."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group("notifications")
def notifications():
    """Notification delivery."""


@notifications.command("sweep")
@with_appcontext
def notifications_sweep():
    """Re-queue pending rows that no job will send and rows whose worker died mid-send."""
    counts = delivery.sweep(db.session)
    click.echo(f"re-queued: {counts['pending']} pending, {counts['stalled']} stalled")


@click.group("translate")
def translate():
    """Extract, update and compile the message catalogs."""


def _pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)


@translate.command("extract")
def translate_extract():
    """Extract messages into translations/messages.pot."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
             "--sort-output", "--omit-header", "--width=100", "-o", "translations/messages.pot",
             ".")


@translate.command("update")
def translate_update():
    """Merge the template into the zh and en catalogs; English msgids are their own English."""
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
             "--no-fuzzy-matching", "--ignore-obsolete", "--width=100")
    fill_english_catalog("translations/en/LC_MESSAGES/messages.po")


def fill_english_catalog(path):
    """The source strings are English, so the en catalog is the identity: filled, never stale."""
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)


@translate.command("compile")
def translate_compile():
    """Compile the catalogs to .mo files."""
    _pybabel("compile", "-d", "translations")


@click.group("matching")
def matching_group():
    """Two-way matching of needs and researchers."""


@matching_group.command("rematch")
@click.option("--inline", is_flag=True,
              help="Run every block in this process, with no worker (and no Redis).")
@click.option("--no-wait", is_flag=True, help="Queue the blocks for the workers and return.")
@click.option("--blocks", type=int, default=None,
              help="Blocks of researchers and of needs (default REMATCH_BLOCKS).")
@with_appcontext
def matching_rematch(inline, no_wait, blocks):
    """Rank every published need and approved researcher: by default the run's blocks are
    queued for `flask worker` processes (matching queue) and the command shows their progress
    until the run ends (Ctrl-C stops watching, not the run)."""
    inline = inline or not current_app.config["REDIS_URL"]
    try:
        run_id = start_rematch(None, in_background=not inline, blocks=blocks).id
    except RuleViolation as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()  # and nothing read in this session while the workers write
    with click.progressbar(length=1, label=f"re-match {run_id}, blocks") as bar:
        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        if inline:
            run_rematch(run_id, progress)
        elif no_wait:
            click.echo(f"run {run_id}: blocks queued on 'matching' for the workers")
            return
        while True:
            state = progress_of(run_id)
            progress(state["blocks_done"], max(state["blocks"], 1))
            if state["finished"]:
                break
            time.sleep(2)
    state = progress_of(run_id)
    if state["error"]:
        raise click.ClickException(f"run {run_id} failed: {state['error']}")
    click.echo(f"run {run_id}: {state['done']} ranked, {state['matches']} new matches")


@matching_group.command("digests")
@click.option("--period", default=None, help="Digest period name (default: today's date).")
@click.option("--blocks", type=int, default=None,
              help="Blocks of researchers and of enterprises (default: PUSH_BLOCKS).")
@click.option("--inline/--queue", default=True,
              help="Run every block here (default), or queue them for the workers.")
@with_appcontext
def matching_digests(period, blocks, inline):
    """Push the matches nobody has been told about, one digest per person and period, as a
    push round by blocks; a period already pushed sends nothing again."""
    period = period or clock.today().isoformat()
    if not inline:
        round_ = start_push_round(period, blocks=blocks)
        db.session.commit()
        click.echo(f"push round {round_.id}: {len(round_.blocks)} blocks queued")
        return
    with click.progressbar(length=1, label="blocks") as bar:
        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)
        round_ = run_push_round(period, blocks=blocks, progress=progress)
    if round_.error:
        raise click.ClickException(f"push round {round_.id} failed: {round_.error}")
    click.echo(f"push round {round_.id}: {round_.digests} digests")


@click.group("projects")
def projects_group():
    """Funded projects: execution deadline and evaluation."""


@projects_group.command("remind")
@with_appcontext
def projects_remind():
    """Send the due summary-report reminders once (idempotent: nothing is sent twice)."""
    count = send_report_reminders()
    db.session.commit()
    click.echo(f"{count} reminders")


@projects_group.command("finalise-publicity")
@with_appcontext
def projects_finalise_publicity():
    """Fund the proposed projects whose 公示 is over and not held by an objection (idempotent;
    the periodic job does the same every PUBLICITY_INTERVAL)."""
    count = finalise_due()
    db.session.commit()
    click.echo(f"{count} project(s) funded")


@projects_group.command("overdue")
@with_appcontext
def projects_overdue():
    """List the projects past their execution end and not yet self-accepted."""


    for project in db.session.scalars(select(Project).where(Project.overdue_clause())
                                      .order_by(Project.number)):
        click.echo(f"{project.number}\t{project.deadline}\t{project.state.value}\t"
                   f"{project.enterprise.name}")


@click.group("audit")
def audit_group():
    """The audit log: verify its hash chain, purge rows past the retention period."""


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Check every link of the chain; exit 1 and name the first broken row if one is."""
    result = notices.check_audit_chain("cli")
    db.session.commit()
    if result.ok:
        click.echo(f"audit chain intact: {result.rows_checked} rows checked")
        return
    click.echo(f"audit chain BROKEN at row id={result.first_bad_id} seq={result.first_bad_seq}: "
               f"{result.reason} ({result.rows_checked} rows before it are intact)", err=True)
    sys.exit(1)


@audit_group.command("purge")
@click.option("--days", type=int, required=True,
              help="Remove rows older than this many days (at least AUDIT_RETENTION_DAYS).")
@with_appcontext
def audit_purge(days):
    """Remove audit rows older than --days days; the chain stays verifiable."""
    try:
        count = audit.purge(days)
    except audit.RetentionTooShort as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{count} audit rows removed")


def register_cli(app):
    for command in (seed_command, init_roles_command, demo_command, worker_command, notifications,
                    translate, matching_group, projects_group, audit_group):
        app.cli.add_command(command)
