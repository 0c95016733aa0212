"""The whole journey of one need, from registration to evaluation, in headless Chromium against
the real app (gunicorn), the real worker, PostgreSQL, Redis and an SMTP inbox.

Each test is one step of the journey, run in order on the same site; a failed step skips the
rest. Everything goes through the pages a person uses; only the staff accounts come from the
command line (`flask fab create-user`), and the bureaus' regions are then set by the Admin in
the user form. Screenshots of the key pages land in e2e-screenshots/.
"""
import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from stdnum.cn import uscc

from app.utils import clock
from e2e.people import (
    PASSWORD,
    People,
    act,
    cell,
    choose,
    choose_many,
    id_in,
    money,
    no_error,
    row_link,
    save_form,
    type_date,
)

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed "
                             "(pip install -r requirements-dev.txt)").expect

pytestmark = pytest.mark.e2e

TITLE = "注塑件缺陷在线检测"  # initials zsjqxzxjc
ENTERPRISE = "武汉精塑智能科技有限公司"
ENTERPRISE_PHONE = "13900001111"
RESEARCHERS = [  # name, phone, institution, keywords
    ("李明", "13900002222", "华中科技大学", "机器视觉 缺陷检测 注塑 深度学习"),
    ("张华", "13900003333", "武汉理工大学", "在线检测 图像处理 注塑工艺 缺陷检测"),
]
FIELD = "先进制造工艺与装备"
# The seeded reference data's English names of the need's category, field and region.
CATEGORY_EN = "Product innovation and key technology breakthroughs"
FIELD_EN = "Advanced manufacturing processes and equipment"
REGION_EN = "Wuhan"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class State(dict):
    """What one step learns (ids read from the pages) and the next steps need."""


@pytest.fixture(scope="module")
def people(browser, stack):
    crowd = People(browser, stack.base_url, stack.shots)
    yield crowd
    for page in crowd.pages.values():
        page.context.close()


@pytest.fixture(scope="module")
def state():
    return State()


def pdf(stack, name):
    path = stack.files / name
    path.write_bytes(PDF)
    return str(path)


def test_0_staff_and_round(people, stack, state):
    """The Admin gives each bureau its region; the province opens this year's round."""
    admin = people.sign_in("admin", "admin", PASSWORD)
    for username, region in (("bureau_wh", "武汉"), ("bureau_yc", "宜昌")):
        admin.goto("/users/list/")
        admin.goto(row_link(admin, username, "/users/edit/"))
        choose(admin, "#region", region)
        save_form(admin)
    admin.goto("/users/list/")
    people.shot("admin", "admin-users")

    province = people.sign_in("province", "province", PASSWORD)
    province.goto("/programroundmodelview/add")
    today = clock.today()
    day = lambda days: (today + dt.timedelta(days=days)).isoformat()
    code = state["round_code"] = f"HB-{today.year}-E2E"
    for field, value in {
        "code": code, "name": f"{today.year}年科技人员服务企业专项行动",
        "name_en": f"{today.year} Researchers Serving Enterprises",
        "document_number": f"鄂科技通〔{today.year}〕1号", "province": "湖北省",
        "needs_filing_start": day(-10), "needs_filing_end": day(30), "matching_end": day(60),
        "execution_end": day(200), "evaluation_end": day(300), "min_need_amount": "100000",
        "funding_cap": "100000", "project_quota": "300", "projects_per_enterprise": "1",
    }.items():
        if "_start" in field or "_end" in field:
            type_date(province, f"#{field}", value)
        else:
            province.fill(f"#{field}", value)
    people.shot("province", "round-form")
    save_form(province)
    province.goto("/programroundmodelview/list/")
    expect(province.locator("table tr", has_text=code)).to_have_count(1)


