"""The administrator's role and permission pages name permissions as the screens do
("合同：审核办理"), not as FAB's identifiers ("can decide on ContractModelView")."""
import re

import pytest
from helpers import login

PAGES = ["/roles/list/", "/roles/show/{role}", "/roles/edit/{role}", "/roles/add",
         "/permissions/list/", "/permissionviews/list/", "/viewmenus/list/"]


def _visible(page: str) -> str:
    """The page's text without scripts and without text marked as English code."""
    page = re.sub(r"<script.*?</script>|<code lang=\"en\">.*?</code>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("path", PAGES)
def test_permission_pages_read_in_chinese(client, make, db_session, path):
    from app.models import AppUser
    admin = make.user("Admin", "perm_admin")
    role_id = db_session.get(AppUser, admin.id).roles[0].id
    login(client, "perm_admin")
    response = client.get(path.format(role=role_id), follow_redirects=True)
    assert response.status_code == 200
    text = _visible(response.get_data(as_text=True))
    assert not re.search(r"\bcan \w+ on \w+", text), path
    assert not re.search(r"\b\w+ModelView\b|\bcan_\w+", text), path
    if path.startswith("/roles/show") or path.startswith("/roles/edit"):
        assert "审核办理" in text or "查看列表" in text


def test_the_login_statistics_chart_is_not_offered(client, make):
    make.user("Admin", "perm_admin2")
    login(client, "perm_admin2")
    assert client.get("/userstatschartview/chart/").status_code == 404


def test_every_menu_name_a_role_page_shows_reads_in_chinese(app, db_session):
    """Menu names are phrases ("List Groups"); each must read in Chinese on the role pages.
    Class names (no space) are identifiers, shown as code when no screen names them."""
    from flask_appbuilder.security.sqla.models import ViewMenu

    from app.core.permission_names import view_title
    names = [name for (name,) in db_session.query(ViewMenu.name) if " " in name or "/" in name]
    assert names  # FAB's own menus at least
    with app.test_request_context():
        untitled = [n for n in names if not (view_title(n) or "").strip()
                    or view_title(n).isascii()]
    assert untitled == []
