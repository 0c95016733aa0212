"""Matches, proposals and their message threads (issue 6 completes the docking pages)."""
from flask_babel import lazy_gettext as _l

from ..models import Match, Message, Proposal
from .base import ScopedModelRestApi, ScopedModelView, interface
from .workflow import WorkflowModelView

LABELS = {
    "need": _l("Technical need"), "researcher": _l("Researcher"), "score": _l("Score"),
    "reasons": _l("Reasons"), "direction": _l("Direction"), "pushed_at": _l("Pushed"),
    "approach": _l("Approach"), "expected_results": _l("Expected results"),
    "timeline": _l("Timeline"), "budget": _l("Budget"), "team": _l("Team"),
    "attachment": _l("Attachment"), "state": _l("State"), "decline_reason": _l("Reason declined"),
    "proposal": _l("Proposal"), "sender": _l("Sender"), "body": _l("Message"),
    "created_at": _l("Created"),
}


def _reasons(reasons):
    from markupsafe import Markup, escape

    from ..recommendations import describe

    return Markup("<br>").join(escape(r) for r in describe(reasons or {}))


class MatchModelView(ScopedModelView):
    datamodel = interface(Match)
    list_title = _l("Matches")
    list_columns = ["need", "researcher", "score", "reasons", "direction", "pushed_at"]
    show_columns = ["need", "researcher", "score", "reasons", "direction", "pushed_at",
                    "enterprise_pushed_at", "dismissed", "dismiss_reason"]
    base_order = ("score", "desc")
    label_columns = {**LABELS, "enterprise_pushed_at": _l("Pushed to the enterprise"),
                     "dismissed": _l("Not interested"), "dismiss_reason": _l("Reason")}
    formatters_columns = {"reasons": _reasons}


class ProposalModelView(WorkflowModelView):
    datamodel = interface(Proposal)
    list_title = _l("Proposals")
    list_columns = ["need", "researcher", "budget", "state"]
    show_columns = ["need", "researcher", "approach", "expected_results", "timeline", "budget",
                    "team", "attachment", "state", "decline_reason"]
    base_order = ("id", "desc")
    label_columns = LABELS


class MessageModelView(ScopedModelView):
    datamodel = interface(Message)
    list_title = _l("Messages")
    list_columns = ["proposal", "sender", "created_at"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class ProposalApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "proposal"
    datamodel = interface(Proposal)
    list_columns = ["id", "need.id", "researcher.id", "budget", "state"]
