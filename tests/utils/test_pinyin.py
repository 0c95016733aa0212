"""Pinyin columns behind search and sorting of Chinese names."""
from app.utils.pinyin import initials_of, pinyin_of, sort_key


def test_full_pinyin_and_initials():
    assert pinyin_of("武汉大学") == "wuhandaxue" and initials_of("武汉大学") == "whdx"
    assert initials_of("ABC科技2024有限公司") == "abckj2024yxgs"


def test_surnames_read_as_surnames_only_in_personal_names():
    assert pinyin_of("曾小明", person=True) == "zengxiaoming"
    assert initials_of("尉迟敬德", person=True) == "ycjd"
    assert initials_of("单晓", person=True) == "sx"
    assert pinyin_of("曾经", person=False) == "cengjing"


def test_sorting_follows_pinyin_not_code_points():
    names = ["浙江大学", "重庆钢铁", "阿里巴巴", "北京字节跳动"]
    assert sorted(names, key=sort_key) == ["阿里巴巴", "北京字节跳动", "重庆钢铁", "浙江大学"]


def test_models_keep_pinyin_columns_in_step(make, db_session):
    researcher = make.researcher(name="曾晓明")
    assert (researcher.name_pinyin, researcher.name_initials) == ("zengxiaoming", "zxm")
    researcher.name = "单磊"
    db_session.commit()
    assert researcher.name_initials == "sl"
    enterprise = make.enterprise(name="武汉光谷智能传感科技有限公司")
    assert enterprise.name_initials.startswith("whggzncg")