def test_1_enterprise_registers_and_its_bureau_verifies(people, stack, state):
    visitor = people.page("enterprise")
    visitor.goto("/register")
    visitor.click("a[href$='/register/enterprise']")
    body = "91420100MA4K2E2E0"
    fields = {
        "name": ENTERPRISE, "credit_code": body + uscc.calc_check_digit(body),
        "sme_number": "202042010A0012345", "address": "武汉市东湖高新区光谷大道1号",
        "contact_name": "王经理", "phone": ENTERPRISE_PHONE, "email": "wang@jingsu-e2e.cn",
        "password": PASSWORD, "confirm": PASSWORD,
    }
    for name, value in fields.items():
        visitor.fill(f"#{name}", value)
    choose(visitor, "#region_id", "武汉")
    choose(visitor, "#zone_id", "东湖")
    choose(visitor, "#field_id", FIELD)
    visitor.set_input_files("#license_file", pdf(stack, "营业执照.pdf"))
    visitor.set_input_files("#sme_proof_file", pdf(stack, "科技型中小企业入库证明.pdf"))
    people.shot("enterprise", "enterprise-registration")
    visitor.click("form button[type=submit]")
    visitor.wait_for_load_state()
    no_error(visitor)
    assert "/login" in visitor.url

    enterprise = people.sign_in("enterprise", ENTERPRISE_PHONE, PASSWORD)
    enterprise.goto("/enterprisemodelview/list/")
    # A list row, not the body: the navbar shows the account's name, the enterprise's.
    expect(enterprise.locator("table tr", has_text=ENTERPRISE)).to_have_count(1)

    other = people.sign_in("bureau_yc", "bureau_yc", PASSWORD)
    other.goto("/enterprisemodelview/list/")
    expect(other.locator("body")).not_to_contain_text(ENTERPRISE)
    people.shot("bureau_yc", "yichang-bureau-does-not-see-it")
    people.desk("bureau_yc", "yichang-bureau", idle=["enterprises_to_verify"])

    bureau = people.sign_in("bureau_wh", "bureau_wh", PASSWORD)
    # The new registration is on the Wuhan bureau's desk and in its inbox.
    people.desk("bureau_wh", "wuhan-bureau-registration", waiting=["enterprises_to_verify"],
                inbox=ENTERPRISE)
    bureau.goto("/enterprisemodelview/list/")
    state["enterprise_id"] = id_in(row_link(bureau, ENTERPRISE, "/show/"))
    bureau.goto(f"/enterprisemodelview/decide/{state['enterprise_id']}")
    people.shot("bureau_wh", "wuhan-bureau-verifies")
    act(bureau, f"/enterprisemodelview/decide/{state['enterprise_id']}", "verify", "材料齐全，同意。")
    expect(cell(bureau, "状态")).to_have_text("已核验")


def test_2_researchers_register_and_the_platform_approves(people, stack, state):
    platform = people.sign_in("platform", "platform", PASSWORD)
    state["researcher_ids"] = []
    for seq, (name, phone, institution, keywords) in enumerate(RESEARCHERS, start=1):
        who = f"researcher{seq}"
        page = people.page(who)
        page.goto("/register/researcher")
        for field, value in {
            "name": name, "institution_name": institution, "title": "教授", "degree": "博士",
            "keywords": keywords, "phone": phone, "email": f"researcher{seq}@lab-e2e.edu.cn",
            "expertise": f"长期从事{keywords.replace(' ', '、')}研究，服务过多家注塑企业。",
            "achievements": "注塑件表面缺陷视觉检测系统，已在三条产线应用。",
            "password": PASSWORD, "confirm": PASSWORD,
        }.items():
            page.fill(f"#{field}", value)
        page.select_option("#institution_type", "university")
        page.select_option("#position", "staff_researcher")
        choose(page, "#region_id", "武汉")
        choose_many(page, "#field_ids", FIELD)
        page.check("#willing_to_serve")
        page.set_input_files("#proof_file", pdf(stack, f"工作证明{seq}.pdf"))
        if seq == 1:
            people.shot(who, "researcher-registration")
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        no_error(page)
        people.sign_in(who, phone, PASSWORD)

        if seq == 1:
            people.desk("platform", "platform-researcher-to-vet",
                        waiting=["researchers_to_vet"], inbox=name)
        platform.goto("/researchermodelview/list/")
        researcher_id = id_in(row_link(platform, name, "/show/"))
        state["researcher_ids"].append(researcher_id)
        act(platform, f"/researchermodelview/decide/{researcher_id}", "approve", "符合入库条件。")
        expect(cell(platform, "状态")).to_have_text("已通过")
    people.shot("platform", "researcher-approved")


