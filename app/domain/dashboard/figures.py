"""The figures of a program round's dashboard, for the province (every row) and for a bureau
(its own region): the docking funnel, its breakdowns (region, need category, technical domain
and field), the funding against the quota, the response to the pushes and the project list of
the export. The page and the workbook show the same tables from the same rows.

Every statement goes through ``jurisdiction.scoped`` on the model it counts, so a bureau's
numbers never include another region's rows. Each figure is one GROUP BY statement per counted
model, never a loop over rows.
"""
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from app.core import cache_tokens, list_counts
from app.core.access import jurisdiction
from app.core.notifications.delivery import response_rates
from app.core.workbooks import streamed
from app.domain.funding import allocation as funding
from app.extensions import db
from app.models import (
    Contract,
    Enterprise,
    Institution,
    Match,
    Need,
    NeedCategory,
    Project,
    ProjectState,
    Proposal,
    ProposalState,
    Region,
    Researcher,
    TechDomain,
    TechField,
)
from app.models.contract import COUNTED_PROJECT_STATES, FINAL_PROJECT_STATES
from app.utils import clock

# The funnel, in order. "submitted" counts needs that ever left the draft (a returned or
# withdrawn need was still submitted once), "published" those that ever reached researchers.
# Projects count from their approval unless an upheld objection withdrew them; "final" those
# past their 公示 (app/domain/funding/publicity.py).
STAGES = (
    ("submitted", _l("Needs submitted")),
    ("published", _l("Needs published")),
    ("proposals", _l("Proposals")),
    ("contracts", _l("Contracts")),
    ("projects", _l("Projects approved (立项)")),
    ("final", _l("Funding final after the publicity")),
    ("evaluated", _l("Evaluated projects")),
)
STAGE_KEYS = tuple(key for key, _label in STAGES)

# Breakdown dimensions: the grouping column (reached through the need) and its reference table.
DIMENSIONS = {
    "region": (Enterprise.region_id, Region, (Region.sort_order, Region.code)),
    "category": (Need.category_id, NeedCategory, (NeedCategory.sort_order, NeedCategory.code)),
    "domain": (TechField.domain_id, TechDomain, (TechDomain.code,)),
    # The second level of the taxonomy, what needs are classified by (the "field").
    "field": (Need.field_id, TechField, (TechField.code,)),
}
DIMENSION_TITLES = {
    "region": _l("By region"),
    "category": _l("By need category"),
    "domain": _l("By technical domain"),
    "field": _l("By technical field"),
}
# The first column of each breakdown table.
DIMENSION_HEADERS = {
    "region": _l("Region"),
    "category": _l("Need category"),
    "domain": _l("Technical domain"),
    "field": _l("Technical field"),
}


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _measures(program_round):
    """Per counted model: (model, round filter, measures). Contracts and projects are counted
    by their own round (they carry it), proposals by their need's round."""
    return (
        (Need, Need.round_id == program_round.id,
         {"submitted": _count(Need.submitted_at.is_not(None)),
          "published": _count(Need.published_at.is_not(None))}),
        (Proposal, Need.round_id == program_round.id,
         {"proposals": _count(Proposal.state != ProposalState.draft)}),
        (Contract, Contract.round_id == program_round.id,
         {"contracts": func.count(Contract.id)}),
        (Project, Project.round_id == program_round.id,
         {"projects": _count(Project.state.in_(COUNTED_PROJECT_STATES)),
          "final": _count(Project.state.in_(FINAL_PROJECT_STATES)),
          "evaluated": _count(Project.state == ProjectState.evaluated),
          "funding": func.coalesce(func.sum(case(
              (Project.state.in_(COUNTED_PROJECT_STATES), Project.funding), else_=0)), 0)}),
    )


def _scoped(stmt, model, user):
    """``stmt`` limited to the ``model`` rows the user may see: the rule's clause on the
    statement itself. Its subqueries stand on their own (``jurisdiction.clause_for``), so the
    joins of these statements change nothing in them; applied through a separate ``SELECT
    id`` instead, the matches were joined to themselves, and PostgreSQL, misled by the
    statistics of an empty table, took minutes over a few thousand rows."""
    return jurisdiction.scoped(stmt, model, user)


