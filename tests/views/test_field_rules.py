"""One validation for the forms and the API (app/core/field_rules.py), generated from the
registries: every ruled column of every REST API refuses a value past its rule with 4xx naming
the field and stores nothing; every back-office form checks the same numbers; invisible
characters are stripped whichever way a value comes in; long file names are shortened."""
import io
import os
from decimal import Decimal

import pytest
from helpers import PDF, api_headers, login
from sqlalchemy import select
from wtforms.validators import Length

from app.core import field_rules
from app.core.uploads import STORED_NAME_MAX_BYTES
from app.extensions import db
from app.models import ContractState, Message, Need, NeedState, ProposalState
from app.views.base import ScopedModelRestApi, ScopedModelView


@pytest.fixture()
def rows(make):
    """A row for every API: the admin may edit each (the rules, not the jurisdiction, are
    under test here)."""
    enterprise = make.enterprise("420100")
    researcher = make.researcher("420100")
    need = make.need(enterprise, NeedState.draft)
    published = make.need(enterprise, NeedState.published)
    proposal = make.proposal(published, researcher, state=ProposalState.shortlisted)
    contract = make.contract(published, researcher)
    contract.state = ContractState.returned
    contract.return_reason = "请补充"
    make.save(contract)
    message = make.save(Message(proposal_id=proposal.id, sender_id=make.user("Researcher").id,
                                body="报价"))
    return {"enterprise": enterprise, "researcher": researcher, "need": need,
            "proposal": proposal, "contract": contract, "message": message,
            "project": make.project(make.contract(make.need(enterprise, NeedState.published),
                                                  researcher)),
            "admin": make.user("Admin")}


def _apis(app):
    return [v for v in app.appbuilder.baseviews if isinstance(v, ScopedModelRestApi)]


def _too_far(rule):
    """A value just past the rule."""
    if rule.max_length is not None:
        return "长" * (rule.max_length + 1)
    if rule.minimum is not None:
        edge = rule.minimum
        return float(edge - 1 if rule.minimum_inclusive else edge)
    return float(rule.maximum + 1)


def test_every_api_refuses_a_value_past_a_columns_rule_and_stores_nothing(app, client, rows):
    headers = api_headers(client, rows["admin"].username)
    tried, failures = 0, []
    for api in _apis(app):
        model = api.datamodel.obj
        row = next((r for r in rows.values() if isinstance(r, model)), None)
        assert row is not None, f"make a row of {model.__name__} in the fixture"
        rules = field_rules.rules_of(model)
        for column in sorted(set(api.edit_columns or ()) & set(rules)):
            before = getattr(db.session.get(model, row.id), column)
            response = client.put(f"/api/v1/{api.resource_name}/{row.id}", headers=headers,
                                  json={column: _too_far(rules[column])})
            if response.status_code == 405:  # a read-only API
                break
            db.session.expire_all()
            after = getattr(db.session.get(model, row.id), column)
            tried += 1
            if response.status_code not in (400, 422) or column not in response.get_data(
                    as_text=True) or after != before:
                failures.append((api.resource_name, column, response.status_code))
    assert tried >= 10 and failures == []


def test_the_rule_is_the_same_in_the_form_and_the_api(app, rows):
    """Every back-office form field of a ruled column checks the very number the API does."""
    checked, differ = 0, []
    with app.test_request_context():
        login_as = rows["admin"]
        for view in app.appbuilder.baseviews:
            if not isinstance(view, ScopedModelView):
                continue
            rules = field_rules.rules_of(view.datamodel.obj)
            for form_class in {view.add_form, view.edit_form} - {None}:
                for field in form_class():
                    rule = rules.get(field.name)
                    if rule is None:
                        continue
                    lengths = {v.max for v in field.validators if isinstance(v, Length)}
                    ranges = [v.rule for v in field.validators
                              if isinstance(v, field_rules._Range)]
                    checked += 1
                    if rule.max_length is not None and lengths != {rule.max_length}:
                        differ.append((type(view).__name__, field.name, lengths, rule))
                    if rule.max_length is None and ranges != [rule]:
                        differ.append((type(view).__name__, field.name, ranges, rule))
    assert login_as and checked >= 10 and differ == []


