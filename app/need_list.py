"""The need list (需求清单): published needs grouped by technical field, filtered and searched.

One module serves the public list, the detail page and the Excel export, so they agree on what
is published and in what order. A page costs two SQL queries (count and rows) whatever its size,
three with a search (its plan first);
the filter options come from a short-lived in-process cache.
"""
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from . import jurisdiction, search
from .extensions import db
from .models import (
    PUBLIC_NEED_STATES,
    Enterprise,
    Need,
    NeedCategory,
    Region,
    ResearcherState,
    TechDomain,
    TechField,
)

OPTIONS_TTL = 300  # seconds; reference data changes a few times a year


@dataclass
class NeedFilters:
    q: str = ""
    category_id: int | None = None
    domain_id: int | None = None
    field_id: int | None = None
    region_id: int | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None

    @classmethod
    def from_args(cls, args):
        """Read filters from query arguments; a malformed value is ignored, not an error."""
        def integer(name):
            value = args.get(name, "")
            return int(value) if value.isdigit() else None

        def amount(name):
            try:
                value = Decimal(args.get(name, "").replace(",", ""))
            except InvalidOperation:
                return None
            return value if value >= 0 else None

        return cls(q=args.get("q", "").strip()[:60], category_id=integer("category"),
                   domain_id=integer("domain"), field_id=integer("field"),
                   region_id=integer("region"), amount_min=amount("min"),
                   amount_max=amount("max"))


def _conditions(filters: NeedFilters, tokens):
    """WHERE clauses on Need alone (domain and region through small subqueries), so that the
    count touches only the needs table and its indexes."""
    clauses = [Need.state.in_(PUBLIC_NEED_STATES)]
    if filters.category_id is not None:
        clauses.append(Need.category_id == filters.category_id)
    if filters.field_id is not None:
        clauses.append(Need.field_id == filters.field_id)
    if filters.domain_id is not None:
        clauses.append(Need.field_id.in_(select(TechField.id).where(
            TechField.domain_id == filters.domain_id)))
    if filters.region_id is not None:
        clauses.append(Need.enterprise_id.in_(select(Enterprise.id).where(
            Enterprise.region_id == filters.region_id)))
    if filters.amount_min is not None:
        clauses.append(Need.amount >= filters.amount_min)
    if filters.amount_max is not None:
        clauses.append(Need.amount <= filters.amount_max)
    if tokens:
        clauses.append(Need.id.in_(search.hits(tokens)))
    return clauses


def _ranked_ids(filters: NeedFilters, tokens, dense: bool):
    """The newest ``MAX_HITS`` matching needs: what a search ranks, whatever the word.

    Few hits (``dense`` false): all of them, from the term index. More hits than that: walk the
    needs newest first and probe each for the words, which stops after ``MAX_HITS`` matches
    instead of collecting and sorting every hit of a word found in most needs.
    """
    if not dense:
        return (select(Need.id).where(*_conditions(filters, tokens))
                .order_by(Need.id.desc()).limit(search.MAX_HITS))
    clauses = _conditions(filters, [])
    if db.engine.dialect.name == "sqlite":
        # Else SQLite reads ix_needs_state and sorts every public need before the LIMIT; an
        # expression on the column keeps it on the primary key, walked backwards.
        clauses[0] = func.lower(Need.state).in_([s.value for s in PUBLIC_NEED_STATES])
    return (select(Need.id).where(*clauses, *search.probes(tokens, Need.id))
            .order_by(Need.id.desc()).limit(search.MAX_HITS))


def _base(filters: NeedFilters, tokens, dense: bool = False):
    stmt = (select(Need).join(Need.field).join(TechField.domain).join(Need.category)
            .join(Need.enterprise).join(Enterprise.region))
    if tokens:
        return stmt.where(Need.id.in_(_ranked_ids(filters, tokens, dense)))
    return stmt.where(*_conditions(filters, tokens))


