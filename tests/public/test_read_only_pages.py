"""On PostgreSQL the read-only public pages run their statements in autocommit (app/core/access/visitor.py):
checked on an app with its own pool, since the suite's session joins one outer transaction."""
import pytest
from flask import request, request_finished


@pytest.fixture()
def own_app(app, tmp_path):
    from app import create_app
    from app.extensions import db

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("autocommit pages are a PostgreSQL matter (TEST_DATABASE_URL)")
    own = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url,
                     REDIS_URL=app.config["REDIS_URL"], UPLOAD_FOLDER=str(tmp_path / "up"))
    yield own
    with own.app_context():
        db.session.remove()
        db.engine.dispose()


def test_read_only_pages_run_outside_a_transaction_and_the_others_inside(own_app):
    from app.extensions import db

    seen = {}

    def note(_sender, response, **_extra):
        driver = db.session.connection().connection.driver_connection
        seen[request.endpoint] = (response.status_code, driver.autocommit)

    request_finished.connect(note, own_app)
    try:
        client = own_app.test_client()
        for url in ("/", "/needs", "/needs?per_page=20&page=2", "/needs/999999999",
                    "/register/enterprise", "/healthz"):
            client.get(url)
    finally:
        request_finished.disconnect(note, own_app)
    assert seen["public.index"] == (200, True)
    assert seen["public.need_list"] == (200, True)
    assert seen["public.need_detail"] == (404, True)
    assert seen["public.register_enterprise_page"] == (200, False)
    assert seen["public.healthz"][1] is False
