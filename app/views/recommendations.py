"""Recommendations as people read them: a researcher's recommended needs ("为什么推荐给我"), an
enterprise's recommended researchers for its needs, and the platform's full re-match runs."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core import list_counts
from app.core.access import jurisdiction
from app.core.long_reads import note
from app.core.notifications.delivery import response_rates
from app.domain.desk import todo
from app.domain.matching import push_rounds
from app.domain.matching import store as recommendations
from app.domain.matching.runs import block_counts, is_dead, start_rematch
from app.extensions import db
from app.models import Match, MatchRun, Need, NeedState, Researcher
from app.workflows.errors import WorkflowError

PER_PAGE = 20


def _of_published_needs(user):
    """The matches' condition "of a published need", written so the database reads few rows
    (the row rule is applied on top of it all the same). Staff see every match: a correlated
    EXISTS lets SQLite walk the score index and stop at the page's last row (an IN list made
    it read and sort 2,000,000 matches: 37 s). An enterprise sees its own needs' matches: the
    IN list of its published needs reaches them by the pairs' index (walking the score index
    looking for them took 7 s). A researcher's own are reached by its id in the row rule."""
    if jurisdiction.is_global(user):
        return (select(Need.id).where(Need.id == Match.need_id,
                                      Need.state == NeedState.published).exists())
    needs = select(Need.id).where(Need.state == NeedState.published)
    if getattr(user, "enterprise_id", None) is not None:
        needs = needs.where(Need.enterprise_id == user.enterprise_id)
    return Match.need_id.in_(needs)


class RecommendationView(BaseView):
    """What matching recommended to the signed-in participant, with the reasons."""

    route_base = "/recommended"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        page = request.args.get("page", "1")
        page = int(page) if page.isdigit() and int(page) > 0 else 1
        if getattr(g.user, "researcher_id", None) is not None:
            # The desk counts what comes after this visit; committed before the rows are read
            # (a commit expires them, and the template read each again).
            note(todo.mark_seen, g.user, "recommended")
        stmt = jurisdiction.scoped(
            select(Match).where(Match.dismissed.is_(False), _of_published_needs(g.user)), Match)
        total = list_counts.count_of(stmt)
        matches = db.session.scalars(
            stmt.options(joinedload(Match.need),
                         joinedload(Match.researcher).joinedload(Researcher.institution))
            .order_by(Match.score.desc(), Match.id).limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)).all()
        return self.render_template(
            "office/recommended.html", title=_("Recommendations"), matches=matches,
            describe=recommendations.describe, page=page, total=total,
            pages=max(1, (total + PER_PAGE - 1) // PER_PAGE),
            is_researcher=getattr(g.user, "researcher_id", None) is not None)

    @expose("/<int:match_id>/dismiss", methods=["POST"])
    @has_access
    def dismiss(self, match_id):
        match = jurisdiction.visible(db.session, Match, match_id)
        if match is None:
            abort(404)
        try:
            recommendations.dismiss(match, g.user, request.form.get("reason", ""))
        except WorkflowError as err:
            db.session.rollback()
            flash(str(err), "danger")
        else:
            db.session.commit()
            flash(_("Noted: this need will not be recommended to you again."), "success")
        return redirect(url_for(".index"))


class MatchingView(BaseView):
    """Full two-way re-match, started by platform staff, with its progress."""

    route_base = "/matching"
    default_view = "runs"

    @expose("/")
    @has_access
    @permission_name("list")
    def runs(self):
        runs = db.session.scalars(select(MatchRun).order_by(MatchRun.id.desc()).limit(20)).all()
        # A dead run (no block progressed for REMATCH_STALE_AFTER) does not hold the button:
        # the next start closes it.
        running = any(r.finished_at is None and not is_dead(r) for r in runs)
        rounds = push_rounds.recent()
        return self.render_template("office/matching.html", title=_("Matching"), runs=runs,
                                    blocks=block_counts(r.id for r in runs), rounds=rounds,
                                    # a failed round (out of retries) waits for its
                                    # period's next start: nothing to watch until then
                                    refresh=running or any(r["finished_at"] is None
                                                           and not r["error"] for r in rounds),
                                    running=running, channels=response_rates(db.session),
                                    response=recommendations.response())

    @expose("/run", methods=["POST"])
    @has_access
    @permission_name("run")
    def run(self):
        try:
            run = start_rematch(g.user)
        except WorkflowError as err:
            db.session.rollback()
            flash(str(err), "warning")
            return redirect(url_for(".runs"))
        db.session.commit()
        flash(_("Re-match #%(id)d started.", id=run.id), "success")
        return redirect(url_for(".runs"))
