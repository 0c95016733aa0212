"""Every role sees its own profile from the menu (个人中心 › 用户信息) and reaches the form to
change its password; nobody sees another user's profile that way."""
import pytest
from helpers import login

A, B = "420100", "420500"
ROLES = ["Admin", "Platform", "Province", "Bureau", "Enterprise", "Researcher"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("code", [A, B])
def test_every_role_opens_its_own_profile_and_the_password_form(client, make, role, code):
    links = {"region_id": make.region(code).id} if role == "Bureau" else {}
    if role == "Enterprise":
        links = {"enterprise_id": make.enterprise(code).id}
    if role == "Researcher":
        links = {"researcher_id": make.researcher(code).id}
    user = make.user(role, f"profile_{role.lower()}_{code}", **links)
    other = make.user(role, f"profile_other_{role.lower()}_{code}", **links)
    login(client, user.username)
    page = client.get("/users/userinfo/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert user.username in text and other.username not in text
    form = client.get("/resetmypassword/form")
    assert form.status_code == 200 and 'name="password"' in form.get_data(as_text=True)
