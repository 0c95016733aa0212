"""The audit log over HTTP and at the database: what gets a row (decisions, logins and failed
logins by form and API, exports, permission changes, staff edits and deletes on forms and the
API), the hash chain (tampering, removal and a purge are seen by verify_chain; two PostgreSQL
sessions cannot fork it), append-only (ORM and database refuse changes), retention (no purge
under 180 days), who may read and export it, and formula-safe exports."""
import io
import os
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from app.core import audit
from app.core.audit import AuditLogReadOnly, RetentionTooShort, purge, verify_chain
from app.extensions import db
from app.models import AuditLog, EnterpriseState, NeedState
from app.models.audit import AuditChainHead
from app.models.mixins import utcnow
from helpers import api_headers, login

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


# -- staff edits through FAB's forms and the REST API (app/views/base.py) --------------------

def _round_form(program_round, **changes):
    r = program_round
    data = {"code": r.code, "name": r.name, "name_en": r.name_en or "",
            "document_number": r.document_number or "", "province": r.province,
            "needs_filing_start": r.needs_filing_start.isoformat(),
            "needs_filing_end": r.needs_filing_end.isoformat(),
            "matching_end": r.matching_end.isoformat(),
            "execution_end": r.execution_end.isoformat(),
            "evaluation_end": r.evaluation_end.isoformat(),
            "min_need_amount": str(r.min_need_amount), "funding_cap": str(r.funding_cap),
            "project_quota": str(r.project_quota),
            "projects_per_enterprise": str(r.projects_per_enterprise)}
    data.update(changes)
    return data


def test_staff_edit_on_a_form_is_recorded_with_the_changed_columns(client, make, db_session):
    program_round = make.open_round()
    db_session.commit()
    platform = make.user("Platform")
    login(client, platform.username)
    response = client.post(f"/programroundmodelview/edit/{program_round.id}",
                           data=_round_form(program_round, name="2026年第二批", project_quota="250"),
                           environ_base={"REMOTE_ADDR": "10.4.5.6"})
    assert response.status_code == 302
    [row] = rows("program_rounds.update", subject_id=program_round.id)
    assert (row.actor_id, row.actor_name, row.ip) == (platform.id, platform.username, "10.4.5.6")
    # Only what changed; the form's untouched fields (also the empty ones) are not listed.
    assert row.before == {"name": "测试批次", "project_quota": 300}
    assert row.after == {"name": "2026年第二批", "project_quota": 250}
    assert verify_chain().ok
    # A refused edit (the phases out of order) changes nothing and leaves no row.
    client.post(f"/programroundmodelview/edit/{program_round.id}",
                data=_round_form(program_round, matching_end="2000-01-01", name="改不了"))
    assert len(rows("program_rounds.update", subject_id=program_round.id)) == 1
    # A save without changes is not a change either.
    db_session.expire_all()
    client.post(f"/programroundmodelview/edit/{program_round.id}",
                data=_round_form(db_session.get(type(program_round), program_round.id)))
    assert len(rows("program_rounds.update", subject_id=program_round.id)) == 1


def test_staff_edit_of_a_many_to_many_field_on_a_form_is_recorded(client, make, db_session):
    from app.models import ResearcherState

    researcher = make.researcher(state=ResearcherState.returned, return_reason="请补充",
                                 title="副教授", expertise="光纤传感", achievements="论文三篇")
    old_fields = [f.id for f in researcher.fields]
    new_field = make.field("0601")
    admin = make.user("Admin")
    login(client, admin.username)
    response = client.post(f"/researchermodelview/edit/{researcher.id}", data={
        "title": "教授", "degree": researcher.degree or "", "fields": [str(new_field.id)],
        "keywords": researcher.keywords, "expertise": researcher.expertise,
        "achievements": researcher.achievements}, content_type="multipart/form-data")
    assert response.status_code == 302
    [row] = rows("researchers.update", subject_id=researcher.id)
    assert row.actor_id == admin.id
    assert row.before == {"title": "副教授", "fields": old_fields}
    assert row.after == {"title": "教授", "fields": [new_field.id]}


def test_staff_put_through_the_api_is_recorded(client, make, db_session):
    enterprise = make.enterprise(A, address="武汉市洪山区1号", contact_name="李四")
    bureau = make.user("Bureau", region_id=make.region(A).id)
    headers = api_headers(client, bureau.username)
    response = client.put(f"/api/v1/enterprise/{enterprise.id}", headers=headers,
                          json={"address": "光谷大道1号", "contact_name": "李四"},
                          environ_base={"REMOTE_ADDR": "10.7.8.9"})
    assert response.status_code == 200
    [row] = rows("enterprises.update", subject_id=enterprise.id)
    assert (row.actor_id, row.actor_name, row.ip) == (bureau.id, bureau.username, "10.7.8.9")
    assert row.before == {"address": "武汉市洪山区1号"} and row.after == {"address": "光谷大道1号"}
    # Refused (into another region: 400): nothing changed, no row.
    response = client.put(f"/api/v1/enterprise/{enterprise.id}", headers=headers,
                          json={"region": make.region("420500").id})
    assert response.status_code == 400
    assert len(rows("enterprises.update", subject_id=enterprise.id)) == 1
    assert verify_chain().ok


