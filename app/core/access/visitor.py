"""The signed-in user as the public site's read-only pages see them: a snapshot, not a row.

The home page, the need list and a need's page ask three things of a signed-in user: their
roles, their own enterprise or researcher record (and that researcher's state), and whether
they are active. Loading the FAB user object with its roles, groups and researcher for that
was the largest part of such a page (0.18 ms of ORM work against 0.02 ms for the same columns
as plain rows). So on those pages the user is read as plain rows, in the same statement as
the version tokens the page needs, into a frozen ``Visitor`` that cannot be written back.
Every other page, and anything that changes data, gets the full user.

The back office's desk is such a page too (``DESK_PAGE``): it shows counts and links, kept per
user, in a kept frame. Its snapshot also holds what the desk and its frame read (role ids, the
last visits, the unread count), and the row tokens of the desk's tables, all in the one
statement: a kept desk is that statement and nothing else. A desk with a flashed message (shown
in FAB's frame, which asks more of the user) gets the full user.
"""
from dataclasses import dataclass
from functools import lru_cache

from flask import has_request_context, request, session
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.orm import aliased

from app.core import cache_tokens
from app.models import AppUser, CacheToken, Notification, Proposal, Researcher

# Pages that only show data and take the snapshot (GET only): adding a page here is saying that
# nothing it calls needs more of the user than a Visitor has.
READ_ONLY_PAGES = frozenset({"public.index", "public.need_list", "public.need_detail"})
# The version tokens those pages use, read with the user: no statement of their own.
TOKENS = ("permissions", "need_list", "reference")
# The back office's desk, and the row tokens it is kept under (``app/domain/desk/kept.py``
# names its tables; they are handed in by ``use_desk_tables`` so that this module imports no
# domain code).
DESK_PAGE = "OfficeIndexView.index"
_DESK_TOKENS: list[str] = []
UNREAD_COUNTED = 100  # unread messages counted for the badge; more are shown as "99+"


def use_desk_tables(tables) -> None:
    """The tables whose row tokens the desk's snapshot reads (set once at start-up)."""
    _DESK_TOKENS[:] = ["permissions", "reference", *(f"rows:{table}" for table in tables)]
    _desk_statement.cache_clear()


def unread_count(user_id):
    """The navbar badge's count, as a column: a count on the partial index of unread in-site
    rows (its predicate written as the index's, so PostgreSQL's plan can use it), of at most
    UNREAD_COUNTED rows, so that its cost does not grow with a neglected inbox. ``user_id`` is
    the statement's bind parameter, never a column: a derived table is not correlated, and a
    column would count every user's messages."""
    unread_rows = (select(literal_column("1"))
                   .where(Notification.user_id == user_id,
                          Notification.channel == literal_column("'site'"),
                          Notification.read_at.is_(None))
                   .limit(UNREAD_COUNTED).subquery())
    return select(func.count()).select_from(unread_rows).scalar_subquery()


@dataclass(frozen=True)
class RoleName:
    name: str
    id: int | None = None


@dataclass(frozen=True)
class ResearcherStatus:
    state: object  # ResearcherState


@dataclass(frozen=True)
class ProposalBrief:
    id: int
    state: object  # ProposalState


@dataclass(frozen=True, eq=False)
class Visitor:
    """What ``jurisdiction.role_names``, ``need_list.can_see_contact`` and
    ``docking.proposal_offer`` read of a user, with Flask-Login's interface."""

    id: int
    username: str
    first_name: str
    last_name: str
    active: bool
    roles: tuple  # of RoleName (a list on the desk)
    region_id: int | None
    enterprise_id: int | None
    researcher_id: int | None
    researcher: ResearcherStatus | None
    session_epoch: int = 0
    # On a need's page: (the need's id, the researcher's active proposal to it or None).
    proposal_to: tuple | None = None
    # On the desk: the last visits (``AppUser.seen_at``) and the unread count.
    seen_at: dict | None = None
    unread_notices: int = 0
    groups: tuple = ()

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    def get_id(self) -> str:
        return str(self.id)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"  # as FAB's User says it


def serves_request() -> bool:
    """Whether this request is one of the read-only public pages, or the desk without a
    flashed message."""
    if not has_request_context() or request.method != "GET":
        return False
    if request.endpoint == DESK_PAGE:
        return bool(_DESK_TOKENS) and not session.get("_flashes")
    return request.endpoint in READ_ONLY_PAGES


def read_outside_a_transaction(session) -> None:
    """``before_request``: on PostgreSQL, a read-only page's statements run in autocommit, each
    its own transaction. Under READ COMMITTED a transaction of reads gives no snapshot across
    its statements anyway, so this changes nothing they see; it saves the BEGIN and the
    ROLLBACK, two of the four round trips of a kept page (the pool's ping, the token). A
    session bound to a connection of its own (the test suite's) is left as it is."""
    if not serves_request() or session.bind is not None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@lru_cache(maxsize=2)
