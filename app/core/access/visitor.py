"""The signed-in user as the public site's read-only pages see them: a snapshot, not a row.

The home page, the need list and a need's page ask three things of a signed-in user: their
roles, their own enterprise or researcher record (and that researcher's state), and whether
they are active. Loading the FAB user object with its roles, groups and researcher for that
was the largest part of such a page (0.18 ms of ORM work against 0.02 ms for the same columns
as plain rows). So on those pages the user is read as plain rows, in the same statement as
the version tokens the page needs, into a frozen ``Visitor`` that cannot be written back.
Every other page, and anything that changes data, gets the full user.
"""
from dataclasses import dataclass
from functools import lru_cache

from flask import has_request_context, request
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.core import cache_tokens
from app.models import AppUser, CacheToken, Proposal, Researcher

# Pages that only show data and take the snapshot (GET only): adding a page here is saying that
# nothing it calls needs more of the user than a Visitor has.
READ_ONLY_PAGES = frozenset({"public.index", "public.need_list", "public.need_detail"})
# The version tokens those pages use, read with the user: no statement of their own.
TOKENS = ("permissions", "need_list", "reference")


@dataclass(frozen=True)
class RoleName:
    name: str


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
    roles: tuple  # of RoleName
    region_id: int | None
    enterprise_id: int | None
    researcher_id: int | None
    researcher: ResearcherStatus | None
    session_epoch: int = 0
    # On a need's page: (the need's id, the researcher's active proposal to it or None).
    proposal_to: tuple | None = None

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


def serves_request() -> bool:
    """Whether this request is one of the read-only public pages."""
    return (has_request_context() and request.method == "GET"
            and request.endpoint in READ_ONLY_PAGES)


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


def load(session, pk: int) -> Visitor | None:
    """The user ``pk`` as a Visitor (one statement: a row per role), or None if there is no
    such user; the tokens read along are kept for the request, and on a need's page the
    researcher's active proposal to it comes along too. For a request ``serves_request``
    accepts."""
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