def _ordered(stmt, tokens):
    stmt = stmt.options(contains_eager(Need.field).contains_eager(TechField.domain),
                        contains_eager(Need.category),
                        contains_eager(Need.enterprise).contains_eager(Enterprise.region))
    if tokens:  # ranked: exact word matches first
        return stmt.order_by(search.exactness(tokens).desc(), Need.published_at.desc(), Need.id)
    return stmt.order_by(TechDomain.code, TechField.code, Need.published_at.desc(), Need.id)


def search_plan(filters: NeedFilters):
    """The search's plan (one query), or None for the plain list."""
    tokens = search.query_tokens(filters.q)
    return search.plan(db.session, tokens) if tokens else None


def count_needs(filters: NeedFilters, plan) -> int:
    """How many needs the list shows; with words, at most ``MAX_HITS + 1`` (meaning "more")."""
    if plan is None:
        return db.session.scalar(select(func.count(Need.id)).where(*_conditions(filters, [])))
    cap = search.MAX_HITS + 1
    if filters == NeedFilters(q=filters.q):
        # The common case, words and no filter: the index alone answers.
        return search.count_matches(db.session, plan, cap)
    limited = select(Need.id).where(*_conditions(filters, plan.tokens)).limit(cap)
    return db.session.scalar(select(func.count()).select_from(limited.subquery()))


def shown_total(filters: NeedFilters, total: int) -> tuple[int, bool]:
    """``(total, more)``: a search (not the plain list) that found more than it ranks says so."""
    if total > search.MAX_HITS and search.query_tokens(filters.q):
        return search.MAX_HITS, True
    return total, False


def page_of_needs(filters: NeedFilters, page: int = 1, per_page: int = 50, user=None):
    """``(needs, total)`` for one page. Anonymous callers pass ``user=None``."""
    plan = search_plan(filters)
    tokens = list(plan.tokens) if plan else []
    total = count_needs(filters, plan)
    # Many hits of common words only: walk the newest needs rather than sort every hit.
    dense = plan is not None and plan.dense and total > search.MAX_HITS
    rows = db.session.scalars(_ordered(_base(filters, tokens, dense), tokens).limit(per_page)
                              .offset((max(page, 1) - 1) * per_page)).unique().all()
    return rows, total


def needs_for_export(filters: NeedFilters, user):
    """Every published need the user may export (a bureau: its own region), in list order."""
    tokens = search.query_tokens(filters.q)
    stmt = jurisdiction.scoped(_base(filters, tokens), Need, user)
    return db.session.scalars(_ordered(stmt, tokens)).unique().all()


def published_need(need_id: int):
    stmt = _ordered(_base(NeedFilters(), []).where(Need.id == need_id), [])
    return db.session.scalars(stmt).unique().one_or_none()


def can_see_contact(user, need) -> bool:
    """Contact data only for staff, the owner, and researchers the platform approved."""
    roles = jurisdiction.role_names(user)
    if roles & jurisdiction.STAFF_ROLES:
        return True
    if "Enterprise" in roles and user.enterprise_id == need.enterprise_id:
        return True
    if "Researcher" in roles and user.researcher is not None:
        return user.researcher.state is ResearcherState.approved
    return False


def _labelled(rows):
    return [Option(r.id, r.name, r.name_en) for r in rows]


@dataclass(frozen=True)
class Option:
    """A filter choice as plain data (safe to cache across requests and sessions)."""

    id: int
    name: str
    name_en: str | None

    @property
    def label(self):
        from flask_babel import get_locale

        locale = get_locale()
        return self.name_en if locale is not None and locale.language == "en" and self.name_en \
            else self.name


def filter_options():
    """Categories, domains with their fields, and regions, cached for a few minutes."""
    cache = current_app.extensions.setdefault("need_list_options", {})
    if cache.get("expires", 0) > time.monotonic():
        return cache["value"]
    domains = db.session.scalars(select(TechDomain).order_by(TechDomain.code)).all()
    value = {
        "categories": _labelled(db.session.scalars(
            select(NeedCategory).order_by(NeedCategory.sort_order))),
        "domains": [(Option(d.id, d.name, d.name_en), _labelled(d.fields)) for d in domains],
        "regions": _labelled(db.session.scalars(select(Region).order_by(Region.sort_order))),
    }
    cache.update(value=value, expires=time.monotonic() + OPTIONS_TTL)
    return value
