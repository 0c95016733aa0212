"""The people of the journey, each in a browser context of their own (own cookies), and the
few page gestures every step uses: sign in, pick an option, save a FAB form, act on a decide
page, take a screenshot. No step reaches into the database."""
import re
from decimal import Decimal
from pathlib import Path

# Every account of the journey has this password (staff from the CLI, the rest registered).
PASSWORD = "pw-E2e-Journey-2468"


class People:
    def __init__(self, browser, base_url: str, shots: Path):
        self.browser, self.base_url, self.shots = browser, base_url, shots
        self.pages = {}
        self.count = 0
        self.server_errors = []  # every 5xx any page received, with who and where

    def page(self, who):
        if who not in self.pages:
            context = self.browser.new_context(base_url=self.base_url, locale="zh-CN",
                                               viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            # The decide page asks "确认…？" before a decision: the journey's people say yes,
            # in the page itself. Answered from here, the dialog now and then was gone before
            # the answer came ("No dialog is showing"), and the decision was never sent.
            context.add_init_script("window.confirm = () => true;")
            page = context.new_page()
            page.on("response", lambda r, who=who: r.status >= 500 and self.server_errors.append(
                f"{who}: HTTP {r.status} {r.url}"))
            self.pages[who] = page
        return self.pages[who]

    def sign_in(self, who, username, password):
        page = self.page(who)
        page.goto("/logout/")
        page.goto("/login/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("input[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{who} could not sign in as {username}"
        return page

    def shot(self, who, name):
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.pages[who].screenshot(path=str(path), full_page=True)
        return path

    def shot_both_sizes(self, who, name):
        """The page on a desktop (1366x900) and a phone (390x844)."""
        page = self.pages[who]
        for width, height in ((1366, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            self.shot(who, f"{name}-{width}")
        page.set_viewport_size({"width": 1280, "height": 900})

    def desk(self, who, name, waiting=(), idle=(), inbox=None):
        """``who``'s desk: the to-do items ``waiting`` count work, those of ``idle`` none; the
        inbox shows the text ``inbox``. Both pages shot at both sizes."""
        page = self.pages[who]
        page.goto("/office/")
        for key in waiting:
            badge = page.locator(f"a[data-todo={key}] .badge")
            assert badge.count() == 1 and int(badge.inner_text()) >= 1, (who, key)
        for key in idle:
            assert page.locator(f"a[data-todo={key}] .badge").count() == 0, (who, key)
        self.shot_both_sizes(who, f"desk-{name}")
        if inbox is not None:
            page.goto("/office/inbox/")
            assert inbox in page.locator("body").inner_text(), (who, inbox)
            self.shot_both_sizes(who, f"inbox-{name}")


def choose(page, selector, contains):
    """Select the option of ``selector`` whose text contains ``contains`` (FAB's select2 keeps
    the real <select> in the page; the form posts its value)."""
    options = page.eval_on_selector_all(f"{selector} option",
                                        "os => os.map(o => [o.value, o.textContent])")
    values = [value for value, text in options if contains in text and value]
    assert values, f"no option with “{contains}” in {selector}: {[t for _v, t in options]}"
    page.select_option(selector, value=values[0], force=True)


def choose_many(page, selector, *contains):
    options = page.eval_on_selector_all(f"{selector} option",
                                        "os => os.map(o => [o.value, o.textContent])")
    values = [v for v, text in options if any(c in text for c in contains)]
    page.select_option(selector, value=values, force=True)


def type_date(page, selector, iso_date):
    """Type a date as a person does: FAB's datepicker reads keystrokes (a value set without
    them is wiped when the picker closes), then close the picker."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(iso_date)
    field.press("Escape")
    assert field.input_value() == iso_date, f"{selector}: {field.input_value()!r}"


def no_error(page):
    """The page shows no red alert (a refused action, an exception flashed by FAB)."""
    errors = page.locator(".alert-danger, .has-error .help-block")
    assert errors.count() == 0, f"{page.url}: " + " | ".join(errors.all_inner_texts())


def save_form(page):
    page.click("form#model_form button[type=submit], form#model_form input[type=submit]")
    page.wait_for_load_state()
    no_error(page)


def act(page, path, action, opinion=None):
    """On a record's decide page, give the opinion and press the action's button."""
    page.goto(path)
    if opinion is not None:
        page.fill("#opinion", opinion)
    button = page.locator(f"button[name=action][value={action}]")
    assert button.count() == 1, f"{path}: no “{action}” button; the page offers " + str(
        page.locator("button[name=action]").all_inner_texts())
    button.click()
    page.wait_for_load_state()
    no_error(page)


def id_in(url_or_href, kind="show"):
    found = re.search(rf"/{kind}/(\d+)", url_or_href)
    assert found, f"no /{kind}/<id> in {url_or_href}"
    return int(found.group(1))


def row_link(page, text, href_part):
    """The href of the link containing ``href_part`` in the list row that mentions ``text``."""
    from playwright.sync_api import expect

    row = page.locator("tr", has_text=text).first
    expect(row).to_be_visible()
    return row.locator(f"a[href*='{href_part}']").first.get_attribute("href")


def cell(scope, label):
    """The value cell of the row headed exactly ``label``: a field of FAB's show page (scope:
    the page), a figure of a dashboard table (scope: that table)."""
    return scope.locator(f'tr:has(> th:text-is("{label}")) > td')


def money(text):
    """An amount as a page shows it ("100,000.00", "100000.00 元") as a Decimal."""
    found = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    assert found, f"no amount in {text!r}"
    return Decimal(found.group(0).replace(",", ""))
