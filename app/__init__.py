"""The application factory. No app is built at import time (except in run.py)."""
import logging
import os

from flask import Flask
from flask_appbuilder import AppBuilder
from werkzeug.utils import import_string

from app import listeners, models  # noqa: F401  (models: every table on FAB's metadata)
from app.cli import register_cli
from app.core import outages
from app.core.access import rate_limits
from app.core.access.auth_policy import init_auth_policy
from app.core.access.headers import init_security_headers
from app.core.audit import hooks as audit_hooks
from app.domain import transitions
from app.extensions import configure_sqlite, csrf, db, migrate
from app.public import bp as public_site
from app.views import register_views
from app.views.menu import init_menu


def create_app(config_class="config.Config", **overrides) -> Flask:
    """Build the app: config → database → CSRF → listeners and transitions → FAB (security,
    Babel) → views → public site → CLI. Touches neither the database nor Redis: migrations
    (`flask db upgrade`) and roles (`flask init-roles`) are explicit steps, so a fresh or older
    database is never half-built."""
    app = Flask(__name__, instance_relative_config=False)
    _load_config(app, config_class, overrides)
    # An empty value prints as nothing, not "None": FAB's show and list widgets print every
    # column as it is, so each unset attachment, opinion or date read "None" on the pages.
    app.jinja_env.finalize = lambda value: "" if value is None else value
    with app.app_context():
        db.init_app(app)
        configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        if db.engine.dialect.name != "sqlite":
            outages.ping_idle_connections(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
        csrf.init_app(app)  # before FAB: FAB does not register CSRF protection itself
        listeners.install()  # search index, audit chain, cache tokens, matching, job queue
        transitions.install()  # the engine's table of state changes
        migrate.init_app(app, db, directory=_migrations_dir(), compare_type=True,
                         render_as_batch=True)
        rate_limits.configure_storage(app)  # before FAB builds its limiter from the config
        appbuilder = AppBuilder()  # one per app (a module-level one breaks a second app)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
        init_menu(app)
        app.register_blueprint(public_site)
        init_auth_policy(app)
        init_security_headers(app)
        rate_limits.init_rate_limits(app, appbuilder)  # after every limited view exists
        app.after_request(audit_hooks.record_other_failed_login)
        register_cli(app)
        outages.register(app)
    logging.getLogger("rq").setLevel(logging.WARNING)
    return app


def _load_config(app, config_class, overrides):
    if isinstance(config_class, str):
        config_class = import_string(config_class)
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_class.validate(app.config)


def _migrations_dir():
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
