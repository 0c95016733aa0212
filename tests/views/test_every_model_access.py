"""Every record with jurisdiction keys, through every view and API over it, for every role in two
regions: each user reaches exactly the rows the notice gives it (SPEC §2), by the rule itself,
on list, show, API get and list, and file download.

Generated from the registries: the models are those of FAB's metadata that declare
``jurisdiction_keys``, the views those the app registered over them. A new model with keys
fails ``test_every_keyed_model_has_rows_of_two_parties`` until ``ROWS`` makes rows of it, and
a new view over a keyed model is checked without anyone writing a test for it.

Who may see a row is written below from the specification, as an audience per row, not read
from the rule: ``bureau`` is the bureau of the row's region, ``enterprise`` and ``researcher``
the accounts of the row's own enterprise and researcher, ``every researcher`` any researcher
account. Admin, Platform and Province see every row.
"""
import datetime as dt
import os
import re
from decimal import Decimal

import pytest
from flask_appbuilder import Model
from helpers import REGION_A, REGION_B, api_headers, login
from sqlalchemy import func, select

from app.core.access import jurisdiction
from app.extensions import db
from app.models import (
    CaseState,
    ComparisonCriterion,
    Contract,
    CreditRecord,
    EnterpriseState,
    Match,
    MatchRun,
    Message,
    MidtermCheck,
    Need,
    NeedState,
    Notification,
    Proposal,
    ProposalScore,
    ProposalState,
    PushRound,
    SatisfactionRating,
)
from app.models.mixins import utcnow
from app.utils import clock
from app.views.base import file_columns

PARTIES = {"A": REGION_A, "B": REGION_B}
GLOBAL = ("Admin", "Platform", "Province")
EVERYONE_OF_A_PARTY = ("bureau", "enterprise", "researcher")


def _keyed_models():
    return sorted((mapper.class_ for mapper in Model.registry.mappers
                   if hasattr(mapper.class_, "jurisdiction_keys")), key=lambda m: m.__name__)


def _file(app, name):
    with open(os.path.join(app.config["UPLOAD_FOLDER"], name), "wb") as fh:
        fh.write(f"%PDF-1.4 {name}".encode())
    return name


