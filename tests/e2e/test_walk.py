"""After the journey (test_journey.py, which leaves a record of every kind behind): every page of
every role, at a desktop's and a phone's size, in Chinese and the main ones in English, fails on
what should never reach a person: machinery (a Python repr, a bare None/True/False, a timestamp
with fractions of a second, an enum's code instead of its title, FAB's English strings in the
Chinese interface), a server error, a public page that scrolls sideways on a phone, and
axe-core's serious or critical WCAG 2.1 AA violations on the public pages, the forms and the desk.

The pages are not listed here: they are what the app offers each role, read from its own
navigation (the menu FAB renders for the role, the desk's links, the account menu) and, for each
list page, its first record's show and edit pages and its add page; the public pages are those
the public site links to. A new page is walked without anyone remembering to add it.

All findings are collected first, then one assertion lists them (also written to
e2e-screenshots/walk/findings.txt). Screenshots: e2e-screenshots/walk/<role>/<width>/<page>.png.
"""
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from app.models import enums
from e2e.people import PASSWORD
from e2e.test_journey import ENTERPRISE_PHONE, RESEARCHERS

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SIZES = ((1366, 900), (390, 844))
# Every role of the journey, signed in as the account the journey made or used for it.
ROLES = {
    "admin": "admin", "platform": "platform", "bureau": "bureau_wh", "province": "province",
    "enterprise": ENTERPRISE_PHONE, "researcher": RESEARCHERS[0][1],
}
MAX_PAGES = 80  # per role: a floor against a link loop, far above what a role has
# Links that change something, leave the site or download a file: never followed.
SKIP = re.compile(r"delete|/action|logout|/lang/|/language/|export|download|\.xlsx|\.pdf|"
                  r"\.csv|/static/|/api/|/n/|rematch|swagger|openapi|/healthz|/uploads?/|"
                  r"mailto:|tel:|javascript:", re.I)

# FAB's own interface strings that the Chinese interface must show translated.
FAB_ENGLISH = [
    "Add", "Edit", "Delete", "Show", "Search", "List", "Actions", "Created At", "Updated At",
    "Changed On", "Created On", "Changed By", "Created By", "Record Count", "Previous", "Next",
    "Back", "Save", "Forbidden", "Not Found", "Refresh", "User Info", "Reset Password",
    "Reset my password", "List Users", "List Groups", "List Roles", "Name Pinyin",
    "Name Initials", "Security", "Login", "Logout", "First Name", "Last Name", "User Name",
    "Is Active", "Login count", "Failed login count", "Last login", "No records found",
    "Select All", "Add Filter", "Filter", "Permissions", "Statistics", "Statistics Users",
    "Confirm", "Cancel", "Submit", "Sign In", "Sign in", "Page not found", "Internal Error",
]


def _enum_codes():
    """Each LabelledEnum's codes: ``(all, with an underscore)``. In the Chinese interface no
    lowercase English word should appear at all; in the English one a code like
    ``start_docking`` is shown instead of its title when one contains an underscore."""
    codes = set()
    for klass in vars(enums).values():
        if isinstance(klass, type) and issubclass(klass, enums.LabelledEnum) \
                and klass is not enums.LabelledEnum:
            codes |= {member.value for member in klass}
    return codes, {code for code in codes if "_" in code}


ALL_CODES, UNDERSCORE_CODES = _enum_codes()


def _words(words, flags=0):
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?<![\w@./-])({alternatives})(?![\w@/-])", flags)


