"""The round dashboard over HTTP: exact funnel counts on a small world, a bureau's figures
limited to its region, participants refused, the workbook readable and neutralised, and the
page free of any CDN."""
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from helpers import login
from openpyxl import load_workbook

from app.extensions import db
from app.models import Match, NeedState, ProgramRound, ProjectState, ProposalState
from app.models.enums import EvaluationResult
from app.models.mixins import utcnow

A, B = "420100", "420500"  # 武汉, 宜昌
# The page's tables in the page's order, then the projects; the channel table is global only.
SHEETS = ["Funnel", "Funding against the quota", "After approval", "By region", "By need category",
          "By technical domain", "By technical field", "Response to the pushes",
          "Response by channel", "Projects"]


@pytest.fixture()
def world(make):
    """Round R: Wuhan has a draft, a submitted need, a published one with a proposal (and a
    draft proposal), a contract and an evaluated project, and a second enterprise's published
    need (other category) with a proposal and a contract; Yichang has a published need (other
    domain) with a proposal, a contract and a project of an enterprise named like a formula.
    A past round holds one more published need that must never count."""
    now = utcnow()
    ent_a, ent_a2 = make.enterprise(A), make.enterprise(A)
    ent_b = make.enterprise(B, name="=HYPERLINK(\"http://x\",\"宜昌公司\")")
    res_a, res_b = make.researcher(A), make.researcher(B)
    make.need(ent_a, NeedState.draft)
    make.need(ent_a, NeedState.submitted, submitted_at=now)
    need_a = make.need(ent_a, NeedState.docking, submitted_at=now)
    need_a2 = make.need(ent_a2, NeedState.docking, submitted_at=now,
                        category=make.category("common_technology"))
    need_b = make.need(ent_b, NeedState.docking, submitted_at=now, field=make.field("0401"))
    make.proposal(need_a, res_a)
    make.proposal(need_a, make.researcher(A), state=ProposalState.draft)
    make.proposal(need_a2, res_a)
    make.proposal(need_b, res_b)
    project_a = make.project(make.contract(need_a, res_a), number="HB-A-001")
    make.contract(need_a2, res_a)
    # Yichang's project is still in its 公示: approved, its funding not final.
    make.project(make.contract(need_b, res_b), number="HB-B-001", state=ProjectState.proposed)
    project_a.state, project_a.evaluation_score = ProjectState.evaluated, Decimal("88.5")
    project_a.evaluation_result, project_a.evaluated_at = EvaluationResult.excellent, now
    for need, researcher in ((need_a, res_a), (need_b, res_b)):
        db.session.add(Match(need=need, researcher=researcher, score=1.0, reasons={},
                             pushed_at=now))
    day = dt.date(2019, 3, 1)
    old = ProgramRound(code="T-OLD", name="往年批次", needs_filing_start=day, needs_filing_end=day,
                       matching_end=day, execution_end=day, evaluation_end=day)
    db.session.add(old)
    db.session.commit()
    make.need(ent_a, NeedState.published, round=old, submitted_at=now)
    wuhan = make.region(A)
    return {
        "round": make.open_round(), "old": old,
        "users": {role: make.user(role, f"dash_{role.lower()}", region_id=wuhan.id)
                  if role == "Bureau" else make.user(role, f"dash_{role.lower()}")
                  for role in ("Province", "Platform", "Bureau")},
        "enterprise": make.user("Enterprise", "dash_ent", enterprise_id=ent_a.id),
        "researcher": make.user("Researcher", "dash_res", researcher_id=res_a.id),
    }


def funnel_of(page):
    return {stage: int(n) for stage, n in re.findall(
        r'<tr data-stage="(\w+)"><th>[^<]*</th><td class="text-right">(\d+)</td>', page)}


PROVINCE = {"submitted": 4, "published": 3, "proposals": 3, "contracts": 3, "projects": 2,
            "final": 1, "evaluated": 1}
WUHAN = {"submitted": 3, "published": 2, "proposals": 2, "contracts": 2, "projects": 1,
         "final": 1, "evaluated": 1}


@pytest.mark.parametrize("role", ["Province", "Platform"])
def test_province_sees_the_whole_round(client, world, role):
    login(client, world["users"][role].username)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert funnel_of(page) == PROVINCE
    assert "宜昌" in page and "武汉" in page


def test_a_chosen_round_counts_only_its_needs(client, world):
    login(client, world["users"]["Province"].username)
    page = client.get(f"/dashboard/?round={world['old'].id}").get_data(as_text=True)
    assert funnel_of(page) == {**dict.fromkeys(PROVINCE, 0), "submitted": 1, "published": 1}
    assert client.get("/dashboard/?round=999999").status_code == 404
    assert client.get("/dashboard/?round=x").status_code == 404


