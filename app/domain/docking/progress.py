"""What each side sees of docking: a researcher's recommended needs and proposals, an
enterprise's needs with their proposals, and the staff's progress of every need in their
jurisdiction. Read-only queries; every one goes through the jurisdiction rule."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import joinedload

from app.core import list_counts
from app.core.access import jurisdiction
from app.extensions import db
from app.models import (
    Enterprise,
    Match,
    Message,
    Need,
    NeedState,
    Proposal,
    ProposalState,
    Researcher,
)
from app.utils import clock

# Needs whose docking staff follow: from publication to the contract and beyond.
DOCKING_NEED_STATES = (NeedState.published, NeedState.docking, NeedState.contracted,
                       NeedState.closed)
COUNTED_STATES = (ProposalState.submitted, ProposalState.shortlisted, ProposalState.selected,
                  ProposalState.declined, ProposalState.withdrawn)


@dataclass
class NeedProgress:
    need: Need
    counts: dict  # ProposalState value → number (drafts never counted)
    messages: int
    last_activity: object

    @property
    def proposals(self):
        return sum(self.counts.values())


def _proposal_counts(need_ids):
    columns = [func.sum(case((Proposal.state == s, 1), else_=0)).label(s.value)
               for s in COUNTED_STATES]
    return (select(Proposal.need_id, *columns, func.max(Proposal.updated_at).label("last"))
            .where(Proposal.state != ProposalState.draft, Proposal.need_id.in_(need_ids))
            .group_by(Proposal.need_id).subquery())


def _message_counts(need_ids):
    return (select(Proposal.need_id, func.count(Message.id).label("messages"),
                   func.max(Message.created_at).label("last"))
            .join(Message, Message.proposal_id == Proposal.id)
            .where(Proposal.need_id.in_(need_ids))
            .group_by(Proposal.need_id).subquery())


def waiting_for_proposals(today: dt.date, days: int):
    """Published ``days`` or more before ``today`` and still without a proposal: the needs a
    bureau and the platform should push (the desk counts them, the progress page lists them)."""
    cutoff = clock.start_of(today - dt.timedelta(days=days))
    return and_(Need.state == NeedState.published, Need.published_at < cutoff,
                ~exists().where(Proposal.need_id == Need.id,
                                Proposal.state != ProposalState.draft))


def progress(states=DOCKING_NEED_STATES, region_id=None, enterprise_id=None, page=1,
             per_page=50, where=None):
    """(rows, total) of needs in ``states`` (and ``where``) with their proposal and message
    counts, newest publication first; two statements whatever the page size (the count kept
    while needs are unwritten)."""
    base = select(Need.id).where(Need.state.in_(states))
    if where is not None:
        base = base.where(where)
    if region_id is not None:
        base = base.where(Need.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.region_id == region_id)))
    if enterprise_id is not None:
        base = base.where(Need.enterprise_id == enterprise_id)
    base = jurisdiction.scoped(base, Need)
    total = list_counts.count_of(base)
    # The page's needs first, then the counts of those needs only: counting every proposal
    # and message of the province for a page of 50 took over a second.
    page_ids = (select(Need.id).where(Need.id.in_(base))
                .order_by(Need.published_at.desc(), Need.id.desc())
                .limit(per_page).offset((page - 1) * per_page))
    proposals, messages = _proposal_counts(page_ids), _message_counts(page_ids)
    stmt = (select(Need, proposals, messages.c.messages, messages.c.last.label("last_message"))
            .where(Need.id.in_(page_ids))
            .outerjoin(proposals, proposals.c.need_id == Need.id)
            .outerjoin(messages, messages.c.need_id == Need.id)
            .options(joinedload(Need.enterprise))
            .order_by(Need.published_at.desc(), Need.id.desc()))
    rows = []
    for row in db.session.execute(stmt):
        mapping = row._mapping
        counts = {s.value: int(mapping[s.value] or 0) for s in COUNTED_STATES}
        last = max((t for t in (mapping["last"], mapping["last_message"]) if t), default=None)
        rows.append(NeedProgress(row[0], counts, int(mapping["messages"] or 0), last))
    return rows, total


def proposals_of_researcher(researcher_id):
    stmt = (select(Proposal).where(Proposal.researcher_id == researcher_id)
            .options(joinedload(Proposal.need)).order_by(Proposal.id.desc()))
    return db.session.scalars(jurisdiction.scoped(stmt, Proposal)).all()


def recommended_needs(limit=10):
    """The user's best undismissed matches to needs still open for proposals."""
    open_needs = select(Need.id).where(Need.state.in_((NeedState.published, NeedState.docking)))
    stmt = jurisdiction.scoped(
        select(Match).where(Match.dismissed.is_(False), Match.need_id.in_(open_needs)), Match)
    return db.session.scalars(stmt.options(joinedload(Match.need))
                              .order_by(Match.score.desc(), Match.id).limit(limit)).all()


def proposals_to_need(need):
    """The proposals to ``need`` its enterprise may read (drafts stay the researcher's own)."""
    stmt = (select(Proposal).where(Proposal.need_id == need.id,
                                   Proposal.state != ProposalState.draft)
            # the researchers with their institutions: the page names both for each proposal
            .options(joinedload(Proposal.researcher).joinedload(Researcher.institution))
            .order_by(Proposal.submitted_at, Proposal.id))
    return db.session.scalars(jurisdiction.scoped(stmt, Proposal)).unique().all()
