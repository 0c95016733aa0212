"""Column helpers shared by the domain models."""
import enum

from flask_appbuilder.models.mixins import FileColumn
from flask_babel import get_locale
from sqlalchemy import Column, DateTime, Enum, Integer, String, inspect

from app.utils.clock import utcnow  # models and rules import it from here
from app.utils.pinyin import initials_of, pinyin_of


class SafeFileColumn(FileColumn):
    """FAB's FileColumn without the SAWarning about cache keys (stack notes §7)."""

    cache_ok = True


def state_column(enum_cls: type[enum.Enum], default, **kw):
    """A state stored as its code (never the translated label), checked by the database."""
    return Column(
        Enum(
            enum_cls,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
            create_constraint=True,
            name=f"ck_{enum_cls.__name__.lower()}",
        ),
        nullable=False,
        default=default,
        server_default=default.value,
        **kw,
    )


class TimestampMixin:
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class VersionedMixin:
    """Optimistic locking: two staff deciding the same record at once -> one StaleDataError."""

    version = Column(Integer, nullable=False, default=1, server_default="1")

    @classmethod
    def __declare_last__(cls):
        cls.__mapper__.version_id_col = cls.__table__.c.version
        cls.__mapper__.version_id_generator = lambda v: (v or 0) + 1


class PinyinMixin:
    """Keeps ``<name>_pinyin`` and ``<name>_initials`` in step with the Chinese name, so
    that lists sort by pinyin and search accepts ``whdx`` for 武汉大学."""

    __pinyin_source__ = "name"
    __pinyin_person__ = False  # personal names: surnames such as 曾 (zeng) read correctly
    name_pinyin = Column(String(400), index=True)
    name_initials = Column(String(120), index=True)

    def refresh_pinyin(self):
        text = getattr(self, self.__pinyin_source__) or ""
        self.name_pinyin = pinyin_of(text, person=self.__pinyin_person__)
        self.name_initials = initials_of(text, person=self.__pinyin_person__)


def fill_pinyin(mapper, connection, target):
    target.refresh_pinyin()


def refresh_pinyin(mapper, connection, target):
    # Only when the name changed: pypinyin costs a millisecond, and most updates (a state, a
    # ranking's timestamp) leave the name alone.
    if inspect(target).attrs[target.__pinyin_source__].history.has_changes():
        target.refresh_pinyin()


class LabelledMixin:
    """Reference data carries a Chinese and an English name; show the one of the locale."""

    @property
    def label(self):
        locale = get_locale()
        if locale is not None and locale.language == "en" and getattr(self, "name_en", None):
            return self.name_en
        return self.name

    def __str__(self):
        return self.label or ""