def test_bureau_sees_only_its_region(client, world):
    login(client, world["users"]["Bureau"].username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert funnel_of(page) == WUHAN
    assert "宜昌" not in page
    # Yichang's push is not counted either; the platform-wide channel table is not shown.
    push = re.search(r'dashboard-push.*?</table>', page, re.S).group(0)
    assert re.findall(r'text-right">(\d+)<', push)[:3] == ["1", "1", "0"]
    assert "dashboard-channels" not in page


def test_push_response_matches_the_platform_figure_for_one_round(app, world):
    from app.domain.dashboard import figures as dashboard
    from app.domain.matching import store as recommendations

    with app.test_request_context():
        ours = dashboard.push_response(world["round"], world["users"]["Province"])
        assert ours == recommendations.response() == {
            "pushed": 2, "dismissed": 0, "proposals": 2, "rate": 1.0}


@pytest.mark.parametrize("who", ["enterprise", "researcher"])
def test_participants_are_refused(client, world, who):
    login(client, world[who].username)
    for url in ("/dashboard/", "/dashboard/export.xlsx"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/dashboard" not in response.headers["Location"]
    assert "/dashboard/" not in client.get("/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/dashboard/export.xlsx")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _workbook(client, username, round_id=None):
    login(client, username)
    client.get("/language/en")  # English sheet titles for the assertions
    url = "/dashboard/export.xlsx" + (f"?round={round_id}" if round_id else "")
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def _rows(sheet):
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_province_workbook_holds_every_table(client, world):
    book = _workbook(client, world["users"]["Province"].username)
    assert book.sheetnames == SHEETS
    assert [row[1] for row in _rows(book["Funnel"])] == list(PROVINCE.values())
    regions = {row[0]: row[1:9] for row in _rows(book["By region"])}
    assert regions == {"Wuhan": [3, 2, 2, 2, 1, 1, 1, 100000],
                       "Yichang": [1, 1, 1, 1, 1, 0, 0, 100000]}
    categories = [row[1] for row in _rows(book["By need category"])]
    assert sorted(categories) == [1, 3]
    assert sorted(row[1] for row in _rows(book["By technical domain"])) == [1, 3]
    projects = {row[0]: row for row in _rows(book["Projects"])}
    assert set(projects) == {"HB-A-001", "HB-B-001"}
    a = projects["HB-A-001"]
    assert a[2] == "Wuhan" and a[5] == 100000 and a[6] == "Evaluated" and a[7] == 88.5
    assert a[8] == "Excellent" and a[4].startswith("测试大学")
    # The enterprise named like a formula stays text.
    assert projects["HB-B-001"][1] == "'=HYPERLINK(\"http://x\",\"宜昌公司\")"


def test_bureau_workbook_holds_only_its_region(client, world):
    book = _workbook(client, world["users"]["Bureau"].username)
    assert book.sheetnames == [name for name in SHEETS if name != "Response by channel"]
    assert [row[1] for row in _rows(book["Funnel"])] == list(WUHAN.values())
    assert [row[0] for row in _rows(book["By region"])] == ["Wuhan"]
    assert [row[0] for row in _rows(book["Projects"])] == ["HB-A-001"]
    assert "宜昌" not in str([_rows(sheet) for sheet in book.worksheets])


def test_page_draws_svg_without_any_cdn(client, world):
    login(client, world["users"]["Province"].username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "<svg" in page and "</svg>" in page
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]*"', page)
    assert external == []
    # Names are escaped inside the SVG, never markup.
    assert "<title>Docking funnel</title>" in page or "<title>对接漏斗</title>" in page


def _table(page, css):
    """``{row label: [cells]}`` of the page's table with class ``css`` (header row left out)."""
    table = re.search(rf'class="[^"]*\b{css}\b.*?</table>', page, re.S).group(0)
    return {label: re.findall(r'<td class="text-right">([^<]*)</td>', cells)
            for label, cells in re.findall(r"<tr[^>]*><th>([^<]*)</th>(.*?)</tr>", table, re.S)
            if label}


SOFTWARE = ["3", "2", "2", "2", "1", "1", "1", "100,000.00"]  # field 0101, all Wuhan
METALS = ["1", "1", "1", "1", "1", "0", "0", "100,000.00"]  # field 0401, Yichang's need


def test_page_breaks_the_funnel_down_by_technical_field(client, world):
    login(client, world["users"]["Province"].username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert _table(page, "dashboard-field") == {"软件": SOFTWARE, "金属材料": METALS}
    # The bureau goes through the same jurisdiction rule: Yichang's field is not there.
    login(client, world["users"]["Bureau"].username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert _table(page, "dashboard-field") == {"软件": SOFTWARE}
    assert "金属材料" not in page


def test_workbook_breaks_down_by_technical_field(client, world):
    book = _workbook(client, world["users"]["Province"].username)
    sheet = book["By technical field"]
    assert sheet["A1"].value == "Technical field"
    assert {row[0]: row[1:9] for row in _rows(sheet)} == {
        "Software": [3, 2, 2, 2, 1, 1, 1, 100000],
        "Metallic materials": [1, 1, 1, 1, 1, 0, 0, 100000]}
    book = _workbook(client, world["users"]["Bureau"].username)
    assert {row[0]: row[1:9] for row in _rows(book["By technical field"])} == {
        "Software": [3, 2, 2, 2, 1, 1, 1, 100000]}


def test_workbook_holds_the_quota_push_and_channel_tables(app, client, world):
    from app.domain.dashboard import figures as dashboard

    book = _workbook(client, world["users"]["Province"].username)
    quota = world["round"].project_quota
    usage = dict(_rows(book["Funding against the quota"]))
    assert usage == {"Funded projects": 2, "Project quota of the round": quota,
                     "Places left": quota - 2, "Share of the quota used": pytest.approx(2 / quota),
                     "Funding granted (CNY)": 200000, "Cap per project (CNY)": 100000}
    assert book["Funding against the quota"]["B5"].number_format == "0.0%"
    assert dict(_rows(book["Response to the pushes"])) == {
        "Needs pushed to researchers": 2, "Answered with a proposal": 2, "Dismissed": 0,
        "Response rate": 1}
    with app.test_request_context():
        rates = dashboard.channel_rates(world["round"], world["users"]["Province"])
    channels = _rows(book["Response by channel"])
    assert [row[0] for row in channels] == ["In-site message", "E-mail", "SMS"]
    assert [row[1:] for row in channels] == [
        [n["created"], n["sent"], n["failed"], n["opened"]] for n in rates.values()]

    # A bureau: its own region's projects against the round's rules, its own pushes, no
    # province-wide places left, share or channels (as on its page).
    book = _workbook(client, world["users"]["Bureau"].username)
    assert dict(_rows(book["Funding against the quota"])) == {
        "Funded projects": 1, "Project quota of the round": quota,
        "Funding granted (CNY)": 100000, "Cap per project (CNY)": 100000}
    assert dict(_rows(book["Response to the pushes"])) == {
        "Needs pushed to researchers": 1, "Answered with a proposal": 1, "Dismissed": 0,
        "Response rate": 1}


def test_the_quota_and_push_tables_of_the_page_match_the_workbook(client, world):
    login(client, world["users"]["Province"].username)
    client.get("/language/en")
    page = client.get("/dashboard/").get_data(as_text=True)
    quota = world["round"].project_quota
    assert _table(page, "dashboard-usage") == {
        "Funded projects": ["2"], "Project quota of the round": [str(quota)],
        "Places left": [str(quota - 2)], "Share of the quota used": [f"{2 / quota:.1%}"],
        "Funding granted (CNY)": ["200,000.00"], "Cap per project (CNY)": ["100,000.00"]}
    assert _table(page, "dashboard-push") == {
        "Needs pushed to researchers": ["2"], "Answered with a proposal": ["2"],
        "Dismissed": ["0"], "Response rate": ["100.0%"]}


def _after(page):
    return dict(re.findall(r'<tr data-figure="(\w+)"><th>[^<]*</th><td class="text-right">'
                           r'([^<]*)</td>', page.split('dashboard-after', 1)[1].split("</table>")[0]))


def test_after_approval_the_stages_payments_and_violations_by_jurisdiction(
        client, world, make, db_session):
    from sqlalchemy import select

    from app.models import CaseState, PaymentState, Project

    project_a = db_session.scalars(select(Project).where(Project.number == "HB-A-001")).one()
    make.payment(project_a, PaymentState.paid, amount=Decimal(60000))
    make.payment(project_a, amount=Decimal(40000))  # planned: not paid yet
    make.case(project_a, CaseState.violation)
    login(client, world["users"]["Province"].username)
    after = _after(client.get("/dashboard/").get_data(as_text=True))
    assert (after["publicity"], after["completed"], after["executing"], after["violations"]) == (
        "1", "1", "0", "1")
    assert after["paid"].startswith("60,000")
    login(client, world["users"]["Bureau"].username)  # Wuhan: Yichang's project is not there
    after = _after(client.get("/dashboard/").get_data(as_text=True))
    assert (after["publicity"], after["completed"]) == ("0", "1")