def _joined(stmt, model):
    """Join ``model``'s statement up to Need, Enterprise and TechField."""
    if model is Proposal:
        stmt = stmt.select_from(Proposal).join(Need, Proposal.need_id == Need.id)
    elif model is Contract:
        stmt = stmt.select_from(Contract).join(Need, Contract.need_id == Need.id)
    elif model is Project:
        stmt = (stmt.select_from(Project).join(Contract, Project.contract_id == Contract.id)
                .join(Need, Contract.need_id == Need.id))
    else:
        stmt = stmt.select_from(Need)
    return (stmt.join(Enterprise, Need.enterprise_id == Enterprise.id)
            .join(TechField, Need.field_id == TechField.id))


def counts(program_round, group=None, user=None) -> dict:
    """``{key: {stage: n, ..., "funding": Decimal}}``; ``key`` is the dimension's id, or
    ``None`` for the whole round when ``group`` is None. Four statements."""
    key_column = DIMENSIONS[group][0] if group else None
    result = {}
    for model, where, measures in _measures(program_round):
        columns = [key_column] if key_column is not None else []
        stmt = _joined(select(*columns, *measures.values()), model).where(where)
        if key_column is not None:
            stmt = stmt.group_by(key_column)
        stmt = _scoped(stmt, model, user)
        for row in db.session.execute(stmt):
            key = row[0] if key_column is not None else None
            values = row[1:] if key_column is not None else row
            slot = result.setdefault(key, _empty())
            for name, value in zip(measures, values):
                slot[name] = Decimal(value) if name == "funding" else int(value)
    return result


def _empty():
    return {**{key: 0 for key in STAGE_KEYS}, "funding": Decimal(0)}


@dataclass
class Row:
    label: str
    values: dict


def funnel(program_round, user=None) -> list[tuple]:
    """``[(stage_key, label, count)]`` of the whole round as the user may see it."""
    totals = counts(program_round, None, user).get(None, _empty())
    return [(key, str(label), totals[key]) for key, label in STAGES]


def breakdown(program_round, group, user=None) -> list[Row]:
    """The funnel per region / category / domain, in the reference order; rows with no
    activity at all are left out."""
    by_key = counts(program_round, group, user)
    _column, reference, order = DIMENSIONS[group]
    active = [key for key, values in by_key.items()
              if key is not None and any(values[stage] for stage in STAGE_KEYS)]
    if not active:
        return []
    rows = []
    # Only the active entries are read: the taxonomy has far more fields than a round touches.
    for item in db.session.scalars(select(reference).where(reference.id.in_(active))
                                   .order_by(*order)):
        rows.append(Row(item.label, by_key[item.id]))
    return rows


def quota_usage(program_round, user=None) -> funding.Usage:
    """The round's funding against its quota. The province sees ``funding.usage``; a bureau
    its own region's projects and funding against the round's rules (quota and cap are the
    round's published rules, not another region's numbers)."""
    if jurisdiction.is_global(user):
        return funding.usage(program_round)
    stmt = _scoped(
        select(func.count(Project.id), func.coalesce(func.sum(Project.funding), 0))
        .where(Project.round_id == program_round.id,
               Project.state.in_(COUNTED_PROJECT_STATES)), Project, user)
    count, total = db.session.execute(stmt).one()
    return funding.Usage(int(count), program_round.project_quota, Decimal(total),
                         Decimal(program_round.funding_cap))


def push_response(program_round, user=None) -> dict:
    """How researchers answered the needs of the round pushed to them: the definition of
    ``recommendations.response()`` restricted to the round's needs and the jurisdiction
    (that function counts every push of the platform, across rounds and regions)."""
    pushed_of_round = (Need.round_id == program_round.id, Match.pushed_at.is_not(None))
    stmt = (select(func.count(Match.id), _count(Match.dismissed.is_(True)))
            .join(Need, Match.need_id == Need.id).where(*pushed_of_round))
    pushed, dismissed = db.session.execute(_scoped(stmt, Match, user)).one()
    # The pushes answered: a join from the round's proposals to their pairs' matches (the
    # pairs' unique index), not an EXISTS per pushed match (2,000,000 at province scale).
    answered = (select(func.count(func.distinct(Match.id)))
                .select_from(Proposal)
                .join(Match, (Match.need_id == Proposal.need_id)
                      & (Match.researcher_id == Proposal.researcher_id))
                .join(Need, Match.need_id == Need.id).where(*pushed_of_round))
    proposals = db.session.scalar(_scoped(answered, Match, user))
    return {"pushed": pushed, "dismissed": int(dismissed), "proposals": int(proposals),
            "rate": int(proposals) / pushed if pushed else 0.0}


