"""The PostgreSQL backend's check of a kept connection: no round trip while the connection is
quiet, and a connection the server ended is found and replaced before a request uses it."""

import time

import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper
from django.test import Client

from tests.factories import make_article

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend's own check"
)


@pytest.fixture
def kept():
    """A connection of its own to the test database, as a worker keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def end_backend(pid: int) -> None:
    """End the server's process behind a connection, as a restart of the server does."""
    with connections.create_connection("default").cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db
def test_a_quiet_connection_is_usable_without_a_round_trip(kept, monkeypatch):
    asked = []
    monkeypatch.setattr(DjangoWrapper, "is_usable", lambda self: asked.append(self) or True)
    assert kept.is_usable()
    assert asked == []


@pytest.mark.django_db
def test_a_connection_the_server_ended_is_not_usable(kept):
    end_backend(kept.connection.info.backend_pid)
    deadline = time.monotonic() + 5
    while kept.is_usable():
        assert time.monotonic() < deadline, "the ended connection still looks usable"
        time.sleep(0.01)
    kept.close()
    kept.ensure_connection()
    assert kept.is_usable()


@pytest.mark.django_db
def test_a_connection_left_in_a_failed_transaction_is_not_usable(kept):
    with kept.connection.cursor() as cursor:
        cursor.execute("BEGIN")
        with pytest.raises(Exception, match="division by zero"):
            cursor.execute("SELECT 1 / 0")
    assert not kept.is_usable()


@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_server_ended_the_connection_is_answered():
    article = make_article(title="Still served")
    assert Client().get(article.get_absolute_url()).status_code == 200
    # The worker keeps its connection between requests (CONN_MAX_AGE).
    assert connection.connection is not None
    end_backend(connection.connection.info.backend_pid)
    time.sleep(0.1)
    # What Django's handler does as each request starts (its test client does not): the kept
    # connection is checked before the request's first query.
    close_old_connections()
    # A query string the page cache does not keep: the page is built, with its queries.
    response = Client().get(article.get_absolute_url(), {"from": "mail"})
    assert response.status_code == 200
    assert "Still served" in response.content.decode()