def test_3_need_written_reviewed_published_and_found(people, stack, state):
    enterprise = people.page("enterprise")
    enterprise.goto("/needmodelview/add")
    for field, value in {
        "title": TITLE,
        "background": "公司为汽车内饰件供应注塑件，年产量约300万件，目前依靠人工目检，漏检和误判较多，"
                      "客户投诉集中在缩痕、飞边和黑点。",
        "problem": "需要在注塑机出件后十秒内完成表面缺陷的在线识别与分拣，缺陷尺寸小至0.2毫米，"
                   "现有工业相机方案在高反光表面误报率高。",
        "targets": "明显提高检测准确率，降低人工成本",  # no number: the check says so
        "basis": "已有两条自动化产线、机械手和历史缺陷图片约两万张。",
        "cooperation_mode": "委托开发，科技人员驻厂调试。",
        "timeline": "三个月完成样机，六个月产线验证。",
        "keywords": "机器视觉 缺陷检测 注塑",
        "amount": "200000", "contact_name": "王经理", "contact_phone": ENTERPRISE_PHONE,
    }.items():
        enterprise.fill(f"#{field}", value)
    choose(enterprise, "#category", "产品创新")
    choose(enterprise, "#field", FIELD)
    save_form(enterprise)
    enterprise.goto("/needmodelview/list/")
    need_id = state["need_id"] = id_in(row_link(enterprise, TITLE, "/show/"))

    enterprise.goto(f"/needmodelview/show/{need_id}")
    findings = enterprise.locator(".findings")
    expect(findings).to_be_visible()
    expect(findings).to_contain_text("90%")  # the advice's example of a measurable target
    people.shot("enterprise", "need-completeness-hints")
    enterprise.goto(f"/needmodelview/edit/{need_id}")
    enterprise.fill("#targets", "漏检率由5%降到0.5%以下，单件检测节拍不超过2秒。")
    save_form(enterprise)
    enterprise.goto(f"/needmodelview/show/{need_id}")
    expect(enterprise.locator(".findings")).to_have_count(0)
    act(enterprise, f"/needmodelview/decide/{need_id}", "submit")

    people.desk("bureau_wh", "wuhan-bureau-need", waiting=["needs_to_recommend"], inbox=TITLE)
    bureau = people.page("bureau_wh")
    act(bureau, f"/needmodelview/decide/{need_id}", "recommend",
        "企业需求明确，具备合作基础，推荐发布。")
    people.desk("platform", "platform-need-to-publish", waiting=["needs_to_publish"],
                inbox=TITLE)
    platform = people.page("platform")
    platform.goto(f"/needmodelview/decide/{need_id}")
    people.shot("platform", "platform-publishes-need")
    act(platform, f"/needmodelview/decide/{need_id}", "publish")
    expect(cell(platform, "状态")).to_have_text("已发布")

    visitor = people.page("visitor")
    visitor.goto("/needs")
    expect(visitor.locator("body")).to_contain_text(TITLE)
    for query in ("zsjqxzxjc", "zsj"):
        visitor.fill("input[name=q]", query)
        visitor.press("input[name=q]", "Enter")
        # The list before the search shows the need too: make sure this is the search's page.
        expect(visitor).to_have_url(re.compile(rf"[?&]q={query}(&|$)"))
        expect(visitor.locator("table.need-table tr", has_text=TITLE)).to_have_count(1)
    people.shot("visitor", "public-need-list-initials-search")

    # The need's public page, in English by the navigation's link and back: only while the
    # need is public (published, docking); by step 8 it is contracted and off the site.
    visitor.locator("table.need-table").get_by_role("link", name=TITLE).click()
    expect(visitor).to_have_url(re.compile(rf"/needs/{need_id}$"))
    page_text = visitor.locator("main")
    expect(page_text.locator("h4").first).to_have_text("需求背景")
    _site_language(visitor, "English")
    expect(visitor).to_have_url(re.compile(rf"/needs/{need_id}$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(page_text.locator("h2")).to_have_text(TITLE)
    expect(page_text.locator("h4").first).to_have_text("Background")
    expect(page_text.locator(".label")).to_have_text([CATEGORY_EN, re.compile(FIELD_EN),
                                                      REGION_EN])
    expect(page_text.locator("dl dt").first).to_have_text("Enterprise")
    _site_language(visitor, "简体中文")
    expect(visitor).to_have_url(re.compile(rf"/needs/{need_id}$"))
    expect(page_text.locator("h4").first).to_have_text("需求背景")
    expect(page_text.locator(".label").first).to_have_text("产品创新与技术攻关")


def _site_language(page, name):
    """Click a language in the public site's navigation bar."""
    page.locator("nav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()


def _office_language(page, name):
    """Pick a language in the back office's navigation bar: its flag opens the list."""
    page.locator(".navbar-right a.dropdown-toggle:has(i.flag)").click()
    page.locator(".navbar-right .dropdown-menu a", has_text=name).click()
    page.wait_for_load_state()


def _eventually(check, what, timeout=90):
    """The worker's jobs finish in their own time: look again until ``check`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"not seen within {timeout}s: {what}")


def test_4_worker_matches_and_pushes(people, stack, state):
    researcher = people.page("researcher1")

    def recommended():
        researcher.goto("/recommended/")
        return TITLE in researcher.locator("table.recommendations").inner_text()

    _eventually(recommended, "the need among researcher 1's recommendations")
    reasons = researcher.locator("table.recommendations tr", has_text=TITLE).locator(".reasons")
    expect(reasons).to_contain_text(FIELD)
    people.shot("researcher1", "researcher-recommendations")

    mails = _eventually(lambda: stack.inbox.to("researcher1@lab-e2e.edu.cn"),
                        "an e-mail to researcher 1 at the SMTP server")
    assert b"/n/" in mails[0].content  # the tracked link to the recommendations
    phone = RESEARCHERS[0][1]
    _eventually(lambda: f"SMS to {phone}" in stack.worker_output(),
                f"an SMS to {phone} in the worker's log (SMS_BACKEND=log)")


def test_5_proposals_compared_shortlisted_discussed_selected(people, stack, state):
    need_id = state["need_id"]
    state["proposal_ids"] = []
    for seq, (name, _phone, institution, _kw) in enumerate(RESEARCHERS, start=1):
        who = f"researcher{seq}"
        page = people.page(who)
        page.goto(f"/needs/{need_id}")
        page.click("a.propose")
        page.wait_for_load_state()
        assert f"need={need_id}" in page.url
        for field, value in {
            "approach": f"{name}团队：多角度结构光成像加深度学习分割，针对高反光表面做偏振滤波。",
            "expected_results": "漏检率低于0.5%，误报率低于2%，节拍1.5秒。",
            "timeline": "第1-3月样机；第4-6月产线验证。",
            "budget": str(180000 + seq * 10000),
            "team": f"{name}（教授）及两名博士研究生，每周驻厂两天。",
        }.items():
            page.fill(f"#{field}", value)
        if seq == 1:
            people.shot(who, "proposal-form")
        save_form(page)
        proposal_id = id_in(page.url)
        state["proposal_ids"].append(proposal_id)
        act(page, f"/proposalmodelview/decide/{proposal_id}", "submit")

    first, second = state["proposal_ids"]
    people.desk("enterprise", "enterprise-proposals", waiting=["proposals_new"])
    enterprise = people.page("enterprise")
    enterprise.goto(f"/docking/need/{need_id}")
    for proposal_id in (first, second):
        enterprise.check(f"input[name=p][value='{proposal_id}']")
    enterprise.click("button[form=compare-form]")
    enterprise.wait_for_load_state()
    expect(enterprise.locator("table.comparison")).to_contain_text(RESEARCHERS[1][0])
    people.shot("enterprise", "compare-side-by-side")
    # A score typed and then 入围 pressed: the score is saved with the decision, not lost.
    enterprise.fill(f"input[name='c0-s{first}']", "8")
    enterprise.click(f"button[name=decide][value='{first}:shortlist']")
    enterprise.wait_for_load_state()
    no_error(enterprise)
    expect(enterprise.locator(f"input[name='c0-s{first}']")).to_have_value("8.0")

    enterprise.goto(f"/docking/thread/{first}")
    enterprise.fill("#body", "您好，能否先到现场看一下产线？")
    enterprise.click("form button[type=submit]")
    enterprise.wait_for_load_state()
    no_error(enterprise)
    researcher = people.page("researcher1")
    researcher.goto(f"/docking/thread/{first}")
    expect(researcher.locator(".thread")).to_contain_text("现场看一下产线")
    researcher.fill("#body", "可以，下周二上午到厂。")
    researcher.click("form button[type=submit]")
    researcher.wait_for_load_state()
    no_error(researcher)
    enterprise.goto(f"/docking/thread/{first}")
    expect(enterprise.locator(".thread")).to_contain_text("下周二上午到厂")
    people.shot("enterprise", "message-thread")

    enterprise.goto(f"/docking/need/{need_id}/compare?p={first}&p={second}")
    enterprise.click(f"button[name=decide][value='{first}:select']")
    enterprise.wait_for_load_state()
    no_error(enterprise)
    enterprise.goto(f"/docking/need/{need_id}")
    expect(enterprise.locator("tr", has_text=RESEARCHERS[0][0])).to_contain_text("已选定")


def test_6_contract_approved_and_on_the_dashboard(people, stack, state):
    need_id, first = state["need_id"], state["proposal_ids"][0]
    institution = RESEARCHERS[0][2]
    today = clock.today().isoformat()
    enterprise = people.page("enterprise")
    enterprise.goto(f"/docking/need/{need_id}")
    enterprise.click(f"a[href*='/contractmodelview/add?proposal={first}']")
    enterprise.wait_for_load_state()
    for field, value in {
        "amount": "190000", "signed_on": today, "registration_number": "42010120260001",
        "invoice_amount": "190000", "invoice_date": today, "invoice_issuer": institution,
        "transfer_amount": "190000", "transfer_date": today, "transfer_payee": institution,
    }.items():
        enterprise.fill(f"#{field}", value)
    for field, name in (("contract_file", "技术开发合同.pdf"), ("invoice_file", "发票.pdf"),
                        ("transfer_file", "转账凭证.pdf")):
        enterprise.set_input_files(f"#{field}", pdf(stack, name))
    people.shot("enterprise", "contract-form")
    save_form(enterprise)
    contract_id = state["contract_id"] = id_in(enterprise.url)
    # Saved as a draft: the cross-checks are read first, then the contract is submitted.
    expect(enterprise.locator(".findings")).to_contain_text("✓")
    people.shot("enterprise", "contract-draft-checks")
    act(enterprise, f"/contractmodelview/decide/{contract_id}", "submit")

    people.desk("province", "province-contract", waiting=["contracts_to_approve"],
                inbox=TITLE)
    province = people.page("province")
    province.goto(f"/contractmodelview/decide/{contract_id}")
    people.shot("province", "contract-cross-checks")
    act(province, f"/contractmodelview/decide/{contract_id}", "approve", "材料齐全，同意立项。")
    number = state["project_number"] = f"{state['round_code']}-001"  # the round's first
    province.goto("/projectmodelview/list/")
    row = province.locator("table tr", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ENTERPRISE)
    expect(row).to_contain_text(RESEARCHERS[0][0])
    state["project_id"] = id_in(row.locator("a[href*='/show/']").first.get_attribute("href"))
    province.goto(f"/projectmodelview/show/{state['project_id']}")
    expect(cell(province, "项目编号")).to_have_text(number)
    expect(cell(province, "状态")).to_have_text("拟立项（公示中）")
    funding = money(cell(province, "资助金额（元）").inner_text())
    assert funding == Decimal(100_000), funding  # min(190,000, the round's cap)

    # The cap (100,000.00) is on the dashboard with or without projects: read the figures.
    province.goto("/dashboard/")
    usage = province.locator("table.dashboard-usage")
    expect(cell(usage, "资助项目")).to_have_text("1")
    expect(cell(usage, "剩余名额")).to_have_text("299")
    assert money(cell(usage, "已资助金额（元）").inner_text()) == funding
    expect(province.locator(".dashboard-funnel tr[data-stage=projects] td")).to_have_text("1")
    expect(province.locator(".dashboard-funnel tr[data-stage=contracts] td")).to_have_text("1")
    people.shot("province", "province-dashboard")


def test_6b_publicity_an_objection_dismissed_and_the_funding_final(people, stack, state):
    """公示: the province publishes the proposed list, a visitor objects on the public site, the
    province dismisses the objection with reasons, and after the window the project is funded."""
    province, number = people.page("province"), state["project_number"]
    province.goto("/publicitymodelview/publish")
    people.shot("province", "publicity-publish")
    province.click("form[method=post] button[type=submit]")
    province.wait_for_load_state()
    no_error(province)
    expect(province.locator("body")).to_contain_text("已发布：1 个项目公示至")

    visitor = people.page("visitor")
    visitor.goto("/")
    visitor.click("nav a[href$='/publicity']")
    visitor.wait_for_load_state()
    visitor.click("table a[href*='/publicity/']")
    visitor.wait_for_load_state()
    expect(visitor.locator("table tr", has_text=number)).to_contain_text(ENTERPRISE)
    expect(visitor.locator("table tr", has_text=number)).to_contain_text(RESEARCHERS[0][2])
    expect(visitor.locator("table")).not_to_contain_text(RESEARCHERS[0][0])  # no person
    choose(visitor, "#project", number)
    visitor.fill("#name", "赵六")
    visitor.fill("#phone", "139-0000-5555")
    visitor.fill("#content", "该企业与科技人员所在单位存在股权关系，请核查。")
    people.shot_both_sizes("visitor", "publicity-objection")
    visitor.click("form button[type=submit]")
    visitor.wait_for_load_state()
    no_error(visitor)
    expect(visitor.locator(".alert").first).to_contain_text("您的异议已收到")

    people.desk("province", "province-objection", inbox=number)
    province.goto("/objectionmodelview/list/")
    objection_id = id_in(row_link(province, number, "/show/"))
    province.goto(f"/objectionmodelview/show/{objection_id}")
    expect(province.locator("body")).to_contain_text("股权关系")
    act(province, f"/objectionmodelview/decide/{objection_id}", "dismiss",
        "经核查，双方无股权关系，异议不成立。")
    expect(cell(province, "状态")).to_have_text("异议不成立")

    stack.publicity_days_pass()
    province.goto(f"/projectmodelview/show/{state['project_id']}")
    expect(cell(province, "状态")).to_have_text("已立项")
    visitor.goto("/publicity")
    visitor.click("table a[href*='/publicity/']")
    visitor.wait_for_load_state()
    expect(visitor.locator("h2")).to_contain_text("立项公告")
    expect(visitor.locator("table").first).to_contain_text(number)
    people.shot_both_sizes("visitor", "publicity-final")


def test_6c_milestones_a_confirmed_service_log_the_mid_term_check_and_the_payment(
        people, stack, state):
    """Execution (notice §四(三)): a milestone set by each party and recorded reached, the
    researcher's service log confirmed by the enterprise, the Wuhan bureau's mid-term check;
    then the province pays the subsidy with its voucher."""
    project_id, today = state["project_id"], clock.today()
    researcher, enterprise = people.page("researcher1"), people.page("enterprise")
    milestones = (("样机试制与现场调试", researcher, 20), ("产线部署与试运行", enterprise, 40))
    for title, page, days in milestones:
        page.goto(f"/projectmodelview/show/{project_id}")
        page.click(f"a[href*='/milestonemodelview/add?project={project_id}']")
        page.wait_for_load_state()
        page.fill("#title", title)
        page.fill("#due_on", (today + dt.timedelta(days=days)).isoformat())
        save_form(page)
        expect(cell(page, "状态")).to_have_text("未达成")

    researcher.goto(f"/projectmodelview/show/{project_id}")
    researcher.click(f"a[href*='/servicelogmodelview/add?project={project_id}']")
    researcher.wait_for_load_state()
    researcher.fill("#starts_on", (today - dt.timedelta(days=1)).isoformat())
    researcher.fill("#ends_on", today.isoformat())
    researcher.fill("#hours", "14")
    researcher.fill("#work_done", "在企业产线现场部署视觉检测样机，调试光源与算法参数，培训两名操作员。")
    people.shot_both_sizes("researcher1", "service-log-form")
    save_form(researcher)
    log_id = id_in(researcher.url)
    people.desk("enterprise", "enterprise-service-log", waiting=["service_logs_to_confirm"])
    act(enterprise, f"/servicelogmodelview/decide/{log_id}", "confirm_service")
    expect(cell(enterprise, "状态")).to_have_text("企业已确认")
    for title, _page, _days in milestones:
        enterprise.goto("/milestonemodelview/list/")
        milestone_id = id_in(row_link(enterprise, title, "/show/"))
        act(enterprise, f"/milestonemodelview/decide/{milestone_id}", "reach")
        expect(cell(enterprise, "状态")).to_have_text("已达成")

    bureau = people.page("bureau_wh")
    bureau.goto(f"/projectmodelview/show/{project_id}")
    bureau.click(f"a[href*='/midtermcheckmodelview/add?project={project_id}']")
    bureau.wait_for_load_state()
    bureau.fill("#checked_on", today.isoformat())
    choose(bureau, "#result", "按计划推进")
    bureau.fill("#opinion", "样机已在产线运行，进度符合合同约定。")
    save_form(bureau)
    expect(cell(bureau, "检查结果")).to_have_text("按计划推进")

    province = people.page("province")
    province.goto(f"/projectmodelview/show/{project_id}")
    province.click(f"a[href*='/paymentmodelview/add?project={project_id}']")
    province.wait_for_load_state()
    province.fill("#batch", f"{today.year}年第一批")
    province.fill("#amount", "100000")
    province.fill("#planned_on", today.isoformat())
    save_form(province)
    payment_id = id_in(province.url)
    province.goto(f"/paymentmodelview/edit/{payment_id}")
    province.fill("#paid_on", today.isoformat())
    province.set_input_files("#voucher", pdf(stack, "拨付凭证.pdf"))
    save_form(province)
    act(province, f"/paymentmodelview/decide/{payment_id}", "pay")
    expect(cell(province, "状态")).to_have_text("已拨付")
    enterprise.goto("/paymentmodelview/list/")
    expect(enterprise.locator("table tr", has_text=f"{today.year}年第一批")).to_contain_text(
        "已拨付")
    people.shot("enterprise", "payments-seen-by-the-enterprise")


def test_7_report_cosigned_accepted_evaluated(people, stack, state):
    project_id = state["project_id"]
    enterprise = people.page("enterprise")
    enterprise.goto(f"/projectmodelview/show/{project_id}")
    enterprise.click(f"a[href*='/projectmodelview/edit/{project_id}']")
    enterprise.wait_for_load_state()
    enterprise.set_input_files("#summary_report", pdf(stack, "项目总结报告.pdf"))
    save_form(enterprise)
    act(enterprise, f"/projectmodelview/decide/{project_id}", "report")
    people.desk("researcher1", "researcher-cosign", waiting=["cosign_requested"])
    act(people.page("researcher1"), f"/projectmodelview/decide/{project_id}", "confirm",
        "情况属实。")
    act(enterprise, f"/projectmodelview/decide/{project_id}", "accept", "达到合同约定指标。")
    # Each side rates the other once the project is self-accepted.
    for who, score in (("enterprise", "4"), ("researcher1", "5")):
        page = people.page(who)
        page.goto(f"/projectmodelview/show/{project_id}")
        page.click(f"a[href*='/satisfactionratingmodelview/add?project={project_id}']")
        page.wait_for_load_state()
        page.select_option("#score", score)
        save_form(page)
    people.desk("province", "province-evaluation", waiting=["evaluations_to_record"],
                inbox=state["project_number"])
    people.desk("enterprise", "enterprise-after-acceptance", idle=["reports_due"])

    province = people.page("province")
    _round_into_evaluation(province, state["round_code"])
    province.goto(f"/projectmodelview/show/{project_id}")
    province.click(f"a[href*='/projectmodelview/evaluate/{project_id}']")
    province.wait_for_load_state()
    for code, points in (("goals", "36"), ("funds", "18"), ("satisfaction", "19"),
                         ("transfer", "15")):
        province.fill(f"#{code}", points)
    province.fill("#opinion", "目标基本达成，经费使用规范。")
    people.shot("province", "score-sheet")
    province.click("form button[type=submit]")
    province.wait_for_load_state()
    no_error(province)
    assert f"/projectmodelview/show/{project_id}" in province.url, province.url
    expect(cell(province, "状态")).to_have_text("已评价")
    assert money(cell(province, "评价得分").inner_text()) == 88  # 36 + 18 + 19 + 15
    expect(cell(province, "评价结果")).to_have_text("良好")  # 80 ≤ 88 < 90
    people.shot("province", "project-evaluated")


def _round_into_evaluation(province, code):
    """The performance evaluation takes place after the execution phase: the province moves
    the round's dates (in the back office, as a round's dates are moved) so that it is now."""
    today = clock.today()
    day = lambda days: (today + dt.timedelta(days=days)).isoformat()
    province.goto("/programroundmodelview/list/")
    province.goto(row_link(province, code, "/programroundmodelview/edit/"))
    for field, value in (("needs_filing_end", day(-4)), ("matching_end", day(-3)),
                         ("execution_end", day(-1)), ("evaluation_end", day(90))):
        type_date(province, f"#{field}", value)
    save_form(province)  # the evaluation below is refused outside the evaluation phase
    # The dates typed are the dates saved: the round's page, opened afresh, shows each.
    province.goto("/programroundmodelview/list/")
    province.goto(row_link(province, code, "/programroundmodelview/show/"))
    for field, value in (("needs_filing_end", day(-4)), ("matching_end", day(-3)),
                         ("execution_end", day(-1)), ("evaluation_end", day(90))):
        expect(province.locator("body")).to_contain_text(value)


def test_8_the_same_pages_in_english(people, stack, state):
    """The navigation's language links, clicked: the back office's (the enterprise's session,
    which the public site shares) and the public site's (a visitor); then back to Chinese."""
    need_id, project_id = state["need_id"], state["project_id"]
    enterprise = people.page("enterprise")
    enterprise.goto(f"/needmodelview/show/{need_id}")
    expect(cell(enterprise, "需求类别")).to_have_text("产品创新与技术攻关")
    _office_language(enterprise, "English")
    expect(enterprise).to_have_url(re.compile(rf"/needmodelview/show/{need_id}$"))
    expect(cell(enterprise, "Title")).to_have_text(TITLE)
    expect(cell(enterprise, "State")).to_have_text("Contracted")
    expect(cell(enterprise, "Category")).to_have_text(CATEGORY_EN)
    expect(cell(enterprise, "Technical field")).to_contain_text(FIELD_EN)
    people.shot("enterprise", "need-in-english")
    enterprise.goto(f"/projectmodelview/show/{project_id}")
    expect(cell(enterprise, "Project number")).to_have_text(state["project_number"])
    expect(cell(enterprise, "State")).to_have_text("Evaluated")
    expect(cell(enterprise, "Evaluation result")).to_have_text("Good")
    people.shot("enterprise", "project-in-english")
    enterprise.goto("/office/")  # the desk and the inbox, kept per language
    expect(enterprise.locator(".desk .panel-title").first).to_have_text("To do")
    people.shot_both_sizes("enterprise", "desk-in-english")
    enterprise.goto("/office/inbox/")
    expect(enterprise.locator("body")).not_to_contain_text("待办")
    people.shot_both_sizes("enterprise", "inbox-in-english")
    enterprise.goto("/needs")  # the public site follows the session's language
    expect(enterprise.locator("main h2")).to_have_text("Need list")

    visitor = people.page("visitor")
    visitor.goto("/needs")
    expect(visitor.locator("main h2")).to_have_text("需求清单")
    _site_language(visitor, "English")
    expect(visitor).to_have_url(re.compile(r"/needs$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator("main h2")).to_have_text("Need list")
    filters = visitor.locator("form.need-filters")
    expect(filters.locator("select[name=category] option", has_text=CATEGORY_EN)).to_have_count(1)
    expect(filters.locator("select[name=field] option", has_text=FIELD_EN)).to_have_count(1)
    expect(filters.locator("select[name=region] option", has_text=REGION_EN)).to_have_count(1)
    people.shot("visitor", "public-list-in-english")
    _site_language(visitor, "简体中文")
    expect(visitor.locator("main h2")).to_have_text("需求清单")

    enterprise.goto(f"/projectmodelview/show/{project_id}")
    _office_language(enterprise, "简体中文")
    expect(enterprise).to_have_url(re.compile(rf"/projectmodelview/show/{project_id}$"))
    expect(cell(enterprise, "状态")).to_have_text("已评价")
    assert not people.server_errors, people.server_errors


def test_9_public_pages_fit_a_phone(people, stack, state):
    """Every public page at 390×844, in both languages: no sideways scrolling; the need list
    reads as cards."""
    visitor = people.page("visitor")
    visitor.set_viewport_size({"width": 390, "height": 844})
    pages = ["/", "/needs", f"/needs/{state['need_id']}", "/register", "/register/enterprise",
             "/register/researcher", "/login/", "/reset-password", "/reset-password/code",
             "/no-such-page"]
    try:
        for language in ("简体中文", "English"):
            visitor.goto("/")
            _site_language(visitor, language)
            for path in pages:
                visitor.goto(path)
                width = visitor.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, (language, path, width)
        visitor.goto("/needs")
        rows = visitor.locator("table.need-table tr")
        if rows.count():  # the journey's need is contracted by now: the list may be empty
            assert rows.first.evaluate("row => getComputedStyle(row).display") == "block"
        people.shot("visitor", "public-list-phone")
        _site_language(visitor, "简体中文")
    finally:
        visitor.set_viewport_size({"width": 1280, "height": 900})
