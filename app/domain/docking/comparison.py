"""Side-by-side comparison of the proposals to one need (notice §三(三) 优中选优).

The enterprise sets its criteria and their weights once per need and scores each proposal
0–10 on each; the weighted total is Σ weight × score / Σ weight, shown only when every weighted
criterion is scored (a half-scored proposal must not look worse or better than it is). The
scores are the enterprise's own: no researcher and no other enterprise reads them.
"""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.core.access import jurisdiction
from app.extensions import db
from app.models import ComparisonCriterion, Proposal, ProposalScore, ProposalState
from app.models.proposal import DEFAULT_CRITERIA
from app.workflows.errors import RuleViolation

MIN_COMPARED, MAX_COMPARED = 2, 5
MAX_CRITERIA = 8
MAX_SCORE = Decimal(10)
# Drafts are the researcher's own; withdrawn ones are no longer offered.
COMPARABLE_STATES = (ProposalState.submitted, ProposalState.shortlisted, ProposalState.selected,
                     ProposalState.declined)


class ComparisonError(RuleViolation):
    pass


def comparable_proposals(need):
    """Every proposal to ``need`` the enterprise may compare, best-known first."""
    stmt = (select(Proposal).where(Proposal.need_id == need.id,
                                   Proposal.state.in_(COMPARABLE_STATES))
            .order_by(Proposal.submitted_at, Proposal.id))
    return db.session.scalars(jurisdiction.scoped(stmt, Proposal)).all()


def proposals_to_compare(need, ids) -> list:
    """The 2–5 proposals named by ``ids``, all to ``need`` and visible to the user, in the
    order asked; raises ComparisonError otherwise."""
    wanted = []
    for value in ids:
        if not str(value).isdigit():
            raise ComparisonError(_("Choose the proposals to compare from the list."))
        if int(value) not in wanted:
            wanted.append(int(value))
    if not MIN_COMPARED <= len(wanted) <= MAX_COMPARED:
        raise ComparisonError(_("Choose between %(low)d and %(high)d proposals to compare.",
                                low=MIN_COMPARED, high=MAX_COMPARED))
    by_id = {p.id: p for p in comparable_proposals(need) if p.id in wanted}
    if len(by_id) != len(wanted):
        raise ComparisonError(_("Only submitted proposals to this need can be compared."))
    return [by_id[i] for i in wanted]


def criteria_of(need) -> list:
    """The need's criteria; the defaults (unsaved) until the enterprise first saves."""
    saved = db.session.scalars(select(ComparisonCriterion)
                               .where(ComparisonCriterion.need_id == need.id)
                               .order_by(ComparisonCriterion.position,
                                         ComparisonCriterion.id)).all()
    if saved:
        return saved
    return [ComparisonCriterion(need_id=need.id, position=i, code=code, weight=weight)
            for i, (code, (_title, weight)) in enumerate(DEFAULT_CRITERIA.items())]


def scores_of(proposals) -> dict:
    """{(proposal_id, criterion_id): score} for ``proposals``."""
    ids = [p.id for p in proposals]
    rows = db.session.scalars(select(ProposalScore).where(ProposalScore.proposal_id.in_(ids)))
    return {(s.proposal_id, s.criterion_id): s.score for s in rows}


def weighted_total(criteria, scores, proposal_id):
    """Σ weight × score / Σ weight on the 0–10 scale, or None while a weighted criterion is
    unscored."""
    weighted = [c for c in criteria if c.weight and c.id is not None]
    if not weighted:
        return None
    total = Decimal(0)
    for criterion in weighted:
        score = scores.get((proposal_id, criterion.id))
        if score is None:
            return None
        total += criterion.weight * Decimal(score)
    return (total / sum(c.weight for c in weighted)).quantize(Decimal("0.01"))


def _parse_weight(raw, label):
    raw = (raw or "").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        raise ComparisonError(_("The weight of “%(criterion)s” must be a whole number from 0 to "
                                "100.", criterion=label))
    return int(raw)


class BadScore(str):
    """A score as typed that is not a number from 0 to 10: refused alone, kept to correct."""