COMMON = [
    ("Python repr", re.compile(r"object at 0x[0-9a-fA-F]+")),
    ("bare None/True/False (also __None)",
     re.compile(r"(?<![A-Za-z0-9-])(None|True|False)(?![A-Za-z0-9-])")),
    ("timestamp with fractions of a second", re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")),
    ("Python list", re.compile(r"(?:^|\t)\[[^\]\n]*, [^\]\n]*\](?:$|\t)|\[<|\['", re.M)),
    ("UTC label", re.compile(r"世界协调时|(?<![A-Za-z])UTC(?![A-Za-z])")),
]
CHECKS = {
    "zh": COMMON + [("enum code", _words(ALL_CODES)),
                    ("English FAB string", _words(FAB_ENGLISH)),
                    # Any other untranslated sentence: four English words in a row.
                    ("English text", re.compile(r"(?<![\w@./-])[A-Za-z][a-z']*"
                                                r"(?:[ ,]+[A-Za-z][a-z']*){3,}"))],
    "en": COMMON + [("enum code", _words(UNDERSCORE_CODES))],
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Walk:
    def __init__(self, browser, stack):
        self.browser, self.base = browser, stack.base_url
        self.root = stack.shots / "walk"
        self.findings = []
        self.visited = 0

    def context(self):
        # bypass_csp: the site's CSP (rightly) refuses the injected axe-core script.
        context = self.browser.new_context(base_url=self.base, locale="zh-CN", bypass_csp=True,
                                           viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.errors = []
        page.on("response", lambda r: r.status >= 500 and page.errors.append(
            f"HTTP {r.status} {r.url}"))
        return page

    def sign_in(self, page, username):
        page.goto("/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"cannot sign in as {username}"

    def language(self, page, code):
        page.goto(f"/language/{code}")

    def links(self, page, selector):
        hrefs = page.eval_on_selector_all(selector, "as => as.map(a => a.getAttribute('href'))")
        found = []
        for href in hrefs:
            if not href or href.startswith("#"):
                continue
            url = urljoin(self.base + "/", href)
            if not url.startswith(self.base):
                continue
            path = url[len(self.base):].split("#")[0]
            if path and not SKIP.search(path) and path not in found:
                found.append(path)
        return found

    def visit(self, page, who, path, language="zh", sizes=SIZES, axe=False, public=False):
        """Open ``path`` at each size, screenshot it and check its visible text; the page is
        left open at the first size."""
        name = _name(path) + ("" if language == "zh" else "-en")
        page.errors.clear()
        for index, (width, height) in enumerate(sizes):
            page.set_viewport_size({"width": width, "height": height})
            if index == 0:
                response = page.goto(path)
                status = response.status if response else 0
                if status >= 500:
                    self.report(who, path, language, f"HTTP {status}")
            else:
                page.wait_for_timeout(50)
            folder = self.root / who / str(width)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            if index == 0 or public:
                self.check_text(page, who, path, language, width)
            if public and width <= 400:
                scroll = page.evaluate("[document.documentElement.scrollWidth, "
                                       "document.documentElement.clientWidth]")
                if scroll[0] > scroll[1]:
                    self.report(who, path, language,
                                f"scrolls sideways at {width}px ({scroll[0]} > {scroll[1]})")
        for error in dict.fromkeys(page.errors):
            self.report(who, path, language, error)
        self.visited += 1
        page.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})
        if axe:
            self.axe(page, who, path, language)

    def check_text(self, page, who, path, language, width):
        # Text marked English (a record's English name, lang="en") is meant to be English.
        text, options, english = page.evaluate(
            "[document.body.innerText, [...document.querySelectorAll('option')]"
            ".map(o => o.textContent.trim()), [...document.querySelectorAll("
            "'body [lang^=en]')].map(e => e.innerText.trim())]")
        if language == "zh":
            for part in english:
                text = text.replace(part, " ") if part else text
        if language == "en":  # an English choice may well be called "None" (no zone)
            choices = set(options)
            text = "\n".join(line for line in text.splitlines() if line.strip() not in choices)
        for what, pattern in CHECKS[language]:
            shown = sorted({m.group(0) for m in pattern.finditer(text)})
            if shown:
                self.report(who, path, language, f"{what}: " + ", ".join(
                    repr(s) for s in shown[:6]))

    def axe(self, page, who, path, language):
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => [v.id, v.impact, v.help,"
            " v.nodes.map(n => n.target.join(' '))]))", AXE_TAGS)
        for rule, impact, help_text, targets in result:
            if impact in ("serious", "critical"):
                more = f" (+{len(targets) - 3})" if len(targets) > 3 else ""
                self.report(who, path, language, f"axe {impact} {rule} ({help_text}): "
                            + "; ".join(targets[:3]) + more)

    def report(self, who, path, language, what):
        finding = f"{who} [{language}] {path}: {what}"
        if finding not in self.findings:
            self.findings.append(finding)


def _name(path):
    parts = urlsplit(path)
    name = re.sub(r"[^\w.-]+", "_", (parts.path + ("_" + parts.query if parts.query else "")))
    return name.strip("_")[:120] or "root"


def _is_form(path):
    return bool(re.search(r"/(add|edit)(/|$|\?)|/register", path))


def _office_pages(walk, page):
    """What the signed-in user is offered: the menu, the desk's and the account menu's links,
    the inbox and the profile; for each list page its first record's show and edit pages and
    its add page."""
    page.goto("/office/")
    menu = walk.links(page, ".navbar a[href]")
    desk = walk.links(page, "main a[href], .container a[href]")
    seeds = ["/office/", "/office/inbox/", "/users/userinfo/"] + menu + desk
    pages = []
    for path in seeds:
        if path not in pages and not path.startswith(("/needs", "/register", "/login")) \
                and path != "/":
            pages.append(path)
    return pages


def _record_pages(walk, page, list_path):
    """On a list page (open): its first record's show and edit pages and its add page."""
    view = urlsplit(list_path).path.split("/")[1]
    found = []
    for kind in ("show", "edit", "add"):
        for path in walk.links(page, f"a[href*='/{view}/{kind}']"):
            if urlsplit(path).path.startswith(f"/{view}/{kind}"):
                found.append(path)
                break
    return found


def _public_pages(walk, page):
    """The public site as a visitor finds it: the home page's and the navigation's links, one
    level further (a need's page, the two registration forms), and an unknown address."""
    pages, queue = [], ["/"]
    while queue and len(pages) < 30:
        path = queue.pop(0)
        if path in pages:
            continue
        pages.append(path)
        page.goto(path)
        for link in walk.links(page, "a[href]"):
            office = link.startswith("/office") or re.match(r"/\w+view/", link)
            if not office and link not in pages and link not in queue and pages.count(link) == 0 \
                    and len(pages) + len(queue) < 30 and "?" not in link:
                queue.append(link)
    return pages + ["/no-such-page"]


def test_10_every_page_of_every_role(browser, stack):
    assert AXE.exists(), f"{AXE} is missing: cd tests/e2e && npm ci"
    walk = Walk(browser, stack)

    visitor = walk.context()
    for language in ("zh", "en"):
        walk.language(visitor, language)
        for path in _public_pages(walk, visitor):
            walk.visit(visitor, "public", path, language, axe=language == "zh", public=True)
    walk.language(visitor, "zh")
    visitor.context.close()

    for who, username in ROLES.items():
        page = walk.context()
        walk.sign_in(page, username)
        walk.language(page, "zh")
        queue = _office_pages(walk, page)
        main = list(queue)  # the menu's, the desk's and the account's own pages
        done = []
        while queue and len(done) < MAX_PAGES:
            path = queue.pop(0)
            if path in done:
                continue
            done.append(path)
            walk.visit(page, who, path, axe=_is_form(path) or path == "/office/")
            if "/list/" in path:
                for record in _record_pages(walk, page, path):
                    if record not in done and record not in queue:
                        queue.append(record)
        walk.language(page, "en")
        for path in main:
            walk.visit(page, who, path, "en")
        walk.language(page, "zh")
        page.context.close()

    walk.root.mkdir(parents=True, exist_ok=True)
    (walk.root / "findings.txt").write_text("\n".join(walk.findings) + "\n", encoding="utf-8")
    print(f"walked {walk.visited} pages, {len(walk.findings)} findings")
    assert not walk.findings, f"{len(walk.findings)} findings on {walk.visited} pages:\n" + \
        "\n".join(walk.findings)