def _statement(on_a_need: bool):
    tokens = [aliased(CacheToken) for _kind in TOKENS]
    # A need's page also asks for the researcher's active proposal to it: read here, it costs
    # no statement of its own.
    proposal = [column.label(name) for column, name in zip(Proposal.active_columns(
        bindparam("need_id"), AppUser.researcher_id), ("proposal_id", "proposal_state"))
    ] if on_a_need else []
    stmt = (select(AppUser.id, AppUser.username, AppUser.first_name, AppUser.last_name,
                   AppUser.active, AppUser.session_epoch, AppUser.region_id,
                   AppUser.enterprise_id,
                   AppUser.researcher_id, Researcher.state.label("researcher_state"),
                   Role.name.label("role"),
                   *[token.token.label(f"token_{kind}") for kind, token in zip(TOKENS, tokens)],
                   *proposal)
            .outerjoin(Researcher, Researcher.id == AppUser.researcher_id)
            .outerjoin(assoc_user_role, assoc_user_role.c.user_id == AppUser.id)
            .outerjoin(Role, Role.id == assoc_user_role.c.role_id))
    for kind, token in zip(TOKENS, tokens):
        stmt = stmt.outerjoin(token, token.name == kind)
    return stmt.where(AppUser.id == bindparam("pk"))


@lru_cache(maxsize=1)
def _desk_statement():
    tokens = [aliased(CacheToken) for _kind in _DESK_TOKENS]
    stmt = (select(AppUser.id, AppUser.username, AppUser.first_name, AppUser.last_name,
                   AppUser.active, AppUser.session_epoch, AppUser.region_id,
                   AppUser.enterprise_id, AppUser.researcher_id, AppUser.seen_at,
                   Role.id.label("role_id"), Role.name.label("role"),
                   unread_count(bindparam("pk")).label("unread"),
                   *[token.token.label(f"token_{i}") for i, token in enumerate(tokens)])
            .outerjoin(assoc_user_role, assoc_user_role.c.user_id == AppUser.id)
            .outerjoin(Role, Role.id == assoc_user_role.c.role_id))
    for kind, token in zip(_DESK_TOKENS, tokens):
        stmt = stmt.outerjoin(token, token.name == kind)
    return stmt.where(AppUser.id == bindparam("pk"))


def _load_for_desk(connection, pk: int) -> Visitor | None:
    rows = connection.execute(_desk_statement(), {"pk": pk}).all()
    if not rows:
        return None
    first = rows[0]
    for i, kind in enumerate(_DESK_TOKENS):
        cache_tokens.remember(kind, getattr(first, f"token_{i}"))
    return Visitor(
        id=first.id, username=first.username, first_name=first.first_name,
        last_name=first.last_name, active=first.active, session_epoch=first.session_epoch,
        # A list, as FAB's permission check adds the groups' roles to it (the desk's menu).
        roles=[RoleName(row.role, row.role_id) for row in rows if row.role is not None],
        region_id=first.region_id, enterprise_id=first.enterprise_id,
        researcher_id=first.researcher_id, researcher=None,
        seen_at=dict(first.seen_at or {}), unread_notices=int(first.unread or 0))


def load(session, pk: int) -> Visitor | None:
    """The user ``pk`` as a Visitor (one statement: a row per role), or None if there is no
    such user; the tokens read along are kept for the request, and on a need's page the
    researcher's active proposal to it comes along too. For a request ``serves_request``
    accepts."""
    if request.endpoint == DESK_PAGE:
        return _load_for_desk(session.connection(), pk)
    need_id = (request.view_args or {}).get("need_id")
    on_a_need = request.endpoint == "public.need_detail" and isinstance(need_id, int)
    values = {"pk": pk, "need_id": need_id} if on_a_need else {"pk": pk}
    rows = session.connection().execute(_statement(on_a_need), values).all()
    if not rows:
        return None
    first = rows[0]
    proposal_to = None
    if on_a_need:
        proposal_to = (need_id, ProposalBrief(first.proposal_id, first.proposal_state)
                       if first.proposal_id is not None else None)
    for kind in TOKENS:
        cache_tokens.remember(kind, getattr(first, f"token_{kind}"))
    return Visitor(
        id=first.id, username=first.username, first_name=first.first_name,
        last_name=first.last_name, active=first.active, session_epoch=first.session_epoch,
        roles=tuple(RoleName(row.role) for row in rows if row.role is not None),
        region_id=first.region_id, enterprise_id=first.enterprise_id,
        researcher_id=first.researcher_id,
        researcher=(ResearcherStatus(first.researcher_state)
                    if first.researcher_id is not None else None),
        proposal_to=proposal_to)
