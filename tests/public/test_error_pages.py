"""Error pages are the site's own: in its frame, in the reader's language, with a way on; the
API answers JSON. Werkzeug's English pages never reach a reader."""
import pytest
from helpers import login

WERKZEUG = ("The requested URL was not found", "Method Not Allowed", "Internal Server Error")


def _is_site_page(text):
    return 'class="navbar' in text and "error-page" in text and not any(
        words in text for words in WERKZEUG)


@pytest.mark.parametrize("path", ["/no-such-page", "/needs/999999",
                                  "/needmodelview/show/999999"])
def test_not_found_is_a_page_of_the_site_in_both_languages(client, make, path):
    make.user("Platform", "err_platform")
    login(client, "err_platform")
    response = client.get(path)
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert _is_site_page(text) and "页面不存在" in text and "/office/" in text
    client.get("/language/en")
    text = client.get(path).get_data(as_text=True)
    assert _is_site_page(text) and "Page not found" in text and "页面不存在" not in text


def test_a_visitor_gets_the_page_without_the_desk_link(client):
    text = client.get("/no-such-page").get_data(as_text=True)
    assert _is_site_page(text) and "我的工作台" not in text


def test_a_wrong_method_is_a_page_of_the_site(client):
    response = client.post("/needs")
    assert response.status_code in (400, 405)
    assert _is_site_page(response.get_data(as_text=True))


def test_the_api_answers_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json


def test_an_unexpected_failure_is_a_page_of_the_site(app, client):
    def broken():
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    original = app.view_functions["public.need_list"]
    app.view_functions["public.need_list"] = broken
    try:
        response = client.get("/needs")
    finally:
        app.view_functions["public.need_list"] = original
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert _is_site_page(text) and "a bug" not in text and "出错" in text


def test_the_sign_in_page_asks_for_the_mobile_number_and_leads_to_registration(client):
    text = client.get("/login/").get_data(as_text=True)
    assert '<label class="control-label" for="username">手机号' in text
    assert 'for="password"' in text and 'href="/register"' in text
    assert "用户名:" not in text
