"""Migration 0019 moves the sessions signed in under Django's and allauth's backends to the
project's, so nobody is signed out when the backends change."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from tests.factories import make_reader

pytestmark = pytest.mark.django_db

migration = importlib.import_module("comments.migrations.0019_session_backend_paths")


def signed_in_session(user, backend: str) -> str:
    """A session as a sign-in under `backend` stored it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def signed_in_user(key: str):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client.get("/").wsgi_request.user


def run(function) -> None:
    function(apps, SimpleNamespace(connection=connection))


@pytest.mark.parametrize("old", sorted(migration.RENAMED))
def test_a_session_under_an_old_backend_stays_signed_in(old, monkeypatch):
    reader = make_reader()
    key = signed_in_session(reader, old)
    assert signed_in_user(key).is_anonymous
    monkeypatch.setattr(migration, "BATCH", 2)
    others = [signed_in_session(make_reader(), old) for _ in range(2)]
    run(migration.rename_backends)
    assert signed_in_user(key) == reader
    assert SessionStore(key).load()[BACKEND_SESSION_KEY] == migration.RENAMED[old]
    assert all(signed_in_user(other).is_authenticated for other in others)

    run(migration.restore_backends)
    assert SessionStore(key).load()[BACKEND_SESSION_KEY] == old


def test_other_sessions_are_left_as_they_are():
    reader = make_reader()
    current = signed_in_session(reader, "comments.auth_backends.ModelBackend")
    anonymous = SessionStore()
    anonymous["comments_own_pending"] = [3]
    anonymous.save()
    Session.objects.create(
        session_key="tampered-session-key",
        session_data="not:a:signed:session",
        expire_date=Session.objects.get(session_key=current).expire_date,
    )
    before = dict(Session.objects.values_list("session_key", "session_data"))
    run(migration.rename_backends)
    assert dict(Session.objects.values_list("session_key", "session_data")) == before
    assert signed_in_user(current) == reader
