"""Seed, configuration errors, health check and CSRF (migrations: test_migrations.py)."""
import pytest
from sqlalchemy import func, select

from app import create_app
from app.models import HighTechZone, NeedCategory, ProgramRound, Region, TechDomain, TechField
from app.domain.reference.loader import seed_reference_data
from config import ConfigError


def test_reference_data_is_complete(db_session):
    count = lambda model: db_session.scalar(select(func.count()).select_from(model))
    assert count(Region) == 17
    assert db_session.scalar(select(func.count()).where(HighTechZone.level == "national")) == 12
    assert count(TechDomain) == 8 and count(TechField) >= 40
    names = [c.name for c in db_session.scalars(select(NeedCategory).order_by(NeedCategory.sort_order))]
    assert names == ["产品创新与技术攻关", "行业关键共性技术突破", "技术改造与转型升级", "共建研发平台",
                     "高端创新管理与工业设计"]
    wuhan = db_session.scalars(select(Region).where(Region.code == "420100")).one()
    assert wuhan.name == "武汉市"
    assert {r.short_name for r in db_session.scalars(select(Region))} >= {"恩施州", "神农架", "仙桃"}


def test_the_2020_round_carries_the_notice_rules(db_session):
    import datetime as dt

    r = db_session.scalars(select(ProgramRound).where(ProgramRound.code == "HB-2020")).one()
    assert r.document_number == "鄂科技通〔2020〕67号"
    assert (r.min_need_amount, r.funding_cap, r.project_quota, r.projects_per_enterprise) == (
        100000, 100000, 300, 1)
    assert r.needs_filing_end == dt.date(2020, 12, 31) and r.matching_end == dt.date(2021, 2, 28)
    assert r.phase_on(dt.date(2021, 1, 15)).value == "matching"
    assert r.phase_on(dt.date(2022, 1, 1)).value == "closed"


def test_seed_twice_changes_nothing(db_session):
    assert seed_reference_data() == {"created": 0, "updated": 0}


def test_seed_repairs_an_edited_row(db_session):
    region = db_session.scalars(select(Region).where(Region.code == "420500")).one()
    region.name = "错误名称"
    db_session.commit()
    assert seed_reference_data()["updated"] == 1
    assert region.name == "宜昌市"


def test_cli_seed_and_roles_are_idempotent(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0 and "0 created, 0 updated" in result.output
    first = runner.invoke(args=["init-roles"]).output
    assert runner.invoke(args=["init-roles"]).output == first
    assert "Bureau:" in first and "Researcher:" in first


def test_missing_secret_key_is_one_clear_error():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("config.TestConfig", SECRET_KEY=None)
    with pytest.raises(ConfigError, match="too short"):
        create_app("config.TestConfig", SECRET_KEY="short")


def test_bad_database_url_is_one_clear_error():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI="mysql://x")


def test_production_refuses_without_its_settings(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("config.ProductionConfig", SECRET_KEY="p" * 40)


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_says_which_part_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok" and response.json["redis"].startswith("error")


def test_csrf_protection_is_on(tmp_path):
    app = create_app("config.TestConfig", WTF_CSRF_ENABLED=True,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/c.db")
    client = app.test_client()
    assert client.post("/login/", data={"username": "x", "password": "y"}).status_code == 400
    assert "csrf" in app.extensions