def test_the_need_form_and_api_refuse_a_section_of_200000_characters(client, make, db_session):
    enterprise = make.enterprise("420100")
    make.user("Enterprise", "ent_rules", enterprise_id=enterprise.id)
    need = make.need(enterprise, NeedState.draft, background="原背景")
    headers = api_headers(client, "ent_rules")
    response = client.put(f"/api/v1/need/{need.id}", headers=headers,
                          json={"background": "x" * 200_000})
    assert response.status_code == 422 and "background" in response.json["message"]
    response = client.put(f"/api/v1/need/{need.id}", headers=headers, json={"amount": -1})
    assert response.status_code == 422 and "amount" in response.json["message"]
    login(client, "ent_rules")
    page = client.post(f"/needmodelview/edit/{need.id}", data={
        "title": need.title, "category": need.category_id, "field": need.field_id,
        "amount": "150000", "background": "x" * 200_000}).get_data(as_text=True)
    assert "5000" in page  # the error beside the field names the limit
    db_session.expire_all()
    assert db_session.get(Need, need.id).background == "原背景"


def test_a_number_given_to_a_text_filter_is_a_400(client, make):
    make.user("Platform", "platform_rules")
    headers = api_headers(client, "platform_rules")
    response = client.get("/api/v1/need/?q=(filters:!((col:title,opr:sw,value:1)))",
                          headers=headers)
    assert response.status_code == 400 and "title" in response.json["message"]


INVISIBLE = "\r\n\u202e\u200b\u0007"


def test_invisible_characters_are_stripped_from_every_way_in(client, make, db_session):
    enterprise = make.enterprise("420100")
    make.user("Enterprise", "ent_chars", enterprise_id=enterprise.id)
    need = make.need(enterprise, NeedState.draft)
    headers = api_headers(client, "ent_chars")
    response = client.put(f"/api/v1/need/{need.id}", headers=headers, json={
        "title": f"储能{INVISIBLE}预警", "background": f"第一行\r\n第二行\u202e{INVISIBLE}"})
    assert response.status_code == 200
    db_session.expire_all()
    stored = db_session.get(Need, need.id)
    assert stored.title == "储能预警"  # a single line: no break, no override, no zero width
    assert stored.background == "第一行\n第二行\n"  # a text keeps its line breaks
    # Anything written through the ORM, an import or a job alike:
    stored.contact_name = "王\u202e经理"
    db_session.commit()
    assert db_session.get(Need, need.id).contact_name == "王经理"


def test_a_long_or_disguised_file_name_is_stored_safely(app, client, make, db_session):
    enterprise = make.enterprise("420100")
    make.user("Enterprise", "ent_files", enterprise_id=enterprise.id)
    need = make.need(enterprise, NeedState.draft)
    login(client, "ent_files")
    for name in ("需" * 300 + ".pdf", "合同\u202efdp.exe"):
        response = client.post(f"/needmodelview/edit/{need.id}", data={
            "title": need.title, "category": need.category_id, "field": need.field_id,
            "amount": "150000", "attachment": (io.BytesIO(PDF), name)},
            content_type="multipart/form-data")
        assert response.status_code == 302, name
        db_session.expire_all()
        stored = db_session.scalar(select(Need.attachment).where(Need.id == need.id))
        assert len(stored.encode("utf-8")) <= STORED_NAME_MAX_BYTES and stored.endswith(".pdf")
        assert "\u202e" not in stored
        assert os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], stored))


def test_the_range_rule_reads_the_check_constraints():
    rules = field_rules.rules_of(Need)
    assert rules["amount"].minimum == Decimal(0) and not rules["amount"].minimum_inclusive
    assert rules["title"].max_length == 200 and rules["background"].max_length == 5000