def _parse_score(raw):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        score = Decimal(raw)
    except InvalidOperation:
        score = None
    if score is None or not score.is_finite() or not 0 <= score <= MAX_SCORE:
        return BadScore(raw[:20])
    return score.quantize(Decimal("0.1"))


def save_comparison(need, proposals, rows):
    """Store the criteria and scores the enterprise entered.

    ``rows``: one dict per criterion as the form sent it, in display order —
    ``{"id": str|None, "code": str|None, "name": str, "weight": str, "remove": bool,
    "scores": {proposal_id: str}}``. A row with no id and no name is an unused blank row.
    A bad criterion (name, weight, count) raises ComparisonError and changes nothing. A bad
    score is refused alone: the other scores are stored, that one keeps its stored value, and
    it comes back in ``{(criterion id, proposal id): (message, value as typed)}``. No commit.
    """
    existing = {c.id: c for c in criteria_of(need) if c.id is not None}
    kept, parsed = [], []
    for row in rows:
        criterion_id = int(row["id"]) if str(row.get("id") or "").isdigit() else None
        if criterion_id is not None and criterion_id not in existing:
            raise ComparisonError(_("The criteria changed meanwhile; reload the page."))
        name = (row.get("name") or "").strip()
        code = row.get("code") if row.get("code") in DEFAULT_CRITERIA else None
        if row.get("remove") or (criterion_id is None and not name and not code):
            continue
        default_label = str(DEFAULT_CRITERIA[code][0]) if code else None
        if not name and not code:
            raise ComparisonError(_("Every criterion needs a name."))
        if len(name) > 60:
            raise ComparisonError(_("A criterion's name may have at most 60 characters."))
        label = name or default_label
        weight = _parse_weight(row.get("weight"), label)
        scores = {int(pid): _parse_score(raw) for pid, raw in row.get("scores", {}).items()}
        parsed.append((criterion_id, code if name in ("", default_label) else None,
                       None if name in ("", default_label) else name, weight, scores, label))
        kept.append(criterion_id)
    if not parsed:
        raise ComparisonError(_("Keep at least one criterion."))
    if len(parsed) > MAX_CRITERIA:
        raise ComparisonError(_("At most %(count)d criteria.", count=MAX_CRITERIA))
    if not any(row[3] for row in parsed):
        raise ComparisonError(_("Give at least one criterion a weight above 0."))
    compared = {p.id for p in proposals}
    removed = [cid for cid in existing if cid not in kept]
    if removed:
        db.session.execute(delete(ProposalScore).where(ProposalScore.criterion_id.in_(removed)))
        db.session.execute(delete(ComparisonCriterion).where(ComparisonCriterion.id.in_(removed)))
    current = scores_of(proposals)
    refused = {}
    for position, (criterion_id, code, name, weight, scores, label) in enumerate(parsed):
        criterion = existing.get(criterion_id) or ComparisonCriterion(need_id=need.id)
        criterion.position, criterion.code, criterion.name = position, code, name
        criterion.weight = weight
        db.session.add(criterion)
        db.session.flush()
        for proposal_id, score in scores.items():
            if proposal_id not in compared:
                continue
            if isinstance(score, BadScore):
                refused[(criterion.id, proposal_id)] = (
                    _("Scores on “%(criterion)s” must be numbers from 0 to 10.",
                      criterion=label), str(score))
                continue
            _set_score(proposal_id, criterion.id, score, (proposal_id, criterion.id) in current)
    db.session.flush()
    return refused


def _set_score(proposal_id, criterion_id, score, exists):
    if score is None:
        if exists:
            db.session.execute(delete(ProposalScore).where(
                ProposalScore.proposal_id == proposal_id,
                ProposalScore.criterion_id == criterion_id))
        return
    row = db.session.scalars(select(ProposalScore).where(
        ProposalScore.proposal_id == proposal_id,
        ProposalScore.criterion_id == criterion_id)).first() if exists else None
    if row is None:
        db.session.add(ProposalScore(proposal_id=proposal_id, criterion_id=criterion_id,
                                     score=score))
    else:
        row.score = score
