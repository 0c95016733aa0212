"""What the rules after 立项 share about the project they act on: the project a user opened
(visible to them, in the states the rule allows), the project locked for a change of its money,
and a refusal said before the form is filled."""
from sqlalchemy import select

from app.core.access import jurisdiction
from app.extensions import db
from app.models import Project
from app.workflows.errors import RuleViolation


def project_in(user, project_id, states, error, missing, wrong_state):
    """The project ``project_id`` if ``user`` sees it and it is in ``states``; else raise
    ``error`` with ``missing`` (no such project for them) or ``wrong_state(project)``."""
    project = None
    if str(project_id or "").isdigit():
        project = jurisdiction.visible(db.session, Project, int(project_id), user)
    if project is None:
        raise error(missing)
    if project.state not in states:
        raise error(wrong_state(project))
    return project


def locked_project(project_id) -> Project:
    """The project, locked for the transaction and read afresh: a row loaded before the lock
    would show the funding and state another clerk changed meanwhile (PostgreSQL row lock;
    SQLite serialises writers anyway). Every rule on a project's money starts here."""
    return db.session.scalars(select(Project).where(Project.id == project_id)
                              .with_for_update()
                              .execution_options(populate_existing=True)).one()


def refusal(check, *args) -> str | None:
    """Why ``check(*args)`` refuses (its message), or None: what a form shows before anything
    is typed. Nothing is flushed meanwhile."""
    try:
        with db.session.no_autoflush:
            check(*args)
    except RuleViolation as refused:
        return str(refused)
    return None
