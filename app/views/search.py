"""One search box for Chinese names: the name itself, its full pinyin or its initials."""
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.utils.pinyin import pinyin_of


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


class RelatedPinyinSearchFilter(BaseFilter):
    """The same box for a many-to-one's name (a researcher's institution): a dropdown of every
    institution, thousands at national scale, was half of each researcher list page and of no
    use to read."""

    arg_name = "rpy"
    relation = None  # set per relation by add_related_pinyin_search (FAB copies filters by class)

    def apply(self, query, value):
        value = (value or "").strip()
        if not value:
            return query
        link = self.model.__mapper__.relationships[self.relation]
        related = link.mapper.class_
        (foreign_key,) = link.local_columns
        prefix = pinyin_of(value).lower()
        return query.filter(foreign_key.in_(select(related.id).where(or_(
            related.name.contains(value, autoescape=True),
            related.name_pinyin.startswith(prefix, autoescape=True),
            related.name_initials.startswith(value.lower(), autoescape=True)))))


def add_pinyin_search(view, column="name"):
    """Offer PinyinSearchFilter first in the view's search form for ``column``."""
    for registry in (view._filters._search_filters, view._filters._all_filters):
        registry.setdefault(column, []).insert(0, PinyinSearchFilter(column, view.datamodel))


def add_related_pinyin_search(view, column, relation):
    """Offer RelatedPinyinSearchFilter for ``relation`` second in ``column``'s search box (FAB
    reads a filter's index in the address as one digit: it must come among the first ten)."""
    label = view.label_columns.get(relation, relation)
    kind = type(f"{relation.title()}PinyinSearchFilter", (RelatedPinyinSearchFilter,), {
        "relation": relation, "name": _l("%(relation)s: name, pinyin or initials", relation=label)})
    for registry in (view._filters._search_filters, view._filters._all_filters):
        registry.setdefault(column, []).insert(1, kind(column, view.datamodel))
