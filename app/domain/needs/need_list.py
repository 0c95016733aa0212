"""The need list (需求清单): published needs grouped by technical field, filtered and searched.

One module serves the public list, the detail page and the Excel export, so they agree on what
is published and in what order. The plain list is grouped by field (domain code, field code),
newest first within a field. Its counts per field are cached in each process under the list's
version token (``cache_tokens``, kind "need_list"), which every change of a public need replaces
at commit, so a page costs two SQL statements (the token, then the page's rows walked on the
(field, published_at) index) and three when the counts must be made again; a search costs its
plan, its count and its rows. The filter options and labels come from a short-lived cache of the
reference data.
"""
import time
from dataclasses import astuple, dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask import current_app
from sqlalchemy import (
    Integer,
    bindparam,
    func,
    inspect,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload

from app.core import cache_tokens
from app.core.access import jurisdiction
from app.domain.needs import search
from app.extensions import db
from app.models import (
    PUBLIC_NEED_STATES,
    Enterprise,
    Need,
    NeedCategory,
    Region,
    ResearcherState,
    TechDomain,
    TechField,
)
from app.utils.changes import changed

OPTIONS_TTL = 300  # seconds; reference data changes a few times a year
# Cached counts are dropped this long after they were made even if no change replaced the
# token (a correction made in SQL, behind the application's back).
COUNTS_TTL = 300
# What a need in the list shows, read as plain rows: loading whole needs with their enterprise,
# field, domain, category and region as objects cost more than the rest of the page.
LISTED = (Need.id, Need.title, Need.amount, Need.field_id, Need.category_id, Need.published_at,
          Enterprise.name.label("enterprise_name"), Enterprise.region_id)


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


# The filters' values are bound parameters named after the fields, so that the plain list's
# statements are built once per shape (which filters are set) and reused with other values:
# building them through SQLAlchemy cost more than running them.
FILTER_VALUES = ("category_id", "domain_id", "field_id", "region_id", "amount_min", "amount_max")


def _shape(filters: NeedFilters) -> tuple:
    return tuple(name for name in FILTER_VALUES if getattr(filters, name) is not None)


def _values(filters: NeedFilters) -> dict:
    return {name: getattr(filters, name) for name in _shape(filters)}


def _conditions(filters: NeedFilters, tokens, enterprise_joined=False):
    """WHERE clauses on Need alone (domain and region through small subqueries), so that the
    count touches only the needs table and its indexes; with ``enterprise_joined`` the region
    is a condition on the joined enterprise instead (a subquery would make the planner start
    from the region's enterprises and sort their needs, rather than walk the field's index)."""
    def value(name, column):
        return bindparam(name, getattr(filters, name), type_=column.type)

    clauses = [Need.state.in_(PUBLIC_NEED_STATES)]
    if filters.category_id is not None:
        clauses.append(Need.category_id == value("category_id", Need.category_id))
    if filters.field_id is not None:
        clauses.append(Need.field_id == value("field_id", Need.field_id))
    if filters.domain_id is not None:
        clauses.append(Need.field_id.in_(select(TechField.id).where(
            TechField.domain_id == value("domain_id", TechField.domain_id))))
    if filters.region_id is not None and enterprise_joined:
        clauses.append(Enterprise.region_id == value("region_id", Enterprise.region_id))
    elif filters.region_id is not None:
        clauses.append(Need.enterprise_id.in_(select(Enterprise.id).where(
            Enterprise.region_id == value("region_id", Enterprise.region_id))))
    if filters.amount_min is not None:
        clauses.append(Need.amount >= value("amount_min", Need.amount))
    if filters.amount_max is not None:
        clauses.append(Need.amount <= value("amount_max", Need.amount))
    if tokens:
        clauses.append(Need.id.in_(search.hits(db.session, tokens)))
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


def search_plan(filters: NeedFilters):
    """The search's plan (one query), or None for the plain list."""
    tokens = search.query_tokens(filters.q)
    if not tokens:
        return None
    # How many needs are public decides when a word is common (the counts are kept).
    return search.plan(db.session, tokens, public=sum(field_counts(NeedFilters()).values()))


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
    """``(rows, total)`` for one page; each row has the ``LISTED`` columns. Anonymous callers
    pass ``user=None``."""
    plan = search_plan(filters)
    start = (max(page, 1) - 1) * per_page
    if plan is None:
        counts = field_counts(filters)
        slices = page_slices(field_order(), counts, start, per_page)
        return _field_rows(filters, slices), sum(counts.values())
    tokens = list(plan.tokens)
    total = count_needs(filters, plan)
    # Many hits of common words only: walk the newest needs rather than sort every hit.
    dense = plan.dense and total > search.MAX_HITS
    stmt = (select(*LISTED).join(Enterprise, Enterprise.id == Need.enterprise_id)
            .where(Need.id.in_(_ranked_ids(filters, tokens, dense)))
            .order_by(search.exactness(tokens).desc(), Need.published_at.desc(), Need.id))
    return db.session.execute(stmt.limit(per_page).offset(start)).all(), total


# -- the plain list: counts per field under the version token --------------------------------

def list_token() -> str | None:
    """The public list's current version token: whatever the public pages show or count was
    kept under it is still true (one statement, then kept for the request)."""
    return cache_tokens.current("need_list")


def field_counts(filters: NeedFilters) -> dict[int, int]:
    """Public needs per field under these filters (one GROUP BY on the needs' indexes), cached
    per process under the list's current token: reading the token is the only statement a
    cached count costs."""
    token = list_token()
    cache = current_app.extensions.setdefault("need_list_counts", {})
    key = (token, astuple(filters))
    cached = cache.get(key)
    if token is not None and cached is not None and cached[0] > time.monotonic():
        return cached[1]
    counts = dict(db.session.connection().execute(_counts_statement(_shape(filters)),
                                                  _values(filters)).all())
    if token is not None:
        if len(cache) > 5000:
            cache.clear()
        cache[key] = (time.monotonic() + COUNTS_TTL, counts)
    return counts


@lru_cache(maxsize=64)
def _counts_statement(shape):
    shaped = NeedFilters(**{name: 0 for name in shape})
    return (select(Need.field_id, func.count()).where(*_conditions(shaped, []))
            .group_by(Need.field_id))


def page_slices(order, counts, start, size):
    """``(field_id, offset, limit)`` of each field the rows ``[start, start + size)`` of the
    grouped list fall in, in list order (fields unknown to ``order`` come last)."""
    known = set(order)
    slices, position = [], 0
    for field_id in list(order) + sorted(f for f in counts if f not in known):
        n = counts.get(field_id, 0)
        if n and position + n > start:
            offset = max(0, start - position)
            slices.append((field_id, offset, min(n - offset, start + size - position - offset)))
        position += n
        if position >= start + size:
            break
    return slices


def _field_rows(filters: NeedFilters, slices):
    """The rows of the slices in one statement (see ``_rows_statement``)."""
    if not slices:
        return []
    values = _values(filters)
    for i, (field_id, offset, limit) in enumerate(slices):
        values.update({f"field{i}": field_id, f"offset{i}": offset, f"limit{i}": limit})
    statement = _rows_statement(_shape(filters), len(slices))
    return db.session.connection().execute(statement, values).all()


@lru_cache(maxsize=256)
def _rows_statement(shape, n_slices):
    """Per slice, the page's ids found by walking the (field, published_at, …) index newest
    first, which covers every filter but the region, so skipping the earlier pages reads no
    row; then only the page's rows are read, with their enterprise."""
    shaped = NeedFilters(**{name: 0 for name in shape})
    branches = []
    for i in range(n_slices):
        ids = select(Need.id.label("id"), literal(i, Integer).label("branch"))
        if shaped.region_id is not None:
            ids = ids.join(Enterprise, Enterprise.id == Need.enterprise_id)
        branches.append(ids.where(*_conditions(shaped, [], enterprise_joined=True),
                                  Need.field_id == bindparam(f"field{i}"))
                        .order_by(Need.published_at.desc(), Need.id.desc())
                        .limit(bindparam(f"limit{i}")).offset(bindparam(f"offset{i}")))
    page = (branches[0] if n_slices == 1 else
            union_all(*[branch.subquery().select() for branch in branches])).subquery()
    return (select(*LISTED).join(page, page.c.id == Need.id)
            .join(Enterprise, Enterprise.id == Need.enterprise_id)
            .order_by(page.c.branch, Need.published_at.desc(), Need.id.desc()))


# What the public pages show or count (the list, its counts, a need's page with the contact
# that approved researchers see): a change of one of these in a need that is public before or
# after it changes them. Matching's bookkeeping (match_terms, matched_at) is not here.
_SHOWN_ATTRIBUTES = ("state", "field_id", "category_id", "amount", "enterprise_id", "title",
                     "keywords", "background", "problem", "targets", "basis",
                     "cooperation_mode", "timeline", "published_at", "contact_name",
                     "contact_phone")


def _touches_list(obj) -> bool:
    if isinstance(obj, Need):
        if not changed(obj, *_SHOWN_ATTRIBUTES):
            return False
        history = inspect(obj).attrs.state.history
        before = set(history.deleted) | set(history.unchanged)
        after = set(history.added) | set(history.unchanged)
        if not before or not after:
            return True  # the state was expired, so not loaded: it may have been public
        return bool((before | after) & set(PUBLIC_NEED_STATES))
    if isinstance(obj, Enterprise):
        return changed(obj, "region_id", "name", "contact_name", "phone")
    if isinstance(obj, TechField):
        return changed(obj, "domain_id")
    return False


def touches_need_list(session) -> bool:
    """The pending flush changes what the public need list shows (the ``need_list`` token)."""
    return any(isinstance(obj, Need) and obj.state in PUBLIC_NEED_STATES
               for obj in list(session.new) + list(session.deleted)) or any(
        _touches_list(obj) for obj in session.dirty)



def export_statement(filters: NeedFilters, user):
    """Every published need the user may export (a bureau: its own region), in list order,
    joined to its field, domain, category, enterprise and region (the export picks its
    columns: ``app/domain/needs/export.py``)."""
    tokens = search.query_tokens(filters.q)
    stmt = jurisdiction.scoped(_base(filters, tokens), Need, user)
    if tokens:
        return stmt.order_by(search.exactness(tokens).desc(), Need.published_at.desc(), Need.id)
    return stmt.order_by(TechDomain.code, TechField.code, Need.published_at.desc(), Need.id)


@lru_cache(maxsize=1)
def _published_statement():
    return (select(Need).options(joinedload(Need.enterprise), joinedload(Need.round))
            .where(Need.id == bindparam("need_id"), Need.state.in_(PUBLIC_NEED_STATES)))


def published_need(need_id: int):
    """The need with its enterprise and round (whether it still takes proposals), if public;
    labels come from ``reference_labels``."""
    return db.session.scalars(_published_statement(), {"need_id": need_id}).one_or_none()


@dataclass(frozen=True)
class Contact:
    name: str | None
    phone: str | None


def contact_of(need) -> Contact:
    """The need's contact: its own, else its enterprise's."""
    return Contact(need.contact_name or need.enterprise.contact_name,
                   need.contact_phone or need.enterprise.phone)


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


@dataclass(frozen=True)
class Option:
    """A filter choice as plain data (safe to cache across requests and sessions)."""

    id: int
    label: str


@dataclass(frozen=True)
class ReferenceLabels:
    """The reference data the need pages show, in one language: the filter choices, the order
    of the list's groups and each id's label (so a page looks nothing up per row)."""

    categories: list
    domains: list  # [(Option(domain), [Option(field), ...])] in code order
    regions: list
    field_order: tuple
    field: dict  # field id -> "domain › field"
    category: dict
    region: dict
    # Fragments rendered from these labels (the need list's filter choices), by selection.
    rendered: dict = dataclass_field(default_factory=dict)


def _label(row, language):
    return row.name_en if language == "en" and row.name_en else row.name


def reference_labels(language: str) -> ReferenceLabels:
    """Categories, domains with their fields, and regions in ``language`` ("zh" or "en"),
    cached for a few minutes per process."""
    cache = current_app.extensions.setdefault("need_list_options", {})
    cached = cache.get(language)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    domains = db.session.scalars(select(TechDomain).order_by(TechDomain.code)).all()
    categories = db.session.scalars(select(NeedCategory).order_by(NeedCategory.sort_order)).all()
    regions = db.session.scalars(select(Region).order_by(Region.sort_order)).all()
    fields = [(d, f) for d in domains for f in d.fields]  # d.fields is ordered by code
    value = ReferenceLabels(
        categories=[Option(c.id, _label(c, language)) for c in categories],
        domains=[(Option(d.id, _label(d, language)),
                  [Option(f.id, _label(f, language)) for f in d.fields]) for d in domains],
        regions=[Option(r.id, _label(r, language)) for r in regions],
        field_order=tuple(f.id for _d, f in fields),
        field={f.id: f"{_label(d, language)} › {_label(f, language)}" for d, f in fields},
        category={c.id: _label(c, language) for c in categories},
        region={r.id: _label(r, language) for r in regions})
    cache[language] = (time.monotonic() + OPTIONS_TTL, value)
    return value


def field_order() -> tuple:
    """Field ids in the list's order: domain code, then field code."""
    return reference_labels("zh").field_order
