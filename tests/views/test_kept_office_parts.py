"""What the back office keeps between requests (the menu per roles and language, a list's search
form, a row's buttons) is never stale: a change of permissions or of reference data shows on the
next request, each role and language gets its own, and each row's buttons point at that row."""
import json
import re

from app.extensions import db
from app.models import NeedState, TechField
from helpers import login

A = "420100"


def _menu_item_name(app, href):
    with app.test_request_context():
        for item in app.appbuilder.menu.get_list():
            for child in item.childs or [item]:
                if child and child.name != "-" and child.get_url() == href:
                    return child.name
    raise AssertionError(href)


def _menu(page):
    return page.split('<ul class="nav navbar-nav">', 1)[1].split("</ul>\n            <ul", 1)[0]


def test_a_menu_permission_taken_away_goes_from_the_next_page(client, make, db_session):
    user = make.user("Bureau", region_id=make.region(A).id)
    login(client, user.username)
    assert "/needmodelview/list/" in _menu(client.get("/office/").get_data(as_text=True))
    sm = client.application.appbuilder.sm
    role = sm.find_role("Bureau")
    item = sm.find_permission_view_menu(
        "menu_access", _menu_item_name(client.application, "/needmodelview/list/"))
    sm.del_permission_role(role, item)
    db_session.commit()
    assert "/needmodelview/list/" not in _menu(client.get("/office/").get_data(as_text=True))
    sm.add_permission_role(role, item)
    db_session.commit()
    assert "/needmodelview/list/" in _menu(client.get("/office/").get_data(as_text=True))


def test_each_role_and_language_gets_its_own_menu_in_one_process(client, make):
    bureau = make.user("Bureau", region_id=make.region(A).id)
    platform = make.user("Platform")
    login(client, bureau.username)
    bureau_zh = _menu(client.get("/office/").get_data(as_text=True))
    client.get("/language/en")
    bureau_en = _menu(client.get("/office/").get_data(as_text=True))
    client.get("/logout/")
    login(client, platform.username)
    client.get("/language/zh")
    platform_zh = _menu(client.get("/office/").get_data(as_text=True))
    assert "技术需求" in bureau_zh and "Technical needs" in bureau_en
    assert "技术需求" not in bureau_en
    assert "/reviewrecordmodelview/list/" in platform_zh
    assert "/reviewrecordmodelview/list/" not in bureau_zh


def _search_form(page):
    """The arguments FAB's page gives its filter script: labels, form fields, filter names and
    the active filters (JSON)."""
    script = page.split("new AdminFilters(", 1)[1].split("'#filter_form',", 1)[1]
    decoder, parts, at = json.JSONDecoder(), [], 0
    for _ in range(4):
        while script[at] in " \n\t,":
            at += 1
        value, at = decoder.raw_decode(script, at)
        parts.append(value)
    return parts


def _field_options(page):
    """The options of the need list's search form's field dropdown."""
    return _search_form(page)[1]["field"]


def test_a_new_field_is_offered_by_the_search_form_on_the_next_request(client, make, db_session):
    platform = make.user("Platform")
    login(client, platform.username)
    before = _field_options(client.get("/needmodelview/list/").get_data(as_text=True))
    assert "氢能测试领域" not in before
    domain = make.field().domain
    field = TechField(code="9999", name="氢能测试领域", name_en="Hydrogen test field",
                      domain=domain, keywords="")
    db_session.add(field)
    db_session.commit()
    assert "氢能测试领域" in _field_options(client.get("/needmodelview/list/").get_data(as_text=True))
    field.name = "氢能改名领域"
    db_session.commit()
    after = _field_options(client.get("/needmodelview/list/").get_data(as_text=True))
    assert "氢能改名领域" in after and "氢能测试领域" not in after
    client.get("/language/en")
    english = client.get("/needmodelview/list/").get_data(as_text=True)
    assert "Hydrogen test field" in _field_options(english)


def test_active_filters_are_read_from_each_request(client, make):
    platform = make.user("Platform")
    login(client, platform.username)
    client.get("/needmodelview/list/")  # the search form is kept from here
    page = client.get("/needmodelview/list/?_flt_0_title=太阳能").get_data(as_text=True)
    assert "太阳能" in json.dumps(_search_form(page)[3], ensure_ascii=False)
    plain = client.get("/needmodelview/list/").get_data(as_text=True)
    assert _search_form(plain)[3] == []


def test_each_rows_buttons_point_at_its_own_record(client, make):
    enterprise = make.enterprise(A)
    needs = [make.need(enterprise, NeedState.published, title=f"按钮测试需求{n}") for n in range(3)]
    platform = make.user("Platform")
    login(client, platform.username)
    page = client.get("/needmodelview/list/?psize_needmodelview=100").get_data(as_text=True)
    rows = page.split("<tbody>", 1)[-1].split("<tr>")[1:]
    for need in needs:
        row = next(r for r in rows if need.title in r)
        links = re.findall(r'href="(/needmodelview/\w+/[^"?]*)', row)
        assert f"/needmodelview/show/{need.id}" in links
        assert links and all(link.endswith(f"/{need.id}") for link in links), links
        assert "__row_pk__" not in row
    db.session.expire_all()
