"""Extension singletons. Only stateless holders live here; the AppBuilder is built per app
(a module-level AppBuilder breaks a second app in the same process, stack notes §1)."""
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect


class Session(FlaskSession):
    """Flask-SQLAlchemy's session ignores ``Session.bind``; honouring it lets the test
    suite join every request to one outer transaction and roll it back per test."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLA(session_options={"class_": Session})
csrf = CSRFProtect()
migrate = Migrate()


def configure_sqlite(engine):
    """Real transactions on SQLite: pysqlite's own BEGIN handling breaks SAVEPOINTs (the
    documented SQLAlchemy recipe), and foreign keys are off unless asked for."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")
