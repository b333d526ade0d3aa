"""With Redis away, readers still read, guests still post and moderators still sign in; after
Redis restarts empty, nobody is signed out."""

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from comments.models import Comment, Report
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every connection is refused at once.
AWAY = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def redis_away(settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = AWAY
    settings.CACHES = {
        "default": {"BACKEND": "newsroom.redis_cache.PooledRedisCache", "LOCATION": AWAY}
    }
    settings.SESSION_ENGINE = "newsroom.sessions"
    settings.COMMENT_RATE_LIMIT = "1/60"
    with django_capture_on_commit_callbacks(execute=True):
        yield


def test_the_article_page_is_built_for_every_reader(caplog):
    article = make_article(title="Summit cancelled")
    make_comment(article, body="Still readable.")
    for _ in range(2):
        response = Client().get(article.get_absolute_url())
        assert response.status_code == 200
        assert "Still readable." in response.content.decode()
    assert "page cache unavailable" in caplog.text


def test_a_guest_posts_and_reports_without_a_rate_limit_to_count_in(caplog):
    article = make_article()
    url = reverse("comments:post", args=[article.slug])
    client = Client()
    for n in range(3):
        response = client.post(
            url, {"name": "Ann", "email": "ann@example.com", "body": f"Post {n}.", "parent": ""}
        )
        assert response.status_code == 302
    assert Comment.objects.filter(article=article).count() == 3
    page = client.get(response["Location"], follow=True)
    assert "Post 2." in page.content.decode()
    comment = Comment.objects.filter(article=article).first()
    report = client.post(
        reverse("comments:report", args=[article.slug, comment.pk]), {"reason": "spam"}
    )
    assert report.status_code == 302
    assert Report.objects.filter(comment=comment).count() == 1
    assert "not counted" in caplog.text


def test_a_moderator_signs_in_and_stays_signed_in():
    get_user_model().objects.create_superuser("editor", "e@example.com", "a long passphrase")
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long passphrase", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_health_check_names_the_cache():
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error"}


def test_sessions_outlive_a_restart_of_redis(settings):
    here = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(here).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379 (CI starts one)")
    settings.REDIS_URL = here
    settings.CACHES = {
        "default": {"BACKEND": "newsroom.redis_cache.PooledRedisCache", "LOCATION": here}
    }
    get_user_model().objects.create_superuser("editor", "e@example.com", "a long passphrase")
    client = Client()
    client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long passphrase", "next": "/admin/"},
    )
    assert client.get(reverse("admin:index")).status_code == 200
    # Redis keeps nothing on disk: a restart empties it.
    redis.Redis.from_url(here).flushdb()
    assert client.get(reverse("admin:index")).status_code == 200
