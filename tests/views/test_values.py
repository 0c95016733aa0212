"""Values read as values on every generated list and show page: times in Beijing time to the
minute, 是/否, amounts under a heading in yuan, lists joined, records by name; never a Python repr, a bare
True/False/None cell or a timestamp with fractions of a second. The pages are every model
view's list and the show page of its first row, walked as the administrator and the platform
(the views come from the registry: a new one is walked without anyone listing it)."""
import datetime as dt
import re

import pytest
from flask_appbuilder import ModelView
from helpers import login
from sqlalchemy import Boolean, DateTime, Numeric, inspect, select

from app.core import display
from app.extensions import db
from app.models import NeedState, Notification, ProposalState, ResearcherState

BAD = {
    "python repr": re.compile(r"object at 0x[0-9a-f]+"),
    "bare None/True/False cell": re.compile(r">\s*(None|True|False)\s*<"),
    "time with fractions of a second": re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,6}"),
    "UTC": re.compile(r"世界协调时|\bUTC\b"),
    "amount as stored": re.compile(r">\s*\d{4,}\.\d{2}\s*<"),
}


def _model_views(app):
    return [v for v in app.appbuilder.baseviews
            if isinstance(v, ModelView) and hasattr(v.datamodel.obj, "__table__")]


def test_every_view_formats_its_times_booleans_amounts_and_lists(app):
    missing = []
    for view in _model_views(app):
        model = view.datamodel.obj
        shown = set(view.list_columns) | set(view.show_columns)
        for column in model.__table__.columns:
            kind = column.type
            needs = (isinstance(kind, (Boolean, DateTime))
                     or (isinstance(kind, Numeric) and (kind.precision or 0) >= 12
                         and kind.scale == 2))
            if needs and column.key in shown and column.key not in view.formatters_columns:
                missing.append(f"{type(view).__name__}.{column.key}")
        for relation in inspect(model).relationships:
            if relation.uselist and relation.key in shown and (
                    relation.key not in view.formatters_columns):
                missing.append(f"{type(view).__name__}.{relation.key}")
    assert missing == []


def test_every_amount_column_names_its_unit_once(app):
    """An amount's heading names the unit (金额（元）) and its cells are figures: the payments
    list read "金额（元）" over "150,000.00 元"."""
    from flask_babel import force_locale

    wrong = []
    for view in _model_views(app):
        shown = set(view.list_columns) | set(view.show_columns)
        for column in view.datamodel.obj.__table__.columns:
            if not (display.is_money(column) and column.key in shown):
                continue
            with app.test_request_context():
                cell = view.formatters_columns[column.key](150000)
                with force_locale("zh"):
                    heading_zh = str(view.label_columns.get(column.key, column.key))
                with force_locale("en"):
                    heading_en = str(view.label_columns.get(column.key, column.key))
            if cell != "150,000.00" or "（元）" not in heading_zh or "(CNY)" not in heading_en:
                wrong.append(f"{type(view).__name__}.{column.key}: {heading_zh} / "
                             f"{heading_en}: {cell}")
    assert wrong == [], "\n".join(wrong)


def test_values_read_in_the_readers_language(app):
    with app.test_request_context():
        from flask_babel import force_locale

        moment = dt.datetime(2026, 12, 7, 1, 55, 56, 580281)  # stored in UTC
        with force_locale("zh"):
            assert display.local_time(moment) == "2026-12-07 09:55"
            assert display.money(150000) == "150,000.00 元"
            assert display.yes_no(True) == "是" and display.yes_no(False) == "否"
            assert display.joined(["软件", "通信技术", "信息安全技术"]) == "软件、通信技术和信息安全技术"
        with force_locale("en"):
            assert display.money(150000) == "150,000.00 yuan"
            assert display.yes_no(False) == "No"
            assert display.joined(["a", "b"]) == "a and b"


@pytest.fixture()
def records(make):
    enterprise = make.enterprise("420100")
    researcher = make.researcher("420100", state=ResearcherState.approved)
    need = make.need(enterprise, NeedState.contracted)
    make.proposal(need, researcher, ProposalState.selected)
    contract = make.contract(need, researcher)
    make.project(contract)
    user = make.user("Enterprise", "values_ent", enterprise_id=enterprise.id)
    make.save(Notification(user_id=user.id, channel="site", template="needs.publish",
                           payload={"subject_id": need.id}, idempotency_key="values:1"))
    make.user("Admin", "values_admin")
    make.user("Platform", "values_platform")


@pytest.mark.parametrize("username", ["values_admin", "values_platform"])
def test_no_generated_page_shows_machinery(app, client, records, username):
    login(client, username)
    found, walked = [], 0
    for view in _model_views(app):
        base = view.route_base
        response = client.get(f"{base}/list/")
        if response.status_code != 200:
            continue  # not this role's page
        pages = [(f"{base}/list/", response.get_data(as_text=True))]
        first = db.session.scalar(select(view.datamodel.obj.id).order_by(
            view.datamodel.obj.id).limit(1))
        if first is not None:
            shown = client.get(f"{base}/show/{first}")
            if shown.status_code == 200:
                pages.append((f"{base}/show/{first}", shown.get_data(as_text=True)))
        for url, text in pages:
            walked += 1
            found += [f"{url}: {name}: {m.group(0)!r}" for name, pattern in BAD.items()
                      for m in [pattern.search(text)] if m]
    assert walked > 10
    assert found == [], "\n".join(found)


def test_the_review_history_is_in_beijing_time(app, client, make, db_session):
    from app.models import Action, ReviewRecord
    from app.workflows import apply_action

    enterprise = make.enterprise("420100")
    need = make.need(enterprise, NeedState.draft)
    owner = make.user("Enterprise", "values_owner", enterprise_id=enterprise.id)
    make.open_round()
    apply_action(need, Action.submit, owner)
    db_session.commit()
    record = db_session.scalars(select(ReviewRecord).where(
        ReviewRecord.subject_id == need.id)).first()
    login(client, "values_owner")
    page = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    with app.test_request_context():
        shown = display.local_time(record.created_at)
    utc = record.created_at.strftime("%Y-%m-%d %H:%M")
    assert shown in page and (shown == utc or utc not in page)
