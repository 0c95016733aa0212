"""Rules of the technology development contract (notice §三(五), §四): who submits it for
which selection, what it must carry, and what its approval creates."""
import hashlib
import os.path as op

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.access import jurisdiction
from app.domain.docking.proposals import CLOSED_PHASES
from app.domain.funding import allocation as funding
from app.extensions import db
from app.models import (
    Action,
    Contract,
    ContractState,
    NeedState,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
)
from app.utils import clock
from app.workflows.engine import apply_action
from app.workflows.errors import ConcurrentDecision, RuleViolation

FILES = ("contract_file", "invoice_file", "transfer_file")
# The states in which a need takes (further) contracts: the first moves it to contracted.
CONTRACTING_NEED_STATES = (NeedState.docking, NeedState.contracted)


class ContractRuleError(RuleViolation):
    pass


def file_hash(stored_name) -> str | None:
    if not stored_name:
        return None
    path = op.join(current_app.config["UPLOAD_FOLDER"], stored_name)
    if not op.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_contents(contract):
    missing = [name for name in FILES if not getattr(contract, name)]
    if missing:
        raise ContractRuleError(_("The contract, the invoice and the bank transfer proof are all "
                                  "required."))
    if contract.amount is None or contract.amount <= 0 or contract.signed_on is None:
        raise ContractRuleError(_("Give the contract amount and the signing date."))
    for name in FILES:
        setattr(contract, f"{name}_hash", file_hash(getattr(contract, name)))


def _check_round_open(program_round, today=None):
    if program_round.phase_on(today or clock.today()) in CLOSED_PHASES:
        raise ContractRuleError(_("Contracts of this round had to be submitted by %(date)s.",
                                  date=program_round.matching_end))


def _selection_to_contract(user, proposal_id):
    """The selected proposal ``proposal_id`` of ``user``'s enterprise that may take a contract
    now, and its need; raises ContractRuleError saying why not."""
    if getattr(user, "enterprise_id", None) is None:
        raise ContractRuleError(_("Only an enterprise account can submit a contract."))
    proposal = None
    if str(proposal_id or "").isdigit():
        proposal = jurisdiction.visible(db.session, Proposal, int(proposal_id), user)
    if proposal is None or proposal.need.enterprise_id != user.enterprise_id:
        raise ContractRuleError(_("Choose one of your selected proposals to submit its "
                                  "contract."))
    if proposal.state is not ProposalState.selected:
        raise ContractRuleError(_("A contract follows a selection (合作意向); this proposal is "
                                  "“%(state)s”.", state=proposal.state.title))
    need = proposal.need
    if need.state not in CONTRACTING_NEED_STATES:
        raise ContractRuleError(_("The need is “%(state)s”; it takes no contract.",
                                  state=need.state.title))
    _check_round_open(need.round)

    if db.session.scalar(select(func.count(Contract.id))
                         .where(Contract.proposal_id == proposal.id)):
        raise ContractRuleError(_("This selection already has a contract; open it instead."))
    return proposal, need


def why_no_new_contract(user, proposal_id) -> str | None:
    """Why ``user`` may not write this contract now (shown above the empty form), or None."""
    try:
        with db.session.no_autoflush:
            _selection_to_contract(user, proposal_id)
    except ContractRuleError as refusal:
        return str(refusal)
    return None


def prepare_new_contract(contract, user, proposal_id):
    """Make ``contract`` the draft contract of the selected proposal ``proposal_id`` of
    ``user``'s enterprise: the parties come from the selection, never from the form. The
    enterprise then sees the cross-checks and submits it (``submit_draft``)."""
    proposal, need = _selection_to_contract(user, proposal_id)
    with db.session.no_autoflush:
        contract.proposal, contract.need, contract.round = proposal, need, need.round
        contract.enterprise, contract.researcher = need.enterprise, proposal.researcher
        contract.institution = proposal.researcher.institution
        contract.state = ContractState.draft
        _check_contents(contract)
    db.session.add(contract)
    db.session.flush()


def submit_draft(contract, actor):
    """After a draft's submission (the transition's ``then``): the first submitted contract
    of a need moves it to contracted."""
    need = contract.need
    if need.state is NeedState.docking:
        apply_action(need, Action.contract, actor)


def check_contracted(need):
    """Guard of the need's ``contract``: a need is contracted by a contract submitted for one of
    its selections, never by the enterprise's word alone."""
    if not db.session.scalar(select(func.count(Contract.id)).where(
            Contract.need_id == need.id, Contract.state != ContractState.draft)):
        raise ContractRuleError(_("A need is contracted when the contract of a selection is "
                                  "submitted; this need has none."))


def check_editable(contract):
    if contract.state not in (ContractState.draft, ContractState.returned):
        raise ContractRuleError(_("A contract can only be corrected as a draft or after the "
                                  "province returned it."))
    _check_contents(contract)


def check_resubmittable(contract):
    _check_contents(contract)
    _check_round_open(contract.round)


def check_fundable(contract):
    """Guard of the approval: the round's funding rules (app/domain/funding/allocation.py)."""
    funding.check_fundable(contract)


def next_project_number(program_round) -> str:
    """<round code>-<sequence>, e.g. HB2020-001; called under the round lock of the approval."""
    count = db.session.scalar(select(func.count(Project.id))
                              .where(Project.round_id == program_round.id))
    return f"{program_round.code}-{count + 1:03d}"


def create_project(contract, actor):
    """An approved contract becomes a proposed project (立项), funded once its 公示 is over
    (app/domain/funding/publicity.py)."""
    project = Project(number=next_project_number(contract.round), round=contract.round,
                      contract=contract, state=ProjectState.proposed, enterprise_id=contract.enterprise_id,
                      researcher_id=contract.researcher_id,
                      funding=funding.funding_for(contract.amount, contract.round))
    db.session.add(project)
    try:
        db.session.flush()
    except IntegrityError:
        # Another approval took the number or the enterprise's place a moment ago.
        db.session.rollback()
        raise ConcurrentDecision(_("Someone else decided this record a moment ago; reload it "
                                   "to see the new state.")) from None
    return project
