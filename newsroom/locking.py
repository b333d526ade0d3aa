"""Bounded lock waits: a writer that cannot get its lock in time gets a retryable `LockTimeout`.

As pretix's `lock_objects` does, a wait for a lock ends after a set time instead of holding a
worker until gunicorn kills it. On PostgreSQL `lock_timeout_set` bounds every lock wait of the
current transaction; on SQLite the connection's `timeout` option bounds the wait that
BEGIN IMMEDIATE does for the database's write lock. Either way the database error becomes
`LockTimeout` inside `lock_waits_bounded`, which wraps the whole transaction (on SQLite the wait
happens when the transaction begins).
"""

import math
import sqlite3
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

# PostgreSQL's SQLSTATE for "canceling statement due to lock timeout".
LOCK_NOT_AVAILABLE = "55P03"
# SQLite's primary result codes for "database is locked" and "database table is locked".
SQLITE_LOCK_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class LockTimeout(Exception):
    """Another transaction held a lock longer than the wait allowed; nothing was written.

    Retrying a few seconds later may succeed.
    """


def lock_timeout_set(seconds: float, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Bound each lock wait of the current transaction to `seconds` (PostgreSQL)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("a lock timeout is set inside transaction.atomic()")
    if connection.vendor == "postgresql":
        # At least 1 ms: PostgreSQL reads 0 as "wait for ever".
        milliseconds = max(1, math.ceil(seconds * 1000))
        with connection.cursor() as cursor:
            # set_config(..., true) is SET LOCAL: it ends with the transaction.
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])


def is_lock_timeout(error: BaseException) -> bool:
    """Whether a database error says a lock wait ran out of time."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    code = getattr(cause, "sqlite_errorcode", None)
    # Extended result codes keep the primary code in their low byte.
    return code is not None and code & 0xFF in SQLITE_LOCK_CODES


@contextmanager
def lock_waits_bounded():
    """Raise `LockTimeout` for a lock wait of the block that ran out of time.

    Wrap the whole transaction (outside `transaction.atomic`), so that it has been rolled back
    when `LockTimeout` reaches the caller. Usable as a decorator.
    """
    try:
        yield
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise LockTimeout(str(exc)) from exc
        raise
