"""What a desk shows beside its counts: an enterprise's returned items with the reason and the
proposals each of its needs received (new since its last visit), the province's quota left in
the current round, the administrator's last check of the audit chain.

Each goes through the jurisdiction rule and is kept like the counts (``todo.kept_for``), as
plain values: a kept desk reads none of them again until a table they read is written.
"""
import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select, union_all

from app.core.access import jurisdiction
from app.domain.desk.kept import kept_for
from app.domain.desk.todo import last_seen
from app.domain.funding import allocation
from app.extensions import db
from app.models import (
    AuditCheck,
    Contract,
    ContractState,
    Enterprise,
    EnterpriseState,
    Need,
    NeedState,
    Proposal,
    ProposalState,
)

LIMIT = 10  # rows of a panel; the to-do list links to all of them

RETURNED_KINDS = {
    "enterprise": (_l("Registration"), "EnterpriseModelView.show"),
    "need": (_l("Need"), "NeedModelView.show"),
    "contract": (_l("Contract"), "ContractModelView.show"),
}


@dataclass(frozen=True)
class Returned:
    kind: str  # a key of RETURNED_KINDS
    id: int
    name: str
    reason: str


@dataclass(frozen=True)
class NeedProposals:
    need_id: int
    title: str
    received: int
    new: int


@dataclass(frozen=True)
class LastCheck:
    checked_at: dt.datetime
    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    reason: str | None


def _returned_statement(user):
    parts = [
        jurisdiction.scoped(
            select(literal("enterprise").label("kind"), Enterprise.id, Enterprise.name,
                   Enterprise.return_reason, Enterprise.updated_at)
            .where(Enterprise.state == EnterpriseState.returned), Enterprise, user),
        jurisdiction.scoped(
            select(literal("need"), Need.id, Need.title, Need.return_reason, Need.updated_at)
            .where(Need.state.in_((NeedState.returned_by_bureau,
                                   NeedState.returned_by_platform))), Need, user),
        jurisdiction.scoped(
            select(literal("contract"), Contract.id, Need.title, Contract.return_reason,
                   Contract.updated_at).join(Need, Need.id == Contract.need_id)
            .where(Contract.state == ContractState.returned), Contract, user),
    ]
    both = union_all(*parts).subquery()
    return select(both).order_by(both.c.updated_at.desc()).limit(LIMIT)


def returned_items(user) -> list[Returned]:
    """The enterprise's registration, needs and contracts returned to it, newest first, each
    with the reviewer's reason."""
    return kept_for(user, "returned", (), lambda: _returned_statement(user), lambda stmt: [
        Returned(kind, pk, name or "", reason or "")
        for kind, pk, name, reason, _at in db.session.execute(stmt)])


def proposals_by_need(user, since: dt.datetime) -> list[NeedProposals]:
    """The enterprise's needs with the proposals they received, those with new ones (submitted
    after ``since``, its last look at its docking desk) first."""
    def build():
        new = func.sum(case((Proposal.submitted_at > since, 1), else_=0))
        stmt = (select(Need.id, Need.title, func.count(Proposal.id), new)
                .join(Proposal, Proposal.need_id == Need.id)
                .where(Proposal.state != ProposalState.draft)
                .group_by(Need.id, Need.title)
                .order_by(new.desc(), func.count(Proposal.id).desc(), Need.id.desc())
                .limit(LIMIT))
        return jurisdiction.scoped(stmt, Need, user)

    return kept_for(user, "proposals_by_need", (since,), build, lambda stmt: [
        NeedProposals(pk, title, int(received), int(new or 0))
        for pk, title, received, new in db.session.execute(stmt)])


def quota_left(user, round_id: int) -> allocation.Usage:
    """The round's funded projects and funding against its quota."""
    return kept_for(user, "quota", (round_id,), lambda: allocation.usage_statement(round_id),
                    lambda stmt: allocation.usage_of_row(db.session.execute(stmt).one()))


def last_audit_check(user) -> LastCheck | None:
    """The last verification of the audit chain, None if it was never verified."""
    def fetch(stmt):
        row = db.session.execute(stmt).first()
        return None if row is None else LastCheck(*row)

    return kept_for(user, "audit_check", (), lambda: select(
        AuditCheck.checked_at, AuditCheck.ok, AuditCheck.rows_checked, AuditCheck.first_bad_seq,
        AuditCheck.reason).order_by(AuditCheck.id.desc()).limit(1), fetch)


def names_for(user) -> tuple:
    """The names of the panels the user's desk shows (their kept parts' names), by role."""
    roles = jurisdiction.role_names(user)
    return ((("returned", "proposals_by_need") if "Enterprise" in roles else ())
            + (("quota",) if "Province" in roles else ())
            + (("audit_check",) if "Admin" in roles else ()))


def of(user, round_id: int | None) -> dict:
    """The panels of the user's desk: ``{name: value}``."""
    names, found = names_for(user), {}
    if "returned" in names:
        found["returned"] = returned_items(user)
        found["by_need"] = proposals_by_need(user, last_seen(user, "proposals"))
    if "quota" in names and round_id is not None:
        found["quota"] = quota_left(user, round_id)
    if "audit_check" in names:
        found["audit_check"] = last_audit_check(user)
    return found
