"""One search box for Chinese names: the name itself, its full pinyin or its initials."""
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from ..utils.pinyin import pinyin_of


class PinyinSearchFilter(BaseFilter):
    """`whdx`, `wuhan` and `武汉` all find 武汉大学. Pinyin columns are matched by prefix."""

    name = _l("Name, pinyin or initials")
    arg_name = "py"

    def apply(self, query, value):
        value = (value or "").strip()
        if not value:
            return query
        model = self.model
        prefix = pinyin_of(value).lower()
        return query.filter(or_(
            getattr(model, self.column_name).contains(value, autoescape=True),
            model.name_pinyin.startswith(prefix, autoescape=True),
            model.name_initials.startswith(value.lower(), autoescape=True),
        ))


def add_pinyin_search(view, column="name"):
    """Offer PinyinSearchFilter first in the view's search form for ``column``."""
    for registry in (view._filters._search_filters, view._filters._all_filters):
        registry.setdefault(column, []).insert(0, PinyinSearchFilter(column, view.datamodel))
