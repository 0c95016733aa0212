"""The audit log over HTTP and at the database: what gets a row (decisions, logins and failed
logins by form and API, exports, permission changes), the hash chain (tampering, removal and a
purge are seen by verify_chain; two PostgreSQL sessions cannot fork it), append-only (ORM and
database refuse changes), retention (no purge under 180 days), and who may read and export it."""
import io
import os
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from app import audit
from app.audit import AuditLogReadOnly, RetentionTooShort, purge, verify_chain
from app.extensions import db
from app.models import AuditLog, EnterpriseState, NeedState
from app.models.audit import AuditChainHead
from app.models.mixins import utcnow
from conftest import login

A = "420100"


def rows(action, **where):
    stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.seq)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditLog, key) == value)
    return db.session.scalars(stmt).all()


def disable_triggers(session):
    """Tamper as someone with database access would (inside the test's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))


# -- what is recorded ------------------------------------------------------------------------

def test_staff_decision_is_recorded_with_who_where_and_before_after(client, make):
    enterprise = make.enterprise(A, state=EnterpriseState.submitted)
    bureau = make.user("Bureau", region_id=make.region(A).id)
    login(client, bureau.username)
    response = client.post(f"/enterprisemodelview/decide/{enterprise.id}",
                           data={"action": "verify"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302
    [row] = rows("enterprises.verify", subject_id=enterprise.id)
    assert (row.actor_id, row.actor_name, row.ip) == (bureau.id, bureau.username, "10.1.2.3")
    assert row.before == {"state": "submitted"} and row.after["state"] == "verified"
    assert verify_chain().ok


def test_logins_and_failed_logins_by_form_and_api(client, make):
    user = make.user("Platform")
    login(client, user.username)
    client.get("/logout/")
    client.post("/login/", data={"username": user.username, "password": "wrong-password"})
    client.post("/login/", data={"username": "nobody-such", "password": "whatever-1"})
    assert client.post("/api/v1/security/login", json={
        "username": user.username, "password": "pw-Test-123456", "provider": "db"}).status_code == 200
    assert client.post("/api/v1/security/login", json={
        "username": user.username, "password": "nope", "provider": "db"}).status_code == 401
    assert client.post("/api/v1/security/login", json={
        "username": "ghost", "password": "nope", "provider": "db"}).status_code == 401

    ok = rows("login", actor_id=user.id)
    assert [r.after["via"] for r in ok] == ["form", "api"]
    failed = [(r.actor_name, r.after["via"], r.actor_id) for r in rows("login.failed")]
    assert failed == [(user.username, "form", None), ("nobody-such", "form", None),
                      (user.username, "api", None), ("ghost", "api", None)]
    assert all(r.ip == "127.0.0.1" for r in rows("login.failed"))


def test_inactive_account_login_is_recorded_as_failed(client, make):
    user = make.user("Researcher")
    user.active = False
    db.session.commit()
    client.post("/login/", data={"username": user.username, "password": "pw-Test-123456"})
    assert [r.actor_name for r in rows("login.failed")] == [user.username]
    # Deactivation is a permission change too.
    [change] = rows("users.permissions", subject_id=user.id)
    assert change.before["active"] is True and change.after["active"] is False


def test_exports_are_recorded(client, make):
    enterprise = make.enterprise(A)
    make.need(enterprise, NeedState.published)
    platform = make.user("Platform")
    login(client, platform.username)
    assert client.get("/needlist/export.xlsx?q=").status_code == 200
    [row] = rows("needs.export")
    assert row.actor_id == platform.id and row.after["count"] == 1


def test_permission_changes_by_user_form_and_role_permissions(client, make):
    admin = make.user("Admin")
    target = make.user("Researcher")
    login(client, admin.username)
    bureau_role = client.application.appbuilder.sm.find_role("Bureau").id
    response = client.post(f"/users/edit/{target.id}", data={
        "first_name": "R", "last_name": "S", "username": target.username, "active": "y",
        "email": target.email, "roles": [str(bureau_role)]})
    assert response.status_code == 302
    [change] = rows("users.permissions", subject_id=target.id)
    assert change.before["roles"] == ["Researcher"] and change.after["roles"] == ["Bureau"]
    assert change.actor_id == admin.id

    sm = client.application.appbuilder.sm
    role = sm.find_role("Province")
    pvm = sm.find_permission_view_menu("can_list", "AuditLogModelView")
    role.permissions.append(pvm)
    db.session.commit()
    grant = rows("roles.permissions", subject_id=role.id)[-1]  # sync_roles wrote the first
    assert grant.after == {"role": "Province", "added": [str(pvm)]}
    assert grant.actor_name == "system"  # no request: a script or `flask init-roles`


# -- the chain -------------------------------------------------------------------------------

def _write(n, prefix="t"):
    for i in range(n):
        audit.record(f"{prefix}.{i}", None, subject_type="test", after={"i": i, "数": "值"})
    db.session.commit()


def test_chain_links_every_row_and_detects_an_altered_row(db_session):
    _write(5)
    written = rows("t.2")[0]
    assert verify_chain().ok
    disable_triggers(db_session)
    db_session.execute(text("UPDATE audit_log SET ip = '1.1.1.1' WHERE id = :id"),
                       {"id": written.id})
    db_session.expire_all()
    result = verify_chain()
    assert not result.ok and result.first_bad_id == written.id
    assert "altered" in result.reason


def test_chain_detects_removed_rows_in_the_middle_and_at_the_end(db_session):
    _write(4)
    second, last = rows("t.1")[0], rows("t.3")[0]
    disable_triggers(db_session)
    db_session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last.id})
    db_session.expire_all()
    result = verify_chain()
    assert not result.ok and "end" in result.reason
    db_session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": second.id})
    result = verify_chain()
    assert not result.ok and result.first_bad_id == rows("t.2")[0].id


def test_cli_verify_reports_the_first_broken_row(app, db_session):
    _write(2)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    bad = rows("t.0")[0]
    disable_triggers(db_session)
    db_session.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": bad.id})
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"id={bad.id}" in broken.output


# -- append-only -----------------------------------------------------------------------------

def test_orm_refuses_to_change_or_delete_audit_rows(db_session):
    _write(1)
    row = rows("t.0")[0]
    row.action = "forged"
    with pytest.raises(AuditLogReadOnly):
        db_session.flush()
    db_session.rollback()
    row = rows("t.0")[0]
    db_session.delete(row)
    with pytest.raises(AuditLogReadOnly):
        db_session.flush()
    db_session.rollback()
    assert rows("t.0")


def test_bulk_orm_statements_are_refused(db_session):
    from sqlalchemy import delete, update

    _write(1)
    with pytest.raises(AuditLogReadOnly):
        db_session.execute(update(AuditLog).values(action="forged"))
    with pytest.raises(AuditLogReadOnly):
        db_session.execute(delete(AuditLog))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'forged'",
                                       "DELETE FROM audit_log"])
def test_database_trigger_refuses_raw_update_and_delete(db_session, statement):
    _write(1)
    with pytest.raises(Exception, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(text(statement))
    assert rows("t.0")[0].action == "t.0"


# -- retention -------------------------------------------------------------------------------

def test_purge_refuses_less_than_180_days(app, db_session):
    with pytest.raises(RetentionTooShort):
        purge(179)
    result = app.test_cli_runner().invoke(args=["audit", "purge", "--days", "30"])
    assert result.exit_code != 0 and "180" in result.output


def test_purge_removes_old_rows_and_the_chain_still_verifies(app, db_session):
    """Seen from a day 400 days ahead: everything written so far is old, except two rows
    dated 300 days ahead; a 200-day purge removes the old prefix and keeps the chain whole."""
    import datetime as dt

    _write(3, prefix="old")
    later = utcnow() + dt.timedelta(days=300)
    for i in range(2):
        audit.record(f"new.{i}", None, subject_type="test").created_at = later
    db_session.commit()
    assert verify_chain().ok
    removed = purge(200, now=utcnow() + dt.timedelta(days=400))
    db_session.expire_all()
    assert removed >= 3
    assert not db_session.scalars(select(AuditLog).where(AuditLog.action.like("old.%"))).all()
    kept = [r.action for r in db_session.scalars(select(AuditLog).order_by(AuditLog.seq))]
    assert kept == ["new.0", "new.1", "audit.purge"]
    head = db_session.get(AuditChainHead, 1)
    assert head.anchor_seq == rows("new.0")[0].seq - 1
    assert verify_chain().ok and verify_chain().checked == 3
    assert purge(200, now=utcnow() + dt.timedelta(days=400)) == 0  # nothing more is old


# -- who may read and export it --------------------------------------------------------------

@pytest.mark.parametrize("role", ["Platform", "Bureau", "Province", "Enterprise", "Researcher"])
def test_only_admin_reads_or_exports_the_log(client, make, role):
    user = make.user(role, region_id=make.region(A).id if role == "Bureau" else None)
    login(client, user.username)
    for url in ("/auditlogmodelview/list/", "/auditlogmodelview/export.xlsx",
                "/auditlogmodelview/show/1"):
        response = client.get(url)
        assert response.status_code in (302, 403), (role, url)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_admin_exports_the_log_with_formula_cells_neutralised(client, make):
    admin = make.user("Admin")
    client.post("/login/", data={"username": "=HYPERLINK(\"http://x\",\"y\")", "password": "x1"})
    login(client, admin.username)
    page = client.get("/auditlogmodelview/list/")
    assert page.status_code == 200
    assert client.get("/auditlogmodelview/edit/1").status_code in (302, 403, 404)
    response = client.get("/auditlogmodelview/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    names = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in names
    assert not any(isinstance(v, str) and v.startswith("=") for v in names)
    assert rows("audit.export", actor_id=admin.id)


# -- two writers on PostgreSQL ----------------------------------------------------------------

@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="two real sessions need PostgreSQL (SQLite in memory has one)")
def test_two_sessions_cannot_fork_the_chain(app):
    """A holds the chain head; B commits an audit row meanwhile and must wait, then link to A's
    row. Real commits on two connections (no test transaction), undone at the end."""
    with app.app_context():
        start = db.session.get(AuditChainHead, 1)
        start_seq, start_hash = start.seq, start.hash
        db.session.remove()
    holding, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with app.app_context():
                audit.lock_head(db.session.connection())
                holding.set()
                release.wait(30)
                audit.record("race.first", None, subject_type="test")
                db.session.commit()
                db.session.remove()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    def second():
        try:
            with app.app_context():
                audit.record("race.second", None, subject_type="test")
                db.session.commit()
                db.session.remove()
        except Exception as err:  # pragma: no cover
            errors.append(err)

    a, b = threading.Thread(target=first), threading.Thread(target=second)
    a.start()
    assert holding.wait(30)
    b.start()
    try:
        with app.app_context():
            waiting = False
            for _ in range(600):  # until B is seen blocked on the head's row lock
                waiting = db.session.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%audit_chain_head%'")).scalar() > 0
                db.session.rollback()
                if waiting:
                    break
                threading.Event().wait(0.05)
            db.session.remove()
        assert waiting, "the second writer never waited for the chain head"
    finally:
        release.set()
        a.join(30)
        b.join(30)
    try:
        assert not errors, errors
        with app.app_context():
            first_row, second_row = (db.session.scalars(select(AuditLog).where(
                AuditLog.action == name)).one() for name in ("race.first", "race.second"))
            assert first_row.seq == start_seq + 1 and second_row.seq == start_seq + 2
            assert first_row.prev_hash == start_hash and second_row.prev_hash == first_row.hash
            assert verify_chain().ok
            db.session.remove()
    finally:
        with app.app_context(), db.engine.begin() as conn:  # undo the committed rows
            conn.execute(text("UPDATE audit_chain_head SET purging = true WHERE id = 1"))
            conn.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": start_seq})
            conn.execute(text("UPDATE audit_chain_head SET purging = false, seq = :s, hash = :h "
                              "WHERE id = 1"), {"s": start_seq, "h": start_hash})
