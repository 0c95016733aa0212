"""The docking desk (a participant's own docking: recommended needs, proposals, comparison,
threads) and the staff's docking progress. Thin: the rules are in ``app/domain/docking/proposals.py``,
``app/domain/docking/comparison.py`` and ``app/domain/docking/conversation.py``; the queries in ``app/domain/docking/progress.py``."""

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from app.core.access import jurisdiction
from app.core.long_reads import note
from app.core.uploads import UploadRejected, discard, store_upload
from app.domain.desk import todo
from app.domain.docking import comparison, conversation
from app.domain.docking import progress as docking
from app.domain.docking.proposals import SECTIONS
from app.extensions import db
from app.models import Action, Need, NeedState, Proposal, ProposalState, Region
from app.utils import clock
from app.workflows import WorkflowError, apply_action, available_actions

PER_PAGE = 50


def _page():
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100000 else 1


def _visible_or_404(model, pk):
    record = jurisdiction.visible(db.session, model, pk)
    if record is None:
        abort(404)
    return record


def _own_need_or_404(need_id):
    """The need, if it belongs to the signed-in enterprise (staff use the progress page)."""
    need = _visible_or_404(Need, need_id)
    if need.enterprise_id != getattr(g.user, "enterprise_id", None):
        abort(404)
    return need


class DockingDeskView(BaseView):
    route_base = "/docking"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        user = g.user
        if getattr(user, "researcher_id", None) is not None:
            proposals = docking.proposals_of_researcher(user.researcher_id)
            return self.render_template(
                "office/docking_researcher.html", title=_("My docking"),
                matches=docking.recommended_needs(), proposals=proposals,
                unread=conversation.unread_counts([p.id for p in proposals], user),
                proposed={p.need_id for p in proposals
                          if p.state not in (ProposalState.withdrawn, ProposalState.declined)})
        if getattr(user, "enterprise_id", None) is not None:
            # The desk counts what arrives after this visit. Committed before the page's rows
            # are read: a commit expires every loaded row, and the template then read each
            # need again (a statement per row).
            note(todo.mark_seen, user, "proposals")
            rows, total = docking.progress(enterprise_id=user.enterprise_id, page=_page(),
                                           per_page=PER_PAGE)
            return self.render_template("office/docking_enterprise.html", title=_("My docking"),
                                        rows=rows, total=total, page=_page(), per_page=PER_PAGE)
        return redirect(url_for("DockingProgressView.index"))

    @expose("/need/<int:need_id>")
    @has_access
    def need(self, need_id):
        need = _own_need_or_404(need_id)
        proposals = docking.proposals_to_need(need)
        return self.render_template(
            "office/docking_need.html", title=need.title, need=need, proposals=proposals,
            unread=conversation.unread_counts([p.id for p in proposals], g.user),
            max_compared=comparison.MAX_COMPARED, may_compare=True)

    @expose("/need/<int:need_id>/compare", methods=["GET", "POST"])
    @has_access
    def compare(self, need_id):
        need = _own_need_or_404(need_id)
        try:
            proposals = comparison.proposals_to_compare(need, request.values.getlist("p"))
        except comparison.ComparisonError as err:
            flash(str(err), "danger")
            return redirect(url_for(".need", need_id=need.id))
        typed, refused = {}, {}
        if request.method == "POST":
            # Every button of the page sends the whole table: shortlisting or declining from
            # here first saves what was typed, so no score is lost to a click.
            try:
                refused = comparison.save_comparison(need, proposals, _criteria_rows(proposals))
                db.session.commit()
            except comparison.ComparisonError as err:
                db.session.rollback()
                flash(str(err), "danger")
                typed = request.form  # nothing saved: the whole table comes back as typed
            else:
                decided = _decide_from_comparison(proposals)
                if refused:
                    flash(_("The other scores were saved; please correct the marked ones."),
                          "warning")
                elif not decided:
                    flash(_("Scores saved."), "success")
            if not typed and not refused:
                return redirect(url_for(".compare", need_id=need.id,
                                        p=[p.id for p in proposals]))
            proposals = comparison.proposals_to_compare(need, [p.id for p in proposals])
        criteria = comparison.criteria_of(need)
        scores = comparison.scores_of(proposals)
        totals = {p.id: comparison.weighted_total(criteria, scores, p.id) for p in proposals}
        return self.render_template(
            "office/compare.html", title=_("Compare proposals"), need=need, proposals=proposals,
            criteria=criteria, scores=scores, totals=totals, sections=SECTIONS,
            best=max((t for t in totals.values() if t is not None), default=None),
            actions={p.id: available_actions(p, g.user) for p in proposals},
            max_criteria=comparison.MAX_CRITERIA, typed=typed, refused=refused,
        ), (422 if typed or refused else 200)

    @expose("/proposal/<int:proposal_id>/decide", methods=["POST"])
    @has_access
    def decide(self, proposal_id):
        """Shortlist, select or decline from the comparison or the need's proposal list."""
        proposal = _visible_or_404(Proposal, proposal_id)
        _own_need_or_404(proposal.need_id)
        action = Action._value2member_map_.get(request.form.get("action", ""))
        if action is None:
            flash(_("Unknown action."), "danger")
        else:
            try:
                apply_action(proposal, action, g.user, request.form.get("reason"))
                db.session.commit()
                flash(_("Done: %(action)s.", action=action.title), "success")
            except WorkflowError as err:
                db.session.rollback()
                flash(str(err), "danger")
        back = request.form.get("back", "")
        if back.startswith("/docking/") and "//" not in back:
            return redirect(back)
        return redirect(url_for(".need", need_id=proposal.need_id))

    @expose("/thread/<int:proposal_id>", methods=["GET", "POST"])
    @has_access
    def thread(self, proposal_id):
        proposal = _visible_or_404(Proposal, proposal_id)
        user = g.user
        if request.method == "POST":
            stored = None
            try:
                upload = request.files.get("attachment")
                if upload is not None and upload.filename:
                    conversation.check_can_post(proposal, user)
                    stored = store_upload(upload)
                conversation.post_message(proposal, user, request.form.get("body"), stored)
                db.session.commit()
                flash(_("Message sent."), "success")
                return redirect(url_for(".thread", proposal_id=proposal.id))
            except (WorkflowError, UploadRejected) as err:
                db.session.rollback()
                discard([stored])
                flash(str(err), "danger")
            draft = request.form.get("body", "")
        else:
            draft = ""
        note(conversation.mark_read, proposal, user)
        return self.render_template(
            "office/thread.html", title=_("Messages"), proposal=proposal,
            messages=conversation.messages_of(proposal), draft=draft,
            may_post=conversation.side_of(proposal, user) is not None
            and proposal.state in conversation.OPEN_STATES,
            max_body=conversation.MAX_BODY)


