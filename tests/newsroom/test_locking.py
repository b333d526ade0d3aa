"""newsroom.locking: lock waits that run out of time become one retryable exception."""

import sqlite3
import time

import pytest
from django.db import OperationalError, connection, transaction

from newsroom.locking import LockTimeout, is_lock_timeout, lock_timeout_set, lock_waits_bounded
from tests.helpers import held_elsewhere

ADVISORY_KEY = 4_242_001


def sqlite_busy_error(tmp_path) -> sqlite3.OperationalError:
    """The error SQLite gives a writer that waited its `timeout` for another's write lock."""
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
        return caught.value
    finally:
        holder.close()
        waiter.close()


def test_sqlite_database_is_locked_becomes_lock_timeout(tmp_path):
    busy = sqlite_busy_error(tmp_path)
    assert str(busy) == "database is locked"
    # As Django's database-error wrapper raises it.
    with pytest.raises(LockTimeout), lock_waits_bounded():
        raise OperationalError(str(busy)) from busy


def test_other_database_errors_pass_through():
    cause = sqlite3.OperationalError("no such table: missing")
    with pytest.raises(OperationalError) as caught, lock_waits_bounded():
        raise OperationalError(str(cause)) from cause
    assert not isinstance(caught.value, LockTimeout)
    assert not is_lock_timeout(caught.value)


@pytest.mark.django_db(transaction=True)
def test_a_lock_timeout_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        lock_timeout_set(1)


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_lock_timeout_holds_for_the_transaction_only():
    _postgresql_only()
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        before = cursor.fetchone()[0]
        with transaction.atomic():
            lock_timeout_set(0.25)
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "250ms"
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_lock_wait_ends_in_lock_timeout_within_the_timeout():
    _postgresql_only()
    def hold():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])

    with held_elsewhere(hold):
        started = time.monotonic()
        with pytest.raises(LockTimeout), lock_waits_bounded(), transaction.atomic():
            lock_timeout_set(0.2)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
        assert time.monotonic() - started < 5
    # The connection is usable again: the failed transaction was rolled back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_lock_timeout_anywhere_answers_a_retryable_503(rf, tmp_path):
    from newsroom.middleware import LockTimeoutMiddleware

    busy = sqlite_busy_error(tmp_path)
    middleware = LockTimeoutMiddleware(lambda request: None)
    for error in (LockTimeout("waited"), OperationalError(str(busy))):
        if isinstance(error, OperationalError):
            error.__cause__ = busy
        response = middleware.process_exception(rf.post("/admin/"), error)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert "Busy for a moment, please try again" in response.content.decode()
        assert "nothing was changed" in response.content.decode()
    # Any other error is left to Django's own handling.
    other = OperationalError("no such table: missing")
    other.__cause__ = sqlite3.OperationalError("no such table: missing")
    assert middleware.process_exception(rf.post("/admin/"), other) is None
    assert middleware.process_exception(rf.post("/admin/"), ValueError("x")) is None