def _party(app, make, side):
    """One party's records (region ``side``) and the accounts that own them, each row with its
    audience."""
    code = PARTIES[side]
    enterprise = make.enterprise(code, state=EnterpriseState.submitted)
    researcher = make.researcher(code)
    users = {
        "bureau": make.user("Bureau", f"bureau_{side}", region_id=make.region(code).id),
        "enterprise": make.user("Enterprise", f"ent_{side}", enterprise_id=enterprise.id),
        "researcher": make.user("Researcher", f"res_{side}", researcher_id=researcher.id),
    }
    submitted = make.need(enterprise, NeedState.submitted, title=f"{side}待审需求",
                          attachment=_file(app, f"{side}n_sep_需求说明书.pdf"))
    published = make.need(enterprise, NeedState.published, title=f"{side}已发布需求")
    other_published = make.need(enterprise, NeedState.published, title=f"{side}另一需求")
    proposal = make.proposal(published, researcher, state=ProposalState.shortlisted,
                             attachment=_file(app, f"{side}p_sep_技术方案.pdf"))
    draft = make.proposal(other_published, researcher, state=ProposalState.draft)
    message = Message(proposal_id=proposal.id, sender_id=users["enterprise"].id,
                      body=f"{side}的报价", attachment=_file(app, f"{side}m_sep_报价单.pdf"))
    criterion = ComparisonCriterion(need_id=published.id, code="fit", weight=40)
    # Publishing ranks the researchers at once (jobs run inline here): the pair may exist.
    match = db.session.scalars(select(Match).filter_by(
        need_id=published.id, researcher_id=researcher.id)).first() or Match(
        need_id=published.id, researcher_id=researcher.id, score=0.8)
    notification = Notification(user_id=users["enterprise"].id, template="needs.publish",
                                payload={}, idempotency_key=f"access-test:{side}")
    for row in (message, criterion, match, notification):
        make.save(row)
    score = make.save(ProposalScore(proposal_id=proposal.id, criterion_id=criterion.id,
                                    score=Decimal(8)))
    contract = make.contract(published, researcher, files=(
        _file(app, f"{side}c_sep_合同.pdf"), _file(app, f"{side}i_sep_发票.pdf"),
        _file(app, f"{side}t_sep_流水.pdf")))
    project = make.project(contract, number=f"HB-{side}-ACCESS")
    payment = make.payment(project, voucher=_file(app, f"{side}v_sep_拨付凭证.pdf"))
    # 公示: the objector's name and number are read by global staff only.
    objection = make.objection(project, attachment=_file(app, f"{side}o_sep_异议材料.pdf"))
    milestone = make.milestone(project)
    log = make.service_log(project, attachment=_file(app, f"{side}s_sep_现场照片.pdf"))
    check = make.save(MidtermCheck(project_id=project.id, enterprise_id=enterprise.id,
                                   researcher_id=researcher.id, checked_on=clock.today(),
                                   opinion=f"{side}进展正常"))
    rating = make.save(SatisfactionRating(project_id=project.id, enterprise_id=enterprise.id,
                                          researcher_id=researcher.id, by_side="enterprise",
                                          score=4))
    request = make.change_request(project)
    case = make.case(project, CaseState.violation)
    record = make.save(CreditRecord(enterprise_id=enterprise.id, researcher_id=researcher.id,
                                    case_id=case.id, reason=f"{side}虚开发票",
                                    starts_on=clock.today(),
                                    ends_on=clock.today() + dt.timedelta(days=365)))
    rows = [
        (enterprise, {"bureau", "enterprise"}),
        (researcher, {"bureau", "researcher"}),
        (researcher.institution, {"bureau"}),
        (submitted, {"bureau", "enterprise"}),
        (published, {"bureau", "enterprise", "every researcher"}),
        (proposal, {"bureau", "enterprise", "researcher"}),
        # A draft is the researcher's own until submitted.
        (draft, {"researcher"}),
        # The thread of a shortlisted proposal: its two parties; staff of the region may read.
        (message, {"bureau", "enterprise", "researcher"}),
        (criterion, {"bureau", "enterprise"}),
        (score, {"bureau", "enterprise"}),
        (match, {"bureau", "enterprise", "researcher"}),
        (contract, {"bureau", "enterprise", "researcher"}),
        (project, {"bureau", "enterprise", "researcher"}),
        # The subsidy is the enterprise's; its bureau follows it.
        (payment, {"bureau", "enterprise"}),
        (objection, set()),
        # Execution: both parties of the project, and the bureau of its region.
        (milestone, {"bureau", "enterprise", "researcher"}),
        (log, {"bureau", "enterprise", "researcher"}),
        (check, {"bureau", "enterprise", "researcher"}),
        (rating, {"bureau", "enterprise", "researcher"}),
        (request, {"bureau", "enterprise", "researcher"}),
        # Supervision: staff of the region follow a case; the parties never read it. A credit
        # record is shown to those it bars.
        (case, {"bureau"}),
        (record, {"bureau", "enterprise", "researcher"}),
        (objection.publicity, set()),
        # Addressed to the enterprise's account, and to no one else of its party.
        (notification, {"enterprise"}),
    ]
    return users, [(row, side, audience) for row, audience in rows]


@pytest.fixture()
def parties(app, make):
    users, rows = {}, []
    for side in PARTIES:
        party_users, party_rows = _party(app, make, side)
        users.update({(role, side): user for role, user in party_users.items()})
        rows += party_rows
    # Records of no party: a re-match run and a push round are the platform's.
    rows.append((make.save(MatchRun(started_at=utcnow(), total=0)), None, set()))
    rows.append((make.save(PushRound(period="access", day=utcnow().date(),
                                     started_at=utcnow(), digests=0)), None, set()))
    for role in GLOBAL:
        users[(role, None)] = make.user(role, f"{role.lower()}_access")
    return users, rows


