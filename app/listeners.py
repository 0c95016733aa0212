"""What acts on every flush, commit or statement without being called: the SQLAlchemy listeners
and the kinds of kept data whose tokens a commit replaces, installed by ``create_app`` from this
one table.

Each function lives beside the rule it serves (the search index in ``domain/needs/search.py``,
the audit chain in ``core/audit``); only their installation is here, so none runs merely because
its module happens to be imported, and none silently stops running after a move
(``tests/core/test_listeners.py`` holds the list). The table sits above the domain and core
because two of its listeners are domain rules, which core may not import.

SQLAlchemy calls the listeners of one event in the order they were added: the table's order.
"""
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from app.core import audit, cache_tokens, field_rules, list_counts, queue, security
from app.core.access import auth_policy, jurisdiction, visitor
from app.core.audit import hooks as audit_hooks
from app.core.notifications import delivery
from app.domain.dashboard import figures as dashboard_figures
from app.domain.desk import kept
from app.domain.matching import scoring
from app.domain.needs import need_list, search
from app.extensions import Session
from app.models import AppUser, AuditLog, mixins

LISTENERS = (
    # target, event, function, options
    # No control or format character is stored (first: the rules below read clean values).
    (Session, "before_flush", field_rules.clean_pending_values, {}),
    (mixins.PinyinMixin, "before_insert", mixins.fill_pinyin, {"propagate": True}),
    (mixins.PinyinMixin, "before_update", mixins.refresh_pinyin, {"propagate": True}),
    # The need search index, kept in step at write time.
    (Session, "after_flush", search.keep_search_terms, {}),
    # The audit chain: rows linked at commit, never updated or deleted.
    (Session, "before_commit", audit.link_pending_rows, {}),
    (Session, "after_soft_rollback", audit.drop_pending_rows, {}),
    (AuditLog, "before_update", audit.refuse_update, {}),
    (AuditLog, "before_delete", audit.refuse_delete, {}),
    (Session, "do_orm_execute", audit.refuse_bulk_changes, {}),
    # What the audit records by itself: permission changes, an account (de)activated.
    (AppUser.active, "set", audit_hooks.keep_old_active, {"active_history": True}),
    (Session, "before_flush", audit_hooks.record_permission_changes, {}),
    # A deactivated account's sessions and API tokens end with it.
    (AppUser.active, "set", auth_policy.end_sessions_when_deactivated, {"active_history": True}),
    # A transaction's notifications share send jobs; the batch ends with the transaction.
    (Session, "after_rollback", delivery.close_send_batch, {}),
    (Session, "after_commit", delivery.close_send_batch, {}),
    # Version tokens of kept data, replaced by the commit that changes the data.
    (Session, "after_flush", cache_tokens.note_changes, {}),
    (Session, "before_commit", cache_tokens.replace_tokens, {}),
    (Session, "after_soft_rollback", cache_tokens.forget_changes, {}),
    (Engine, "before_cursor_execute", cache_tokens.mark_writes, {}),
    (Session, "after_begin", cache_tokens.note_connection, {}),
    (Session, "after_transaction_end", cache_tokens.forget_connections, {}),
    (Engine, "commit", cache_tokens.replace_written_outside_a_session, {}),
    (Engine, "rollback", cache_tokens.forget_written, {}),
    (Pool, "reset", cache_tokens.forget_written_at_reset, {}),
    # Matching: profiles kept at write time, the other side ranked after the commit.
    (Session, "before_flush", scoring.keep_profiles, {}),
    (Session, "after_flush", scoring.queue_rankings, {}),
    # Jobs are enqueued only once their transaction commits.
    (Session, "after_commit", queue.enqueue_committed_jobs, {}),
    (Session, "after_rollback", queue.drop_rolled_back_jobs, {}),
)

# Kinds of kept data and what, in a pending flush, changes each (``cache_tokens.register``).
TOKEN_KINDS = {
    "need_list": need_list.touches_need_list,
    "permissions": security.touches_permissions,
    "reference": jurisdiction.shared_choices_changed,
}


def install() -> None:
    """Install every listener and token kind once per process (a second app finds them)."""
    for target, name, function, options in LISTENERS:
        if not event.contains(target, name, function):
            event.listen(target, name, function, **options)
    for kind, touches in TOKEN_KINDS.items():
        cache_tokens.register(kind, touches)
    cache_tokens.track_rows(*list_counts.COUNTED_TABLES, *kept.DESK_TABLES,
                            *dashboard_figures.KEPT_TABLES)
    visitor.use_desk_tables(kept.DESK_TABLES)