def channel_rates(program_round, user=None) -> dict | None:
    """Delivery of the notifications per channel since the round opened, for global roles
    only: notifications are addressed to users, not regions, so no bureau share exists."""
    if not jurisdiction.is_global(user):
        return None

    since = clock.start_of(program_round.needs_filing_start)
    return response_rates(db.session, since=since)


# Kinds of the figures of the two-column tables, for formatting on the page and in the sheet.
COUNT, MONEY, SHARE = "count", "money", "share"


@dataclass(frozen=True)
class Figure:
    key: str
    label: object
    value: object
    kind: str = COUNT


def usage_table(usage, whole_province) -> list[Figure]:
    """The "Funding against the quota" table. Places left and the share used are shown to
    global roles only: the quota is the whole round's, and a bureau's own projects set against
    it would read as the province's places left."""
    figures = [Figure("projects", _l("Funded projects"), usage.projects),
               Figure("quota", _l("Project quota of the round"), usage.quota)]
    if whole_province:
        figures += [Figure("remaining", _l("Places left"), usage.remaining),
                    Figure("share", _l("Share of the quota used"), usage.share, SHARE)]
    return figures + [Figure("funding", _l("Funding granted (CNY)"), usage.funding, MONEY),
                      Figure("cap", _l("Cap per project (CNY)"), usage.cap, MONEY)]


# After 立项 (the spec's section 8): where the round's projects stand, what was paid, what
# supervision found. Project states by group, in the order a project moves.
AFTER_GROUPS = (
    ("publicity", _l("In publicity (公示)"), (ProjectState.proposed,)),
    ("executing", _l("In execution"), (ProjectState.funded, ProjectState.reported)),
    ("suspended", _l("Suspended"), (ProjectState.suspended,)),
    ("completed", _l("Completed (self-accepted or evaluated)"),
     (ProjectState.accepted, ProjectState.evaluated)),
    ("withdrawn", _l("Withdrawn after an objection"), (ProjectState.withdrawn,)),
    ("revoked", _l("Funding revoked"), (ProjectState.revoked,)),
    ("terminated", _l("Terminated early"), (ProjectState.terminated,)),
)


def after_approval(program_round, user=None) -> dict:
    """Projects by stage after 立项, the amount paid and returned, and the supervision cases
    that found a violation, as ``user`` may see them. Three statements whatever the rows."""
    from app.models import Payment, PaymentState, SupervisionCase
    from app.models.enums import CaseState

    by_state = dict(db.session.execute(_scoped(
        select(Project.state, func.count(Project.id))
        .where(Project.round_id == program_round.id).group_by(Project.state),
        Project, user)).all())
    result = {key: sum(by_state.get(state, 0) for state in states)
              for key, _label, states in AFTER_GROUPS}

    def paid_as(state):
        return func.coalesce(func.sum(case((Payment.state == state, Payment.amount),
                                           else_=0)), 0)

    paid, returned = db.session.execute(_scoped(
        select(paid_as(PaymentState.paid), paid_as(PaymentState.returned))
        .where(Payment.round_id == program_round.id), Payment, user)).one()
    result.update(paid=Decimal(paid), returned=Decimal(returned))
    result["violations"] = db.session.scalar(_scoped(
        select(func.count(SupervisionCase.id))
        .join(Project, SupervisionCase.project_id == Project.id)
        .where(Project.round_id == program_round.id,
               SupervisionCase.state == CaseState.violation), SupervisionCase, user))
    return result


def after_table(after) -> list[Figure]:
    return [Figure(key, label, after[key]) for key, label, _states in AFTER_GROUPS] + [
        Figure("paid", _l("Subsidy paid (CNY)"), after["paid"], MONEY),
        Figure("returned", _l("Subsidy returned (CNY)"), after["returned"], MONEY),
        Figure("violations", _l("Violations found by supervision"), after["violations"])]


def push_table(push) -> list[Figure]:
    """The "Response to the pushes" table."""
    return [Figure("pushed", _l("Needs pushed to researchers"), push["pushed"]),
            Figure("proposals", _l("Answered with a proposal"), push["proposals"]),
            Figure("dismissed", _l("Dismissed"), push["dismissed"]),
            Figure("rate", _l("Response rate"), push["rate"], SHARE)]