def _sees(user_key, side, audience) -> bool:
    role, user_side = user_key
    if role in GLOBAL:
        return True
    name = role.lower()
    return (user_side == side and name in audience) or (
        name == "researcher" and "every researcher" in audience)


def _expected(model, users, rows):
    return {key: {row.id for row, side, audience in rows
                  if isinstance(row, model) and _sees(key, side, audience)} for key in users}


def _views_over(app, model):
    pages = [v for v in app.appbuilder.baseviews
             if getattr(getattr(v, "datamodel", None), "obj", None) is model
             and not hasattr(v, "resource_name") and v.route_base]
    apis = [v for v in app.appbuilder.baseviews
            if getattr(getattr(v, "datamodel", None), "obj", None) is model
            and hasattr(v, "resource_name") and v.resource_name]
    return pages, apis


def test_every_keyed_model_has_rows_of_two_parties(app, parties):
    _users, rows = parties
    covered = {type(row) for row, _side, _audience in rows}
    missing = [m.__name__ for m in _keyed_models() if m not in covered]
    assert missing == [], f"add rows of {missing} to _party (tests/views/{__name__}.py)"


@pytest.mark.parametrize("model", _keyed_models(), ids=lambda m: m.__name__)
def test_the_rule_gives_each_user_exactly_its_rows(db_session, parties, model):
    users, rows = parties
    ids = [row.id for row, _side, _audience in rows if isinstance(row, model)]
    for key, expected in _expected(model, users, rows).items():
        seen = jurisdiction.visible_ids(db_session, model, ids, users[key])
        assert seen == expected, (model.__name__, key)


LISTED = re.compile(r'/(?:show|edit)/(\d+)|name="rowid" value="(\d+)"')
NO_ACCESS = (302, 401, 403)  # not allowed the page at all (FAB sends a signed-in user away)


def _status(client, url, **kwargs) -> int:
    response = client.get(url, **kwargs)
    response.close()  # a download holds its file open until then
    return response.status_code


def _listed(page):
    return {int(a or b) for a, b in LISTED.findall(page)}


def _check_page_view(client, view, key, ids, files, want):
    """List, show and download of one view for the signed-in user ``key``."""
    base, name = view.route_base, view.__class__.__name__
    narrowed = len(view.base_filters) > 1  # a view of some rows only (failed deliveries)
    shows = {i: _status(client, f"{base}/show/{i}") for i in ids}
    assert set(shows.values()) <= {200, 404, *NO_ACCESS}, (name, key, shows)
    shown = {i for i, status in shows.items() if status == 200}
    listing = client.get(f"{base}/list/?psize_{name.lower()}=100")
    if listing.status_code in NO_ACCESS:
        assert shown == set(), (name, "show without the list", key)
    else:
        assert listing.status_code == 200, (name, key, listing.status_code)
        listed = _listed(listing.get_data(as_text=True)) & ids
        assert listed <= want, (name, "list", key)
        if shown or not narrowed and listed:  # the rows are marked on the list: all of them
            assert listed == (shown if narrowed else want), (name, "list", key)
    if not all(status in NO_ACCESS for status in shows.values()):
        assert shown <= want if narrowed else shown == want, (name, "show", key)
    for filename, row_id in files.items():
        status = _status(client, f"{base}/download/{filename}")
        if row_id in want and not narrowed and status not in NO_ACCESS:
            assert status == 200, (name, "download", key, filename)
        elif row_id not in want:
            assert status != 200, (name, "download", key, filename)


def _check_api(client, api, headers, key, ids, want):
    base, name = f"/api/v1/{api.resource_name}", api.__class__.__name__
    gets = {i: _status(client, f"{base}/{i}", headers=headers) for i in ids}
    assert set(gets.values()) <= {200, 404, 401, 403}, (name, key, gets)
    listing = client.get(f"{base}/?q=(page_size:100)", headers=headers)
    if listing.status_code in (401, 403):
        assert {i for i, s in gets.items() if s == 200} == set(), (name, key)
        return
    assert listing.status_code == 200, (name, key, listing.status_code)
    assert set(listing.json["ids"]) & ids == want, (name, "list", key)
    assert {i for i, s in gets.items() if s == 200} == want, (name, "get", key)


