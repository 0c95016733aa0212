"""The tech-SME database import (CSV and Excel), its zip-bomb checks, and the eligibility marks
it produces."""
import io
import os

from openpyxl import Workbook
from sqlalchemy import func, select

from app.models import EnterpriseState, SmeWhitelistEntry, WhitelistStatus
from helpers import login


def _csv(rows, header="入库登记编号,统一社会信用代码,企业名称,年度"):
    lines = [header] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _upload(client, data, name="sme.csv"):
    return client.post("/smewhitelist/", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_ten_thousand_rows_import_and_mark_registrations(client, make, db_session):
    found = make.enterprise(state=EnterpriseState.submitted, name="武汉甲科技有限公司",
                            sme_number="2020420100000001")
    renamed = make.enterprise(state=EnterpriseState.submitted, name="武汉乙科技有限公司",
                              sme_number="2020420100000002")
    missing = make.enterprise(state=EnterpriseState.submitted, name="武汉丙科技有限公司",
                              sme_number="2020420199999999")
    rows = [(f"2020420100{i:06d}", "", f"企业{i}", "2020") for i in range(3, 10001)]
    rows += [("2020420100000001", found.credit_code, "武汉甲科技有限公司", "2020"),
             ("2020420100000002", "", "武汉乙科技（集团）有限公司", "2020")]
    make.user("Platform", "plat_sme")
    login(client, "plat_sme")
    page = _upload(client, _csv(rows)).get_data(as_text=True)
    assert "共读取 10000 行：新增 10000 条" in page
    assert db_session.scalar(select(func.count()).select_from(SmeWhitelistEntry)) == 10000
    db_session.expire_all()
    assert found.whitelist_status is WhitelistStatus.found
    assert renamed.whitelist_status is WhitelistStatus.name_mismatch
    assert missing.whitelist_status is WhitelistStatus.not_found
    listing = client.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert "已入库，但企业名称不一致" in listing
    # A second import of the same file updates and creates nothing new.
    again = _upload(client, _csv(rows)).get_data(as_text=True)
    assert "新增 0 条，更新 10000 条" in again


def test_excel_import(client, make, db_session):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["企业名称", "入库登记编号"])
    sheet.append(["襄阳丁科技有限公司", "2020420600000001"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    make.user("Platform", "plat_xlsx")
    login(client, "plat_xlsx")
    page = _upload(client, buffer.getvalue(), "sme.xlsx").get_data(as_text=True)
    assert "共读取 1 行" in page
    entry = db_session.scalars(select(SmeWhitelistEntry)).one()
    assert (entry.name, entry.sme_number) == ("襄阳丁科技有限公司", "2020420600000001")


def test_a_file_without_the_number_column_imports_nothing(client, make, db_session):
    make.user("Platform", "plat_bad")
    login(client, "plat_bad")
    page = _upload(client, _csv([("a", "b")], header="名称,代码")).get_data(as_text=True)
    assert "入库登记编号" in page
    binary = _upload(client, b"\xff\xfe\x00garbage").get_data(as_text=True)
    assert "UTF-8" in binary
    assert db_session.scalar(select(func.count()).select_from(SmeWhitelistEntry)) == 0


def test_only_the_platform_imports(client, make):
    make.user("Bureau", "bureau_sme", region_id=make.region("420100").id)
    login(client, "bureau_sme")
    response = client.post("/smewhitelist/", data={"file": (io.BytesIO(_csv([])), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_back_office_lists_search_by_pinyin_and_sort_by_it(client, make):
    for name in ("浙江某某科技有限公司", "武汉光谷传感科技有限公司", "阿里某某科技有限公司",
                 "重庆某某钢铁有限公司"):
        make.enterprise(name=name)
    make.user("Platform", "plat_py")
    login(client, "plat_py")
    listing = client.get("/enterprisemodelview/list/?psize_enterprisemodelview=100")
    page = listing.get_data(as_text=True)
    positions = [page.index(n) for n in ("阿里某某", "重庆某某", "武汉光谷", "浙江某某")]
    assert positions == sorted(positions)
    for query in ("whgg", "wuhanguanggu", "光谷"):
        found = client.get(f"/enterprisemodelview/list/?_flt_0_name={query}").get_data(as_text=True)
        assert "武汉光谷传感科技有限公司" in found and "浙江某某科技有限公司" not in found, query


# Zip bombs: an .xlsx is a zip archive; it is judged on what it declares before openpyxl opens it.

def _workbook(*extra_members):
    """A valid workbook with one importable row, plus the given (name, bytes) zip members
    (openpyxl ignores parts it does not know, so without the check the row would import)."""
    import zipfile

    workbook = Workbook()
    workbook.active.append(["企业名称", "入库登记编号"])
    workbook.active.append(["襄阳戊科技有限公司", "2020420600000009"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in extra_members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _import_in_english(client, make, data):
    make.user("Platform", "plat_zip")
    login(client, "plat_zip")
    client.get("/language/en")  # the messages are checked in English (stable msgids)
    return _upload(client, data, "sme.xlsx").get_data(as_text=True)


def _imported(db_session):
    return db_session.scalar(select(func.count()).select_from(SmeWhitelistEntry))


def test_an_xlsx_that_would_inflate_a_hundredfold_is_refused(client, make, db_session):
    # 32 MB of zeros deflate to about 32 kB: 1000 times, above the 16 MB floor.
    bomb = _workbook(("xl/media/padding.bin", b"\0" * (32 << 20)))
    assert len(bomb) < 100 * 1024
    page = _import_in_english(client, make, bomb)
    assert "was refused" in page and "would expand more than 100 times its size" in page
    assert _imported(db_session) == 0


def test_an_xlsx_declaring_more_than_200_mb_is_refused(client, make, db_session):
    # 3 MB that does not compress (a photo) and 207 MB of zeros: under 100 times the file's
    # size, so only the absolute cap refuses it.
    big = _workbook(("xl/media/image1.png", os.urandom(3 << 20)),
                    ("xl/media/padding.bin", b"\0" * (207 << 20)))
    assert 200 << 20 < 100 * len(big)
    page = _import_in_english(client, make, big)
    assert "was refused" in page and "more than 200 MB" in page
    assert _imported(db_session) == 0


def test_an_xlsx_with_too_many_parts_is_refused(client, make, db_session):
    crowded = _workbook(*[(f"customXml/item{n}.xml", b"<a/>") for n in range(1001)])
    page = _import_in_english(client, make, crowded)
    assert "was refused" in page and "more than 1000 parts" in page
    assert _imported(db_session) == 0


def test_a_damaged_xlsx_is_refused_with_a_message(client, make, db_session):
    good = _workbook()
    damaged = good[: len(good) // 2]  # the central directory is gone
    page = _import_in_english(client, make, damaged)
    assert "is not a readable Excel (.xlsx) file" in page
    assert _imported(db_session) == 0


def test_a_normal_xlsx_with_extra_parts_still_imports(client, make, db_session):
    page = _import_in_english(client, make, _workbook(("customXml/item1.xml", b"<a/>" * 100)))
    assert "1 rows read" in page
    assert _imported(db_session) == 1
