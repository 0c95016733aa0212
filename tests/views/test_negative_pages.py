"""A negative page or page size is refused with 400 before any statement, on the API and the
list pages, and the next request works (PostgreSQL aborted the transaction on a negative
OFFSET and the next request failed)."""
import pytest
from helpers import api_headers, login


@pytest.mark.parametrize("query", ["(page:-3,page_size:20)", "(page:-1,page_size:100)"])
def test_a_negative_api_page_is_refused_and_changes_nothing(client, make, query):
    make.need(make.enterprise())
    make.user("Platform", "neg_api")
    headers = api_headers(client, "neg_api")
    response = client.get(f"/api/v1/need/?q={query}", headers=headers)
    assert response.status_code == 400
    assert client.get("/api/v1/need/?q=(page:0,page_size:20)", headers=headers).status_code == 200
    # FAB bounds a negative page size itself (to its maximum page).
    assert client.get("/api/v1/need/?q=(page:0,page_size:-1)", headers=headers).status_code < 500


def test_a_negative_list_page_is_refused(client, make):
    make.user("Platform", "neg_list")
    login(client, "neg_list")
    response = client.get("/needmodelview/list/?page_NeedModelView=-5")
    assert response.status_code == 400  # refused before a statement
    assert client.get("/needmodelview/list/").status_code == 200
