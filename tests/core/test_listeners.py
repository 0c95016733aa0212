"""What acts on every flush and commit is installed from app/listeners.py, and it is exactly
this set: a listener that stops running after a move, or one added without a word, fails here
(the set is written by hand, not read from the table)."""
from sqlalchemy import event

from app import listeners
from app.core import cache_tokens

EXPECTED_LISTENERS = [
    ("Session", "before_flush", "app.core.field_rules.clean_pending_values"),
    ("PinyinMixin", "before_insert", "app.models.mixins.fill_pinyin"),
    ("PinyinMixin", "before_update", "app.models.mixins.refresh_pinyin"),
    ("Session", "after_flush", "app.domain.needs.search.keep_search_terms"),
    ("Session", "before_commit", "app.core.audit.link_pending_rows"),
    ("Session", "after_soft_rollback", "app.core.audit.drop_pending_rows"),
    ("AuditLog", "before_update", "app.core.audit.refuse_update"),
    ("AuditLog", "before_delete", "app.core.audit.refuse_delete"),
    ("Session", "do_orm_execute", "app.core.audit.refuse_bulk_changes"),
    ("AppUser.active", "set", "app.core.audit.hooks.keep_old_active"),
    ("Session", "before_flush", "app.core.audit.hooks.record_permission_changes"),
    ("AppUser.active", "set", "app.core.access.auth_policy.end_sessions_when_deactivated"),
    ("Session", "after_rollback", "app.core.notifications.delivery.close_send_batch"),
    ("Session", "after_commit", "app.core.notifications.delivery.close_send_batch"),
    ("Session", "after_flush", "app.core.cache_tokens.note_changes"),
    ("Session", "before_commit", "app.core.cache_tokens.replace_tokens"),
    ("Session", "after_soft_rollback", "app.core.cache_tokens.forget_changes"),
    ("Engine", "before_cursor_execute", "app.core.cache_tokens.mark_writes"),
    ("Session", "after_begin", "app.core.cache_tokens.note_connection"),
    ("Session", "after_transaction_end", "app.core.cache_tokens.forget_connections"),
    ("Engine", "commit", "app.core.cache_tokens.replace_written_outside_a_session"),
    ("Engine", "rollback", "app.core.cache_tokens.forget_written"),
    ("Pool", "reset", "app.core.cache_tokens.forget_written_at_reset"),
    ("Session", "before_flush", "app.domain.matching.scoring.keep_profiles"),
    ("Session", "after_flush", "app.domain.matching.scoring.queue_rankings"),
    ("Session", "after_commit", "app.core.queue.enqueue_committed_jobs"),
    ("Session", "after_rollback", "app.core.queue.drop_rolled_back_jobs"),
]


def _target_name(target):
    if hasattr(target, "class_") and hasattr(target, "key"):  # an instrumented attribute
        return f"{target.class_.__name__}.{target.key}"
    return target.__name__


def test_the_table_holds_exactly_the_expected_listeners_in_order():
    table = [(_target_name(target), name, f"{function.__module__}.{function.__qualname__}")
             for target, name, function, _options in listeners.LISTENERS]
    assert table == EXPECTED_LISTENERS


def test_every_listener_of_the_table_is_installed(app):
    missing = [(target, name, function.__qualname__)
               for target, name, function, _options in listeners.LISTENERS
               if not event.contains(target, name, function)]
    assert missing == []


def test_installing_again_adds_nothing(app, db_session):
    """A second app in the same process (the tests build several) installs nothing twice."""
    listeners.install()
    after_flush = [fn for fn in db_session().dispatch.after_flush
                   if getattr(fn, "__qualname__", "") == "keep_search_terms"]
    assert len(after_flush) == 1


def test_the_kinds_of_kept_data_and_the_tracked_tables_are_registered(app):
    assert set(cache_tokens._TOUCHES) == {"need_list", "permissions", "reference"}
    assert set(cache_tokens.row_kinds()) == {f"rows:{table}" for table in (
        "ab_user", "audit_checks", "audit_log", "contracts", "enterprises", "match_runs",
        "matches", "messages", "milestones", "needs", "notifications", "objections",
        "payments", "program_rounds", "projects", "proposals", "researchers", "service_logs",
        "supervision_cases")}


def test_every_tracked_table_has_its_token_row_from_the_migrations(app, db_session):
    """A tracked table without its row in ``cache_tokens`` keeps nothing, silently: the desk
    that counts it runs its statement on every view. The rows come with the migrations."""
    from sqlalchemy import select

    from app.models import CacheToken

    names = set(db_session.scalars(select(CacheToken.name)))
    assert set(cache_tokens.row_kinds()) - names == set()
