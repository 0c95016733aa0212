"""The back office's landing page. The public blueprint owns ``/``; FAB's index moves here."""
from flask import g
from flask_appbuilder import IndexView, expose


class OfficeIndexView(IndexView):
    route_base = "/office"
    index_template = "office/index.html"

    @expose("/")
    def index(self):
        self.update_redirect()
        user = getattr(g, "user", None)
        roles = sorted(r.name for r in user.roles) if getattr(user, "is_authenticated", False) else []
        return self.render_template(self.index_template, appbuilder=self.appbuilder, roles=roles)
