"""The funding rules of a round (notice §四(二)), in one place: the contract approval, the
dashboards and the simulation all call these.

- A project receives min(contract amount, the round's cap).
- An enterprise has at most ``projects_per_enterprise`` funded projects in a round (1 in 2020;
  the database enforces one per round with uq_project_enterprise_round).
- A round funds at most ``project_quota`` projects unless it allows approvals past the quota.
- A project withdrawn after an upheld objection (公示) gives its place and funding back; its
  enterprise keeps its one project of the round spent (the database's constraint).
"""
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Contract, ContractState, Need, ProgramRound, Project
from app.models.contract import COUNTED_PROJECT_STATES
from app.workflows.errors import RuleViolation


class FundingRuleError(RuleViolation):
    pass


def funding_for(amount, program_round) -> Decimal:
    """What a contract of ``amount`` receives in ``program_round``."""
    return min(Decimal(amount), Decimal(program_round.funding_cap))


@dataclass(frozen=True)
class Usage:
    projects: int
    quota: int
    funding: Decimal
    cap: Decimal

    @property
    def remaining(self) -> int:
        return max(self.quota - self.projects, 0)

    @property
    def share(self) -> float:
        return self.projects / self.quota if self.quota else 0.0


def usage_statement(round_id: int):
    """One row: the round's funded projects, their funding, its quota and cap."""
    return (select(func.count(Project.id), func.coalesce(func.sum(Project.funding), 0),
                   ProgramRound.project_quota, ProgramRound.funding_cap)
            .select_from(ProgramRound)
            .outerjoin(Project, and_(Project.round_id == ProgramRound.id,
                                     Project.state.in_(COUNTED_PROJECT_STATES)))
            .where(ProgramRound.id == round_id)
            .group_by(ProgramRound.id, ProgramRound.project_quota, ProgramRound.funding_cap))


def usage_of_row(row) -> Usage:
    count, total, quota, cap = row
    return Usage(int(count), int(quota), Decimal(total), Decimal(cap))


def usage(program_round) -> Usage:
    """Funded projects and funding of the round so far, against its quota."""
    return usage_of_row(db.session.execute(usage_statement(program_round.id)).one())


def enterprise_projects(program_round_id, enterprise_id) -> int:
    return db.session.scalar(select(func.count(Project.id)).where(
        Project.round_id == program_round_id, Project.enterprise_id == enterprise_id))


def refusal(contract, projects_so_far: int, enterprise_count: int) -> str | None:
    """Why ``contract`` could not be funded given the counts so far, or None."""
    program_round = contract.round
    if enterprise_count >= program_round.projects_per_enterprise:
        return _("%(enterprise)s already has %(count)d funded project(s) in this round; the round "
                 "funds at most %(limit)d per enterprise.", enterprise=contract.enterprise.name,
                 count=enterprise_count, limit=program_round.projects_per_enterprise)
    if projects_so_far >= program_round.project_quota and not program_round.allow_over_quota:
        return _("The round's quota of %(quota)d projects is reached.",
                 quota=program_round.project_quota)
    return None


def lock_round(program_round_id):
    """Serialise approvals of one round, so that two at once cannot both take the last place
    of the quota (PostgreSQL row lock; SQLite serialises writers anyway)."""
    return db.session.scalars(select(ProgramRound).where(ProgramRound.id == program_round_id)
                              .with_for_update()).one()


def check_fundable(contract):
    """Guard of the contract approval."""
    lock_round(contract.round_id)
    reason = refusal(contract, usage(contract.round).projects,
                     enterprise_projects(contract.round_id, contract.enterprise_id))
    if reason:
        raise FundingRuleError(reason)


@dataclass
class SimulatedRow:
    contract: Contract
    funding: Decimal | None
    reason: str | None


def simulate(program_round, contracts=None) -> list[SimulatedRow]:
    """What the pending contracts would receive if approved in order (oldest submission
    first), after the projects already funded. Changes nothing."""
    if contracts is None:
        contracts = db.session.scalars(
            select(Contract).where(Contract.round_id == program_round.id,
                                   Contract.state == ContractState.submitted)
            # what the simulation page shows of each, with the contracts: one statement
            .options(joinedload(Contract.need).load_only(Need.id, Need.title),
                     joinedload(Contract.enterprise), joinedload(Contract.round))
            .order_by(Contract.created_at, Contract.id)).all()
    so_far = usage(program_round).projects
    per_enterprise = dict(db.session.execute(
        select(Project.enterprise_id, func.count(Project.id))
        .where(Project.round_id == program_round.id).group_by(Project.enterprise_id)).all())
    rows = []
    for contract in contracts:
        reason = refusal(contract, so_far, per_enterprise.get(contract.enterprise_id, 0))
        if reason:
            rows.append(SimulatedRow(contract, None, reason))
            continue
        so_far += 1
        per_enterprise[contract.enterprise_id] = per_enterprise.get(contract.enterprise_id, 0) + 1
        rows.append(SimulatedRow(contract, funding_for(contract.amount, program_round), None))
    return rows
