"""Reviewers open the documents they review: every file column of every generated page is a
link (name, type, size) for whoever may download it, with a preview in the page for staff,
served inline under its own Content-Security-Policy; another region's file answers 404."""
from urllib.parse import quote

import pytest

from app.core.documents import original_name
from app.views.base import ScopedModelView, file_columns
from helpers import PNG, login

REGION_A, REGION_B = "420100", "420500"


def _file_views(app):
    return [v for v in app.appbuilder.baseviews
            if isinstance(v, ScopedModelView) and file_columns(v.datamodel.obj)]


def test_every_file_column_of_every_page_is_formatted_as_a_document(app):
    views = _file_views(app)
    assert {type(v).__name__ for v in views} >= {
        "EnterpriseModelView", "ResearcherModelView", "NeedModelView", "ContractModelView"}
    for view in views:
        for column in file_columns(view.datamodel.obj):
            with app.test_request_context():
                formatted = view.formatters_columns[column]("0" * 32 + "_sep_营业执照.pdf")
            assert "营业执照.pdf" in str(formatted) and "0" * 32 not in str(formatted), \
                (type(view).__name__, column)


def test_staff_open_and_preview_the_need_attachment(client, world, make):
    make.user("Bureau", "doc_bureau_a", region_id=world["A"]["enterprise"].region_id)
    login(client, "doc_bureau_a")
    need, upload = world["A"]["need"], world["A"]["upload"]
    url_name = quote(upload)
    page = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    assert f'href="/needmodelview/download/{url_name}"' in page
    assert "需求说明书.pdf" in page and "PDF" in page and "千字节" in page
    assert f'<iframe class="doc-preview" src="/needmodelview/preview/{url_name}"' in page
    assert "A-secret_sep_" not in page.replace(f"/{url_name}", "")  # the stored name: URLs only

    preview = client.get(f"/needmodelview/preview/{upload}")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert preview.headers["Content-Disposition"].startswith("inline")
    policy = preview.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert preview.get_data().startswith(b"%PDF")
    preview.close()

    download = client.get(f"/needmodelview/download/{upload}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()

    # The decision page shows the record with its document.
    decide = client.get(f"/needmodelview/decide/{need.id}").get_data(as_text=True)
    assert f"/needmodelview/preview/{url_name}" in decide


def test_another_regions_file_is_neither_shown_nor_served(client, world, make):
    make.user("Bureau", "doc_bureau_b", region_id=world["B"]["enterprise"].region_id)
    login(client, "doc_bureau_b")
    upload = world["A"]["upload"]
    assert client.get(f"/needmodelview/preview/{upload}").status_code == 404
    assert client.get(f"/needmodelview/download/{upload}").status_code == 404
    assert client.get(f"/needmodelview/show/{world['A']['need'].id}").status_code == 404


def test_the_owner_gets_the_link_without_the_staff_preview(client, world, make):
    make.user("Enterprise", "doc_owner", enterprise_id=world["A"]["enterprise"].id)
    login(client, "doc_owner")
    need, upload = world["A"]["need"], world["A"]["upload"]
    page = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    assert f'href="/needmodelview/download/{quote(upload)}"' in page
    assert "doc-preview" not in page


@pytest.mark.parametrize("name", ["照片.png"])
def test_an_image_preview_is_sandboxed(app, client, world, make, db_session, name):
    import os
    stored = "b" * 32 + "_sep_" + name
    with open(os.path.join(app.config["UPLOAD_FOLDER"], stored), "wb") as fh:
        fh.write(PNG)
    need = world["A"]["need"]
    need.attachment = stored
    db_session.commit()
    make.user("Province", "doc_province")
    login(client, "doc_province")
    page = client.get(f"/needmodelview/show/{need.id}").get_data(as_text=True)
    assert f'<img class="doc-preview doc-image" src="/needmodelview/preview/{quote(stored)}"' in page
    preview = client.get(f"/needmodelview/preview/{stored}")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.headers["Content-Security-Policy"].startswith("sandbox;")
    preview.close()
    assert original_name(stored) == name