def test_staff_edit_and_delete_mask_personal_data_in_the_row(client, make, db_session):
    need = make.need(make.enterprise(A), NeedState.draft, title="待删除的需求",
                     contact_name="王工", contact_phone="13800001111")
    admin = make.user("Admin")
    login(client, admin.username)
    response = client.post(f"/needmodelview/edit/{need.id}", data={
        "title": need.title, "category": str(need.category_id), "field": str(need.field_id),
        "background": need.background, "problem": need.problem, "targets": need.targets,
        "amount": str(need.amount), "contact_name": "王工", "contact_phone": "13900002222"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    [edit] = rows("needs.update", subject_id=need.id)
    assert edit.before == {"contact_phone": "138****1111"}
    assert edit.after == {"contact_phone": "139****2222"}
    need_id = need.id
    headers = api_headers(client, admin.username)
    assert client.delete(f"/api/v1/need/{need_id}", headers=headers).status_code == 200
    [gone] = rows("needs.delete", subject_id=need_id)
    assert gone.actor_id == admin.id and gone.after is None
    assert gone.before["title"] == "待删除的需求" and gone.before["state"] == "draft"
    assert gone.before["contact_phone"] == "139****2222"
    assert "13900002222" not in str(gone.before) and "13900002222" not in str(edit.after)


def test_a_participant_editing_its_own_draft_is_not_recorded(client, make, db_session):
    """Chosen so (app/views/base.py): the log holds staff to account; an enterprise's own
    draft saves are its own data, and what it submits is recorded as a workflow decision."""
    enterprise = make.enterprise(A)
    need = make.need(enterprise, NeedState.draft)
    owner = make.user("Enterprise", enterprise_id=enterprise.id)
    headers = api_headers(client, owner.username)
    response = client.put(f"/api/v1/need/{need.id}", headers=headers,
                          json={"title": "自己改的草稿"})
    assert response.status_code == 200
    assert rows("needs.update", subject_id=need.id) == []


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


def test_the_daily_check_tells_every_administrator_of_a_broken_chain(client, make, db_session):
    from app.jobs.audit import check_audit_chain
    from app.models import Notification

    admins = [make.user("Admin", f"chain_admin_{i}") for i in range(2)]
    platform = make.user("Platform", "chain_platform")
    _write(2)
    assert check_audit_chain(reschedule=False) is True
    bad = rows("t.1")[0]
    disable_triggers(db_session)
    db_session.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": bad.id})
    db_session.expire_all()
    assert check_audit_chain(reschedule=False) is False

    def told(user):
        return db_session.scalars(select(Notification).where(
            Notification.user_id == user.id,
            Notification.template == "work.audit_checks.broken",
            Notification.channel == "site")).all()
    assert all(len(told(admin)) == 1 for admin in admins) and not told(platform)
    login(client, admins[0].username)
    desk = client.get("/office/").get_data(as_text=True)
    assert "哈希链在第" in desk and "断裂" in desk
    inbox = client.get("/office/inbox/").get_data(as_text=True)
    assert "审计日志哈希链在第" in inbox


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
    # Times in Beijing time (UTC+8), as every page shows them, not the stored UTC.
    import datetime as dt
    seq, shown = sheet.cell(row=2, column=1).value, sheet.cell(row=2, column=2).value
    stored = db.session.scalar(select(AuditLog.created_at).where(AuditLog.seq == seq))
    assert shown == (stored + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("name", [
    "=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "-",
], ids=["=", "+", "-", "@", "tab", "CR", "dash"])
def test_audit_export_neutralises_each_formula_start(client, make, name):
    """The claimed user name of a failed API login is written to the log as typed, by anyone:
    in the export it is a quoted text cell whatever it starts with (app/domain/needs/export.safe_cell)."""
    response = client.post("/api/v1/security/login",
                           json={"username": name, "password": "x1", "provider": "db"})
    assert response.status_code == 401
    [failed] = rows("login.failed", actor_name=name)
    admin = make.user("Admin")
    login(client, admin.username)
    response = client.get("/auditlogmodelview/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[0].value == failed.seq]
    # A carriage return is written as the spec's escape (_x000D_, ECMA-376 ST_Xstring), which
    # Excel and LibreOffice read back as the character and openpyxl leaves as written; it
    # stays behind the quote.
    assert row[2].data_type == "s"
    assert row[2].value.replace("_x000D_", "\r") == "'" + name
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    # Numbers stay numbers (the link and the record id can be sorted and compared).
    assert row[0].data_type == "n"


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