def _decide_from_comparison(proposals) -> bool:
    """Apply the decision button pressed on the comparison (``decide`` = "<id>:<action>"),
    if any, after the scores were saved; True if one was pressed."""
    pid, _sep, code = request.form.get("decide", "").partition(":")
    action = Action._value2member_map_.get(code)
    proposal = next((p for p in proposals if str(p.id) == pid), None)
    if action is None or proposal is None:
        return False
    try:
        apply_action(proposal, action, g.user, request.form.get(f"reason-{proposal.id}"))
        db.session.commit()
        flash(_("Scores saved. Done: %(action)s.", action=action.title), "success")
    except WorkflowError as err:
        db.session.rollback()
        flash(str(err), "danger")
    return True


def _criteria_rows(proposals):
    """The comparison form as plain rows for ``comparison.save_comparison``."""
    form = request.form
    count = form.get("rows", "0")
    rows = []
    for i in range(int(count) if count.isdigit() and int(count) < 50 else 0):
        rows.append({
            "id": form.get(f"c{i}-id"), "code": form.get(f"c{i}-code"),
            "name": form.get(f"c{i}-name", ""), "weight": form.get(f"c{i}-weight", ""),
            "remove": bool(form.get(f"c{i}-remove")),
            "scores": {p.id: form.get(f"c{i}-s{p.id}", "") for p in proposals},
        })
    return rows


class DockingProgressView(BaseView):
    """Staff: where every need of their jurisdiction stands in docking."""

    route_base = "/docking/progress"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        states = docking.DOCKING_NEED_STATES
        state = request.args.get("state", "")
        if state in NeedState._value2member_map_ and NeedState(state) in states:
            states = (NeedState(state),)
        region = request.args.get("region", "")
        regions = db.session.query(Region).order_by(Region.code).all()
        page = _page()
        # From the desk: the needs still waiting for a proposal after the waiting days.
        waiting = request.args.get("waiting") == "1"
        where = docking.waiting_for_proposals(
            clock.today(), current_app.config["DESK_WAITING_DAYS"]) if waiting else None
        rows, total = docking.progress(states=states,
                                       region_id=int(region) if region.isdigit() else None,
                                       page=page, per_page=PER_PAGE, where=where)
        return self.render_template(
            "office/docking_progress.html", title=_("Docking progress"), rows=rows, total=total,
            page=page, pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), state=state,
            region=region, regions=regions, states=docking.DOCKING_NEED_STATES,
            show_regions=jurisdiction.is_global())

    @expose("/need/<int:need_id>")
    @has_access
    def need(self, need_id):
        """The proposals to one need of the jurisdiction, read-only."""
        need = _visible_or_404(Need, need_id)
        return self.render_template(
            "office/docking_need.html", title=need.title, need=need,
            proposals=docking.proposals_to_need(need), unread={}, may_compare=False)
