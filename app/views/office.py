"""The back office's landing page, each role's desk: 待办事项 with counts, the round's phase and
next deadline, and the inbox's unread count. The public blueprint owns ``/``; FAB's index moves
here."""
import datetime as dt

from flask import g
from flask_appbuilder import IndexView, expose
from flask_babel import get_locale

from app.core import cache_tokens
from app.core.access import jurisdiction
from app.core.security import ROLE_TITLES
from app.domain.desk import kept, panels, todo
from app.domain.rounds import current_round
from app.models import RoundDates
from app.utils import clock
from app.views import frame
from app.views.base import PageHistory


def _round_today(today: dt.date):
    """The current round's name (in the reader's language), dates and id (kept under the
    reference token: one read a day and language; kept by day alone, the name was in the
    language of the first desk shown that day, for everyone)."""
    def make():
        found = current_round(today)
        return None if found is None else (found.label, RoundDates.of(found), found.id)
    return cache_tokens.kept("reference", "desk_round", (today, str(get_locale())), make,
                             limit=10)


class OfficeIndexView(PageHistory, IndexView):
    route_base = "/office"
    index_template = "office/index.html"

    @expose("/")
    def index(self):
        self.update_redirect()
        user = getattr(g, "user", None)
        if not getattr(user, "is_authenticated", False):
            return self.render_template(self.index_template, appbuilder=self.appbuilder)
        today = clock.today()
        # Every token the desk's parts are kept under: read with the user's snapshot
        # (``visitor.DESK_PAGE``), else here in one statement.
        cache_tokens.prefetch(["reference", *(f"rows:{t}" for t in kept.DESK_TABLES)])
        found = _round_today(today)

        def context():
            phase = deadline = None
            if found is not None:
                phase = found[1].phase_on(today)
                deadline = found[1].phase_end(phase)
            return dict(
                todos=todo.todo_list(user, today),
                panels=panels.of(user, found[2] if found else None),
                returned_kinds=panels.RETURNED_KINDS,
                round_name=found[0] if found else None, phase=phase, deadline=deadline,
                days_left=(deadline - today).days if deadline else None,
                roles=[str(ROLE_TITLES.get(r, r))
                       for r in sorted(jurisdiction.role_names(user))],
                unread=getattr(user, "unread_notices", 0))

        if not frame.keeps_frame():
            return frame.render_whole(self.index_template, **context())
        # The page's content, kept as its counts and panels are, while their tables hold.
        content = kept.kept_page(
            user, ("counts", *panels.names_for(user)),
            (todo.values_of(user, today), found, frame.language_key(), user.username,
             getattr(user, "unread_notices", 0)),
            lambda: frame.render_content(self.index_template, **context()))
        return frame.in_frame(content)
