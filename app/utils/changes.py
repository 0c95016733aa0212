"""Which attributes of an ORM object changed in the pending flush (for write-time indexes)."""
from sqlalchemy import inspect


def changed(obj, *attributes) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attributes)
