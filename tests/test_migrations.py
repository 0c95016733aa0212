"""Migrations stand on their own: no revision imports app code, they build the models' schema
and go both ways, and an old database with data comes up to head with what it knew kept (the
whitelist) and the derived data (search index, matching profiles, audit chain) rebuilt by the
migrations' own copy of the rules (migrations/text_rules.py)."""
import ast
import pathlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import Factories
from flask_appbuilder import Model
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app import create_app
from app.core import audit
from app.domain.reference.loader import seed_reference_data
from app.extensions import db
from app.models import Need, NeedSearchTerm, NeedState, Researcher

MIGRATIONS = pathlib.Path(__file__).resolve().parent.parent / "migrations"
# The revision before the need search index: everything the data migrations rebuild (search
# terms, matching profiles, the audit chain) is added after it.
BEFORE_DERIVED_DATA = "5a4c85d559f5"


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", sorted((MIGRATIONS / "versions").glob("*.py"))
                         + [MIGRATIONS / "text_rules.py"], ids=lambda p: p.name)
def test_a_migration_imports_no_app_code(path):
    found = [m for m in _imported_modules(path) if m == "app" or m.startswith("app.")]
    assert not found, f"{path.name} imports {found}: copy what it needs into migrations/"


@pytest.fixture()
def file_app(app, tmp_path):
    return create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/m.db",
                      UPLOAD_FOLDER=str(tmp_path / "u"), REDIS_URL=app.config["REDIS_URL"])


def test_migrations_build_the_models_schema_and_go_both_ways(file_app):
    with file_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Model.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        seed_reference_data()
        downgrade(revision="base")
        upgrade()  # an older (empty) database comes up to date
        assert seed_reference_data()["created"] > 0


def _derived(need_id, researcher_id):
    terms = set(db.session.scalars(select(NeedSearchTerm.term).where(
        NeedSearchTerm.need_id == need_id)))
    need_profile = db.session.get(Need, need_id).match_terms
    researcher_profile = db.session.get(Researcher, researcher_id).match_terms
    return terms, need_profile, researcher_profile


def test_an_old_database_with_data_upgrades_to_head_with_its_derived_data_rebuilt(file_app):
    with file_app.app_context():
        upgrade()
        seed_reference_data()
        make = Factories(file_app)
        enterprise = make.enterprise(name="武汉光电储能科技有限公司")
        need = make.need(enterprise, NeedState.published, title="储能电池热失控预警",
                         keywords="储能电池 热管理",
                         problem="电池簇温度场在线监测与VOCs治理", background="储能电站扩容")
        researcher = make.researcher(keywords="储能电池 热管理", expertise="电池热失控机理")
        audit.record("needs.publish", need, after={"state": "published"})
        db.session.commit()
        made_by_the_app = _derived(need.id, researcher.id)
        assert made_by_the_app[0] and made_by_the_app[1] and made_by_the_app[2]
        db.session.remove()  # SQLite: the migrations need the file to themselves

        downgrade(revision=BEFORE_DERIVED_DATA)  # the rows stay, what derives from them goes
        with db.engine.connect() as conn:
            tables = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars())
        assert "need_search_terms" not in tables and "audit_chain_head" not in tables
        db.session.remove()

        upgrade()
        db.session.remove()
        terms, need_profile, researcher_profile = _derived(need.id, researcher.id)
        # The same as the app makes today: when the app's rules change, a new migration
        # rebuilds the derived data and this comparison moves to that migration's copy.
        assert terms == made_by_the_app[0]
        assert {"whgdcnkjyxgs", "储能", "在线监测", "chunengdianchi"} <= terms
        assert need_profile == made_by_the_app[1]
        assert researcher_profile == made_by_the_app[2]
        assert audit.verify_chain().ok


def test_whitelist_migration_keeps_what_was_known(file_app):
    with file_app.app_context():
        upgrade(revision="2cefba653ec2")
        seed_sql = ("INSERT INTO regions (id, code, name, kind, sort_order) "
                    "VALUES (1, '420100', '武汉市', 'prefecture_city', 0)")
        with db.engine.begin() as conn:
            conn.execute(text(seed_sql))
            conn.execute(text(
                "INSERT INTO enterprises (name, credit_code, region_id, on_whitelist, state, "
                "created_at, updated_at, version) VALUES ('甲', '91420100MA4K00001U', 1, 1, "
                "'submitted', '2026-01-01', '2026-01-01', 1)"))
        upgrade()
        with db.engine.connect() as conn:
            status = conn.execute(text("SELECT whitelist_status FROM enterprises")).scalar()
        assert status == "found"