# The per-channel table (global roles only): the columns after the channel.
CHANNEL_COLUMNS = (
    ("created", _l("Notifications written")), ("sent", _l("Sent")), ("failed", _l("Failed")),
    ("opened", _l("Opened")),
)


PROJECT_COLUMNS = (
    ("number", _l("Project number")), ("enterprise", _l("Enterprise")), ("region", _l("Region")),
    ("researcher", _l("Researcher")), ("institution", _l("Institution")),
    ("funding", _l("Funding (CNY)")), ("state", _l("State")),
    ("score", _l("Evaluation score")), ("evaluation", _l("Evaluation result")),
)


def projects(program_round, user=None):
    """The funded projects of the round for the export, one statement, streamed (rows are
    yielded as the sheet is written)."""
    stmt = (select(Project.number, Enterprise.name, Region.name, Region.name_en, Researcher.name,
                   Institution.name, Project.funding, Project.state, Project.evaluation_score,
                   Project.evaluation_result)
            .join(Enterprise, Project.enterprise_id == Enterprise.id)
            .join(Region, Enterprise.region_id == Region.id)
            .join(Researcher, Project.researcher_id == Researcher.id)
            .join(Contract, Project.contract_id == Contract.id)
            .join(Institution, Contract.institution_id == Institution.id)
            .where(Project.round_id == program_round.id)
            .order_by(Project.number))
    for (number, enterprise, region, region_en, researcher, institution, money, state, score,
         result) in streamed(_scoped(stmt, Project, user)):
        yield {"number": number, "enterprise": enterprise,
                     "region": _label(region, region_en),
                     "researcher": researcher, "institution": institution,
                     "funding": Decimal(money), "state": str(state.title),
                     "score": Decimal(score) if score is not None else None,
                     "evaluation": str(result.title) if result is not None else ""}


def _label(name, name_en):
    """``LabelledMixin.label`` for a name read as columns."""
    locale = get_locale()
    return name_en if locale is not None and locale.language == "en" and name_en else name


@dataclass
class Dashboard:
    program_round: object
    funnel: list
    breakdowns: dict = dc_field(default_factory=dict)
    usage: funding.Usage | None = None
    push: dict | None = None
    channels: dict | None = None
    whole_province: bool = False
    after: dict | None = None

    @property
    def after_figures(self) -> list[Figure]:
        return after_table(self.after) if self.after is not None else []

    @property
    def usage_figures(self) -> list[Figure]:
        return usage_table(self.usage, self.whole_province)

    @property
    def push_figures(self) -> list[Figure]:
        return push_table(self.push)

    @property
    def channel_columns(self) -> tuple:
        return CHANNEL_COLUMNS


# Every table the figures read (reference data aside: its token is part of the key). Their
# row tokens change at any committed write to them, so a kept dashboard is never stale.
KEPT_TABLES = frozenset({"needs", "enterprises", "proposals", "contracts", "projects", "matches",
                         "notifications", "program_rounds", "payments", "supervision_cases"})


def build(program_round, user=None) -> Dashboard:
    """The dashboard of ``program_round`` as ``user`` may see it, kept per process while no
    table it counts is written (``list_counts.kept_by_key``): made, it reads every need,
    proposal and push of the round (seconds at province scale); kept, nothing."""
    key = ("dashboard", program_round.id, _scope_of(user), str(get_locale()),
           cache_tokens.current("reference"))
    board = list_counts.kept_by_key(db.session, key, KEPT_TABLES,
                                    lambda: _build(program_round, user))
    return replace(board, program_round=program_round)  # this session's row, not a kept one


def _scope_of(user):
    """What of the user decides the rows counted: every row for global roles, else the
    jurisdiction's own keys."""
    if jurisdiction.is_global(user):
        return "all"
    return tuple(getattr(user, name, None)
                 for name in ("region_id", "enterprise_id", "researcher_id", "id"))


def _build(program_round, user=None) -> Dashboard:
    return Dashboard(
        program_round=program_round, funnel=funnel(program_round, user),
        breakdowns={group: breakdown(program_round, group, user) for group in DIMENSIONS},
        usage=quota_usage(program_round, user), push=push_response(program_round, user),
        channels=channel_rates(program_round, user),
        whole_province=jurisdiction.is_global(user), after=after_approval(program_round, user))