@pytest.mark.parametrize("model", _keyed_models(), ids=lambda m: m.__name__)
def test_every_view_and_api_gives_each_user_exactly_its_rows(app, client, parties, model):
    users, rows = parties
    pages, apis = _views_over(app, model)
    ours = [row for row, _side, _audience in rows if isinstance(row, model)]
    ids = {row.id for row in ours}
    files = {name: row.id for row in ours for column in file_columns(model)
             if (name := getattr(row, column))}
    expected = _expected(model, users, rows)
    for key, user in users.items():
        login(client, user.username)
        for view in pages:
            _check_page_view(client, view, key, ids, files, expected[key])
        if apis:
            headers = api_headers(client, user.username)
            for api in apis:
                _check_api(client, api, headers, key, ids, expected[key])


# -- every route that names a record --------------------------------------------------------

ID_PARAMETERS = {"need_id": Need, "proposal_id": Proposal, "match_id": Match}


def _routes_naming_a_record(app):
    """(rule, its id parameter, the model it names) for every URL rule of the app that takes a
    record's id: a view's own ``pk`` (its model), or a named id of the docking pages."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    for rule in app.url_map.iter_rules():
        view = views.get(rule.endpoint.split(".")[0])
        if "pk" in rule.arguments and getattr(view, "datamodel", None) is not None:
            yield rule, "pk", view.datamodel.obj
        for name, model in ID_PARAMETERS.items():
            if name in rule.arguments:
                yield rule, name, model


def _state_of_everything(db_session, rows):
    """What a request could have changed: each row's existence and state, and the number of
    rows of the records a request writes."""
    db_session.expire_all()
    seen = {}
    for row, _side, _audience in rows:
        current = db_session.get(type(row), row.id)
        seen[(type(row).__name__, row.id)] = (
            current is not None, getattr(current, "state", None), getattr(current, "version", None))
    for model in (Message, ProposalScore, ComparisonCriterion, Notification, Contract, Match):
        seen[model.__name__] = db_session.scalar(select(func.count(model.id)))
    return seen


def test_no_route_opens_or_changes_another_partys_record(app, client, db_session, parties):
    """Generated from the URL map: every route that names a record by its id (show, edit,
    delete, decide, evaluate, service record, the docking pages, threads, comparison, dismiss),
    called by the bureau, enterprise and researcher of region A with each record of region B
    they may not see, answers no page of it (GET) and changes nothing (POST)."""
    users, rows = parties
    routes = list(_routes_naming_a_record(app))
    assert len(routes) >= 40
    tried = 0
    for role in EVERYONE_OF_A_PARTY:
        key = (role, "A")
        login(client, users[key].username)
        token = api_headers(client, users[key].username)
        for rule, parameter, model in routes:
            headers = token if rule.rule.startswith("/api/") else {}
            # The public site shows a published need to anyone (its page, not its contact).
            public = rule.endpoint.startswith("public.")
            foreign = [row for row, side, audience in rows
                       if isinstance(row, model) and not _sees(key, side, audience)
                       and not (public and "every researcher" in audience)]
            for row in foreign:
                values = {name: "approve" if name == "name" else "x"
                          for name in rule.arguments if name != parameter}
                url = rule.build({**values, parameter: row.id}, append_unknown=False)[1]
                if "GET" in rule.methods:
                    status = _status(client, url, headers=headers)
                    assert status in (302, 403, 404, 405), (url, key, status)
                for method in {"POST", "PUT", "DELETE"} & rule.methods:
                    before = _state_of_everything(db_session, rows)
                    client.open(url, method=method, headers=headers,
                                data={"action": "approve", "body": "越权留言", "opinion": "越权",
                                      "reason": "越权"} if method == "POST" else None,
                                json={"title": "越权"} if method == "PUT" else None)
                    assert _state_of_everything(db_session, rows) == before, (url, method, key)
                tried += 1
    assert tried >= 100
