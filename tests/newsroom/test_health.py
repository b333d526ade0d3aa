import threading
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

from newsroom.views import _cache_ok

# Nothing listens on port 1: the connection is refused at once.
AWAY = {"BACKEND": "newsroom.redis_cache.PooledRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}


@pytest.mark.django_db
def test_healthz_reports_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "counters": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_a_failing_database_with_503(client):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error", "database": "error", "cache": "ok", "counters": "ok"
    }


@pytest.mark.django_db
def test_healthz_reports_a_failing_cache_with_503(client, settings):
    settings.CACHES = {**settings.CACHES, "pages": AWAY}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error", "database": "ok", "cache": "error", "counters": "ok"
    }


@pytest.mark.django_db
def test_healthz_reports_a_failing_counter_store_with_503(client, settings):
    settings.CACHES = {**settings.CACHES, "counters": AWAY}
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error", "database": "ok", "cache": "ok", "counters": "error"
    }


def test_checks_running_at_once_do_not_disturb_each_other(settings, redis_url):
    # Against Redis, as between gunicorn workers: each check waits on the network.
    settings.CACHES = {
        "pages": {"BACKEND": "newsroom.redis_cache.PooledRedisCache", "LOCATION": redis_url}
    }
    assert _cache_ok("pages")
    results = []

    def check_many():
        results.extend(_cache_ok("pages") for _ in range(300))

    threads = [threading.Thread(target=check_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2400
    assert all(results)
