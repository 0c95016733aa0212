"""Back-office views of records that move through ``app/workflows``: the decide page (one
record, with its opinion), bulk decisions, the review timeline and completeness findings."""
from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.access import jurisdiction
from app.extensions import db
from app.models import Action, AppUser, ReviewRecord
from app.views.base import ScopedModelView
from app.workflows import WorkflowError, apply_action, available_actions
from app.workflows.registry import transitions_of


class WorkflowModelView(ScopedModelView):
    """A scoped view whose records move through ``app/workflows`` on a ``decide`` page."""

    show_template = "office/show_with_timeline.html"
    findings_title = None  # heading of findings_for's box; None: the completeness check

    def findings_for(self, item) -> list:
        """Advice shown beside the record (e.g. the completeness check of a need)."""
        return []

    def links_for(self, item) -> list:
        """(label, url) pairs shown as buttons on the record's page."""
        return []

    def _apply_many(self, items, action, opinion=None):
        """Apply ``action`` to each item, committing each on its own: one refusal (a state
        that changed meanwhile, a missing reason) does not undo the others."""
        items = items if isinstance(items, list) else [items]
        done, refused = 0, []
        for item in items:
            try:
                apply_action(item, action, g.user, opinion)
                db.session.commit()
                done += 1
            except WorkflowError as err:
                db.session.rollback()
                refused.append(f"{item}: {err}")
        if done:
            flash(_("%(count)d record(s) updated.", count=done), "success")
        for message in refused:
            flash(message, "danger")
        return done

    def _act_on_list(self, items, action):
        """A list action that needs no opinion (publish, verify, approve)."""
        self._apply_many(items, action)
        self.update_redirect()
        return redirect(self.get_redirect())

    def _redirect_many(self, items, action):
        """From a list action to the bulk page that asks for the opinion."""
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(f"{self.endpoint}.decide_many", action=Action(action).value,
                                rowid=[i.id for i in items]))

    @expose("/decide/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("decide")
    def decide(self, pk):
        """The record whole (its fields, documents, checks and history) beside the opinion box:
        a reviewer decides on what they can see. A refusal keeps the opinion typed."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        user = g.user
        opinion, error = "", None
        if request.method == "POST":
            opinion = request.form.get("opinion") or ""
            try:
                action = Action(request.form.get("action", ""))
            except ValueError:
                action, error = None, _("Unknown action.")
            if action is not None:
                try:
                    apply_action(item, action, user, opinion.strip() or None)
                    db.session.commit()
                    flash(_("Done: %(action)s.", action=action.title), "success")
                    return redirect(url_for(f"{self.endpoint}.show", pk=pk))
                except WorkflowError as err:
                    db.session.rollback()
                    error = str(err)
                    item = self.datamodel.get(pk, self._base_filters)
                    if item is None:
                        abort(404)
        widgets = self._get_show_widget(pk, item)
        return self.render_template(
            "office/decide.html", item=item, widgets=widgets,
            actions=decision_buttons(item, available_actions(item, user)),
            timeline=widgets["timeline"], findings=widgets["findings"], title=_("Decide"),
            findings_title=self.findings_title, opinion=opinion, error=error,
        ), (422 if error else 200)

    @expose("/decide_many", methods=["GET", "POST"])
    @has_access
    @permission_name("decide")
    def decide_many(self):
        """One opinion for several records (a bureau recommending a batch of needs)."""
        try:
            action = Action(request.values.get("action", ""))
        except ValueError:
            abort(400)
        pks = request.values.getlist("rowid")
        model = self.datamodel.obj
        allowed = jurisdiction.visible_ids(db.session, model, pks)
        if not pks or {str(p) for p in pks} - {str(i) for i in allowed}:
            abort(404)
        items = db.session.scalars(select(model).where(model.id.in_(allowed))
                                   .order_by(model.id)).all()
        if request.method == "POST":
            opinion = (request.form.get("opinion") or "").strip()
            if not opinion and _needs_opinion(model, action):
                flash(_("Please give a reason or opinion for “%(action)s”.",
                        action=action.title), "danger")
            else:
                self._apply_many(items, action, opinion)
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template("office/decide_many.html", items=items, action=action,
                                    title=action.title,
                                    needs_opinion=_needs_opinion(model, action))

    def _get_show_widget(self, pk, item, **kwargs):
        widgets = super()._get_show_widget(pk, item, **kwargs)
        widgets["timeline"] = timeline_of(item)
        widgets["findings"] = self.findings_for(item)
        widgets["findings_title"] = self.findings_title
        widgets["decide_url"] = url_for(f"{self.endpoint}.decide", pk=pk)
        widgets["links"] = self.links_for(item)
        return widgets


# Actions that send a record back or end it: shown apart from those that move it on, and a
# reason is asked for before the page is sent.
HOLDING_ACTIONS = frozenset({Action.return_, Action.decline, Action.withdraw, Action.close})


def decision_buttons(item, actions) -> list[dict]:
    """The decide page's buttons: the action, whether it holds the record back (styled and
    placed apart), whether it needs a written reason."""
    table = transitions_of(type(item))
    return [{"action": a, "holds": a in HOLDING_ACTIONS,
             "needs_opinion": table[(item.state, a)].needs_opinion} for a in actions]


def _needs_opinion(model, action) -> bool:
    return any(t.needs_opinion for (_state, a), t in transitions_of(model).items() if a == action)


def timeline_of(item):
    stmt = (
        select(ReviewRecord)
        .where(ReviewRecord.subject_type == type(item).__tablename__,
               ReviewRecord.subject_id == item.id)
        .order_by(ReviewRecord.created_at, ReviewRecord.id)
        # Shown by name (display.person): the actor's enterprise or researcher in the same
        # round trips, not one query per line.
        .options(selectinload(ReviewRecord.actor).selectinload(AppUser.enterprise),
                 selectinload(ReviewRecord.actor).selectinload(AppUser.researcher))
    )
    return db.session.scalars(stmt).all()
