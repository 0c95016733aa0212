"""A need's public page, made of parts kept per process and the visitor's own parts.

What a need's page shows of the need (title, labels, texts) is the same for every visitor, and
changes only when the public list's token does (``need_list.list_token``) or, for the round it
belongs to, the reference token: so it is rendered once per need and language and kept with
the few facts the visitor's own parts are decided by (state, enterprise, the round's dates).
Per request remain whether the visitor may write a proposal (``docking.proposal_offer``) and
whether they see the contact (``need_list.can_see_contact``), kept with the page but shown only
to whom that rule allows.
"""
from dataclasses import dataclass

from flask import get_template_attribute
from markupsafe import Markup

from app.core import cache_tokens
from app.domain.needs.need_list import (
    Contact,
    contact_of,
    published_need,
    reference_labels,
)
from app.models import NeedState, RoundDates
from app.public.page_cache import kept_item, language


@dataclass(frozen=True)
class NeedPage:
    """A need's page as everyone sees it, with what ``proposal_offer`` and ``can_see_contact``
    read of the need: its id, title, state, enterprise and round."""

    id: int
    title: str
    state: NeedState
    enterprise_id: int
    round: RoundDates
    heading: Markup
    body: Markup
    contact: Contact  # for whom ``can_see_contact`` allows only


def need_page(need_id: int) -> NeedPage | None:
    """The need's kept page, made from the need if not kept; None if the need is not public."""
    key = ("need", need_id, language(), cache_tokens.current("reference"))
    return kept_item(key, lambda: _make(need_id))


def _make(need_id):
    need = published_need(need_id)
    if need is None:
        return None
    parts = "public/_need_parts.html"
    return NeedPage(
        id=need.id, title=need.title, state=need.state, enterprise_id=need.enterprise_id,
        round=RoundDates.of(need.round),
        heading=Markup(get_template_attribute(parts, "heading")(need, reference_labels(
            language()))),
        body=Markup(get_template_attribute(parts, "body")(need)), contact=contact_of(need))
