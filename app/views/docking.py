"""Docking in the back office as generated FAB views: matches, proposals (written by researchers,
decided by enterprises) and messages. The pages around them (comparison, threads, progress)
are in ``docking_pages.py``."""
from flask import flash, g, redirect, request, url_for
from flask_appbuilder.actions import action as fab_action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DecimalField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from app.core.access import jurisdiction
from app.domain.docking.proposals import (
    SECTIONS,
    check_proposal_deletable,
    check_proposal_editable,
    join_names,
    missing_sections,
    prepare_new_proposal,
    why_no_new_proposal,
)
from app.domain.matching.store import describe
from app.domain.needs.completeness import Finding
from app.extensions import db
from app.models import Action, Match, Message, Need, Proposal
from app.models.enums import ProposalState
from app.views.base import ScopedModelRestApi, ScopedModelView, interface
from app.views.uploads import UnicodeFileUploadField
from app.views.workflow import WorkflowModelView

LABELS = {
    "need": _l("Technical need"), "researcher": _l("Researcher"), "score": _l("Score"),
    "reasons": _l("Reasons"), "direction": _l("Direction"), "pushed_at": _l("Pushed"),
    **SECTIONS,
    "attachment": _l("Attachment"), "state": _l("State"), "decline_reason": _l("Reason declined"),
    "proposal": _l("Proposal"), "sender": _l("Sender"), "body": _l("Message"),
    "created_at": _l("Created"), "submitted_at": _l("Submitted"),
}
HINTS = {
    "approach": _l("How you would solve the need's technical problem: methods, key steps."),
    "expected_results": _l("What the enterprise gets, with measurable indicators."),
    "timeline": _l("One milestone per line, e.g. 2026-03 完成样机; and the total duration."),
    "team": _l("Who works on it: names, titles, roles, and time on site."),
}
FORM_COLUMNS = ["approach", "expected_results", "timeline", "budget", "team", "attachment"]


def _blank(value):
    return value if value is not None else ""


def _reasons(reasons):
    return Markup("<br>").join(escape(r) for r in describe(reasons or {}))


class MatchModelView(ScopedModelView):
    datamodel = interface(Match)
    list_title = _l("Matches")
    list_columns = ["need", "researcher", "score", "reasons", "direction", "pushed_at"]
    show_columns = ["need", "researcher", "score", "reasons", "direction", "pushed_at",
                    "enterprise_pushed_at", "dismissed", "dismiss_reason"]
    base_order = ("score", "desc")
    search_columns = ["score", "direction", "dismissed", "pushed_at"]
    label_columns = {**LABELS, "enterprise_pushed_at": _l("Pushed to the enterprise"),
                     "dismissed": _l("Not interested"), "dismiss_reason": _l("Reason")}
    formatters_columns = {"reasons": _reasons}


class ProposalModelView(WorkflowModelView):
    """Researchers write and submit here; enterprises shortlist, decline and select."""

    datamodel = interface(Proposal)
    list_title = _l("Proposals")
    show_title = _l("Proposal")
    add_title = _l("New technical proposal")
    edit_title = _l("Edit technical proposal")
    add_template = "office/proposal_add.html"
    list_columns = ["need", "researcher", "budget", "state", "submitted_at"]
    show_columns = ["need", "researcher"] + FORM_COLUMNS + ["state", "decline_reason",
                                                           "submitted_at"]
    add_columns = edit_columns = FORM_COLUMNS
    # No dropdown of every need: at province scale it would load 20,000 titles per page.
    search_columns = ["state", "submitted_at", "budget"]
    # A draft may be saved half-written; submitting checks that every section is there.
    add_form_extra_fields = edit_form_extra_fields = {
        **{column: TextAreaField(LABELS[column], [Optional(), Length(max=5000)],
                                 description=HINTS[column], filters=[_blank])
           for column in HINTS},
        "budget": DecimalField(LABELS["budget"], [Optional(), NumberRange(min=1, max=10**11)],
                               places=2),
        "attachment": UnicodeFileUploadField(_l("Attachment")),
    }
    base_order = ("id", "desc")
    label_columns = LABELS

    def _add(self):
        need_id = request.args.get("need", "")
        g.proposal_need = (jurisdiction.visible(db.session, Need, int(need_id))
                           if need_id.isdigit() else None)
        return super()._add()

    def why_no_new_record(self):
        return why_no_new_proposal(g.user, request.args.get("need"))

    def pre_add(self, item):
        prepare_new_proposal(item, g.user, request.args.get("need"))
        super().pre_add(item)

    def post_add(self, item):
        g.added_proposal_id = item.id

    def post_add_redirect(self):
        # Straight to the new draft, where the researcher submits it.
        if getattr(g, "added_proposal_id", None):
            flash(_("Draft saved. Submit it when it is complete."), "info")
            return redirect(url_for(f"{self.endpoint}.show", pk=g.added_proposal_id))
        return super().post_add_redirect()

    def pre_update(self, item):
        check_proposal_editable(item)
        super().pre_update(item)

    def pre_delete(self, item):
        check_proposal_deletable(item)

    def findings_for(self, item):
        if item.state is not ProposalState.draft:
            return []
        missing = missing_sections(item)
        return [Finding("missing", _("Still to complete before submitting: %(sections)s.",
                                     sections=join_names(missing)))] if missing else []

    def links_for(self, item):
        links = []
        if item.state in (ProposalState.shortlisted, ProposalState.selected):
            links.append((_("Messages"), url_for("DockingDeskView.thread", proposal_id=item.id)))
        if getattr(g.user, "enterprise_id", None) is not None:
            links.append((_("All proposals to this need"),
                          url_for("DockingDeskView.need", need_id=item.need_id)))
        return links

    @fab_action("compare", _l("Compare side by side"), "", "fa-columns")
    def compare(self, items):
        items = items if isinstance(items, list) else [items]
        need_ids = {p.need_id for p in items}
        if len(need_ids) != 1:
            flash(_("Compare proposals to one need at a time."), "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        return redirect(url_for("DockingDeskView.compare", need_id=need_ids.pop(),
                                p=[p.id for p in items]))

    @fab_action("shortlist", _l("Shortlist"), _l("Shortlist the selected proposals?"), "fa-star")
    def shortlist(self, items):
        return self._act_on_list(items, Action.shortlist)

    @fab_action("decline", _l("Decline"), "", "fa-times")
    def decline(self, items):
        return self._redirect_many(items, Action.decline)


class MessageModelView(ScopedModelView):
    """Every message of the user's jurisdiction; people write in the thread pages."""

    datamodel = interface(Message)
    list_title = _l("Messages")
    list_columns = ["proposal", "sender", "created_at"]
    show_columns = ["proposal", "sender", "body", "attachment", "created_at"]
    search_columns = ["created_at"]
    base_order = ("created_at", "desc")
    label_columns = LABELS


class ProposalApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "proposal"
    datamodel = interface(Proposal)
    list_columns = ["id", "need.id", "researcher.id", "budget", "state"]
    show_columns = list_columns + FORM_COLUMNS[:3] + ["team", "decline_reason", "submitted_at"]


class MessageApi(ScopedModelRestApi):
    include_route_methods = {"get", "get_list", "info"}
    resource_name = "message"
    datamodel = interface(Message)
    list_columns = ["id", "proposal.id", "sender.id", "body", "created_at"]
    show_columns = list_columns

