"""Rules of docking (notice §三(三)(四)): who may propose to which need, when a proposal is
complete, and what selecting a researcher does to the need. Shared by the back-office forms,
the docking pages and the REST API."""
import datetime as dt
from functools import lru_cache

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from app.core.access import jurisdiction
from app.extensions import db
from app.models import (
    PUBLIC_NEED_STATES,
    Action,
    Need,
    NeedState,
    Proposal,
    ProposalState,
    Researcher,
    ResearcherState,
    RoundPhase,
)
from app.utils import clock
from app.workflows.engine import apply_action
from app.workflows.errors import RuleViolation

# Phases after which no proposal is written, submitted or decided (contracts are signed by the
# end of the matching phase, notice §四).
CLOSED_PHASES = (RoundPhase.execution, RoundPhase.evaluation, RoundPhase.closed)
# What a submitted proposal must contain, in the order the comparison table shows it.
SECTIONS = {
    "approach": _l("Technical approach"),
    "expected_results": _l("Expected results and indicators"),
    "timeline": _l("Timeline and milestones"),
    "budget": _l("Budget (CNY)"),
    "team": _l("Team"),
}


class ProposalRuleError(RuleViolation):
    pass


def check_need_open(need, today: dt.date | None = None):
    """A need takes proposals and docking decisions while public and its round still matches."""
    if need.state not in PUBLIC_NEED_STATES:
        raise ProposalRuleError(_("The need “%(title)s” is not open for docking: it is “%(state)s”.",
                                  title=need.title, state=need.state.title))
    phase = need.round.phase_on(today or clock.today())
    if phase in CLOSED_PHASES:
        raise ProposalRuleError(_("Docking of this round ended on %(date)s.",
                                  date=need.round.matching_end))


@lru_cache(maxsize=2)
def _active_statement(brief: bool):
    """Built once (a need's page asks on every view by a researcher)."""
    columns = (Proposal.id, Proposal.state) if brief else (Proposal,)
    return Proposal.active_of(*columns, need_id=bindparam("need_id"),
                              researcher_id=bindparam("researcher_id"))


def active_proposal(need_id, researcher_id, brief: bool = False):
    """The researcher's active proposal to the need, if any: the row, or with ``brief`` only
    its id and state."""
    values = {"need_id": need_id, "researcher_id": researcher_id}
    if brief:  # plain columns: no ORM layer, a third of the time
        return db.session.connection().execute(_active_statement(True), values).first()
    return db.session.scalars(_active_statement(False), values).first()


def proposal_offer(user, need):
    """For the need's page: ("write", None) if ``user`` may write a proposal to ``need`` now,
    ("mine", proposal's id and state) if they already have an active one, else (None, None).
    ``need`` is a ``Need`` or a need's kept page (``app/public/need_page.py``): its id, state,
    title and round."""
    researcher_id = getattr(user, "researcher_id", None)
    if researcher_id is None or "Researcher" not in jurisdiction.role_names(user):
        return None, None
    read_along = getattr(user, "proposal_to", None)  # a Visitor read with the user
    if read_along is not None and read_along[0] == need.id:
        existing = read_along[1]
    else:
        existing = active_proposal(need.id, researcher_id, brief=True)
    if existing is not None:
        return "mine", existing
    try:
        check_need_open(need)
    except ProposalRuleError:
        return None, None
    if user.researcher.state is not ResearcherState.approved:
        return None, None
    return "write", None


def why_no_new_proposal(user, need_id) -> str | None:
    """Why ``user`` may not write a proposal to ``need_id`` now (shown above the empty form),
    or None. The rule is ``prepare_new_proposal``'s, tried on a record that is never stored."""
    try:
        with db.session.no_autoflush:
            prepare_new_proposal(Proposal(), user, need_id)
    except ProposalRuleError as refusal:
        return str(refusal)
    return None


def prepare_new_proposal(proposal, user, need_id):
    """Make ``proposal`` a draft of ``user``'s researcher record for the need ``need_id``.

    Whatever need or researcher the request named elsewhere is replaced. No flush.
    """
    researcher_id = getattr(user, "researcher_id", None)
    if researcher_id is None:
        raise ProposalRuleError(_("Only a researcher account can write a proposal."))
    with db.session.no_autoflush:
        researcher = db.session.get(Researcher, researcher_id)
        if researcher.state is not ResearcherState.approved:
            raise ProposalRuleError(_("Your registration must be approved by the platform before "
                                      "you submit proposals; it is now “%(state)s”.",
                                      state=researcher.state.title))
        need = None
        if str(need_id or "").isdigit():
            need = jurisdiction.visible(db.session, Need, int(need_id), user)
        if need is None:
            raise ProposalRuleError(_("Choose a published need to write a proposal for."))
        check_need_open(need)
        existing = active_proposal(need.id, researcher.id)
        if existing is not None:
            raise ProposalRuleError(_("You already have a proposal (%(proposal)s) to this need; "
                                      "edit it, or withdraw it before writing another.",
                                      proposal=existing))
        proposal.need = need
        proposal.researcher = researcher
    proposal.state = ProposalState.draft


def check_proposal_editable(proposal):
    if proposal.state is not ProposalState.draft:
        raise ProposalRuleError(_("A proposal can only be changed while it is a draft; withdraw "
                                  "it and write a new one instead."))


def check_proposal_deletable(proposal):
    if proposal.state is not ProposalState.draft:
        raise ProposalRuleError(_("Only a draft can be deleted; withdraw the proposal instead."))


def missing_sections(proposal) -> list[str]:
    missing = []
    for name, title in SECTIONS.items():
        value = getattr(proposal, name)
        empty = (value is None or value <= 0) if name == "budget" else not (value or "").strip()
        if empty:
            missing.append(str(title))
    return missing


def join_names(names) -> str:
    """``names`` written as the locale writes a list (“甲、乙和丙”, “a, b, and c”): a literal
    “、” would show on English pages."""
    names = [str(n) for n in names]
    if not names:
        return ""
    locale = get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    return format_list(names, locale=locale)


def check_proposal_submittable(proposal):
    """Guard of ``submit``: the sections the enterprise compares are all there."""
    missing = missing_sections(proposal)
    if missing:
        raise ProposalRuleError(_("Please complete before submitting: %(sections)s.",
                                  sections=join_names(missing)))
    if proposal.researcher.state is not ResearcherState.approved:
        raise ProposalRuleError(_("Your registration is no longer approved; the proposal cannot "
                                  "be submitted."))
    check_need_open(proposal.need)


def check_decidable(proposal):
    """Guard of shortlist and select: the need is still open for docking."""
    check_need_open(proposal.need)


def check_selected(need):
    """Guard of the need's ``start_docking``: docking starts with a selection (合作意向) of one
    of its proposals, never by the enterprise's word alone."""
    selected = db.session.scalar(select(func.count(Proposal.id)).where(
        Proposal.need_id == need.id, Proposal.state == ProposalState.selected))
    if not selected:
        raise ProposalRuleError(_("Docking starts when you select a researcher's proposal; "
                                  "none of this need's proposals is selected."))


def start_docking(proposal, actor):
    """After a selection (合作意向): the need moves from published to docking (once)."""

    if proposal.need.state is NeedState.published:
        apply_action(proposal.need, Action.start_docking, actor)
