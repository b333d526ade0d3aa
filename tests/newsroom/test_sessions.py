"""The session store (newsroom/sessions.py): Django's database sessions, read in one plain SQL
statement, with the same answers as Django's own store."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from newsroom.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved(**data) -> str:
    session = SessionStore()
    session.update(data)
    session.save()
    return session.session_key


def test_the_project_uses_this_store():
    assert settings.SESSION_ENGINE == "newsroom.sessions"


def test_a_session_reads_back_in_one_query_as_djangos_store_reads_it(django_assert_num_queries):
    key = saved(comments_own_pending=[7, 9], name="Անի")
    with django_assert_num_queries(1) as context:
        read = SessionStore(key).load()
    assert "SELECT" in context.captured_queries[0]["sql"]
    assert read == db.SessionStore(key).load() == {"comments_own_pending": [7, 9], "name": "Անի"}


def test_an_expired_session_reads_empty_and_its_key_is_dropped():
    key = saved(name="Ann")
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    session = SessionStore(key)
    assert session.load() == {}
    assert session.session_key is None
    assert db.SessionStore(key).load() == {}


@pytest.mark.parametrize("key", ["no-such-session-key-at-all", "x' OR '1'='1' --padding"])
def test_an_unknown_or_hostile_key_reads_empty(key):
    saved(name="Ann")
    session = SessionStore(key)
    assert session.load() == {}
    assert session.session_key is None


def test_a_session_with_a_tampered_signature_reads_empty():
    key = saved(name="Ann")
    Session.objects.filter(session_key=key).update(session_data="tampered:data")
    assert SessionStore(key).load() == {}


def test_a_deleted_session_reads_empty():
    session = SessionStore()
    session["name"] = "Ann"
    session.save()
    session.delete()
    assert SessionStore(session.session_key).load() == {}
    assert not Session.objects.exists()


def test_sessions_work_through_the_async_api():
    async def write() -> str:
        session = SessionStore()
        await session.aset("comments_own_pending", [7])
        await session.asave()
        return session.session_key

    async def read(key: str):
        session = SessionStore(key)
        await session.aload()
        return await session.aget("comments_own_pending")

    key = async_to_sync(write)()
    assert async_to_sync(read)(key) == [7]


def test_sessions_stored_by_djangos_store_read_here_and_back():
    djangos, ours = db.SessionStore(), SessionStore()
    djangos["name"], ours["name"] = "Ann", "Bob"
    djangos.save()
    ours.save()
    assert SessionStore(djangos.session_key).load() == {"name": "Ann"}
    assert db.SessionStore(ours.session_key).load() == {"name": "Bob"}
