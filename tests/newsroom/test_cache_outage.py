"""With Redis away, readers still read, guests still post and moderators still sign in; after
Redis comes back, with its data or empty, nothing changed meanwhile is undone and nobody is
signed out or back in."""

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from articles.cache import missed_bumps
from articles.page_cache import local_pages
from comments.models import Comment, Report
from comments.services import comments_remove
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import use_redis

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every connection is refused at once.
AWAY = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_away(settings, django_capture_on_commit_callbacks):
    use_redis(settings, AWAY)
    settings.COMMENT_RATE_LIMIT = "1/60"
    with django_capture_on_commit_callbacks(execute=True):
        yield


@pytest.fixture
def editor():
    return get_user_model().objects.create_superuser("editor", "e@example.com", "a long passphrase")


def sign_in(client) -> None:
    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long passphrase", "next": "/admin/"},
    )
    assert response.status_code == 302


def signed_in(client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


@pytest.mark.usefixtures("redis_away")
def test_the_article_page_is_built_for_every_reader(caplog):
    article = make_article(title="Summit cancelled")
    make_comment(article, body="Still readable.")
    for _ in range(2):
        response = Client().get(article.get_absolute_url())
        assert response.status_code == 200
        assert "Still readable." in response.content.decode()
    assert "page cache unavailable" in caplog.text


@pytest.mark.usefixtures("redis_away")
def test_a_guest_posts_and_reports_and_the_limit_is_kept_in_the_process(caplog):
    article = make_article()
    url = reverse("comments:post", args=[article.slug])
    client = Client()
    body = {"name": "Ann", "email": "ann@example.com", "body": "Post 1.", "parent": ""}
    response = client.post(url, body)
    assert response.status_code == 302
    assert client.post(url, {**body, "body": "Post 2."}).status_code == 429
    assert Comment.objects.filter(article=article).count() == 1
    page = client.get(response["Location"], follow=True)
    assert "Post 1." in page.content.decode()
    comment = Comment.objects.get(article=article)
    report = client.post(
        reverse("comments:report", args=[article.slug, comment.pk]), {"reason": "spam"}
    )
    assert report.status_code == 302
    assert Report.objects.filter(comment=comment).count() == 1
    assert "counted in this process only" in caplog.text


@pytest.mark.usefixtures("redis_away")
def test_a_moderator_signs_in_and_stays_signed_in(editor):
    client = Client()
    sign_in(client)
    assert signed_in(client)


@pytest.mark.usefixtures("redis_away")
def test_the_health_check_names_the_cache():
    response = Client().get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error", "database": "ok", "cache": "error", "counters": "error"
    }


def test_sessions_outlive_a_restart_of_redis(settings, redis_url, editor):
    use_redis(settings, redis_url)
    client = Client()
    sign_in(client)
    assert signed_in(client)
    # Redis keeps nothing on disk: a restart empties it.
    redis.Redis.from_url(redis_url).flushdb()
    assert signed_in(client)


def test_a_sign_out_while_redis_is_away_is_final(settings, redis_server, editor):
    use_redis(settings, redis_server.url)
    client = Client()
    sign_in(client)
    cookie = client.cookies["sessionid"].value
    redis_server.stop()
    assert client.post(reverse("admin:logout")).status_code == 200
    redis_server.start()
    returning = Client()
    returning.cookies["sessionid"] = cookie
    assert not signed_in(returning)


def test_a_removal_while_redis_is_away_stays_removed_when_it_comes_back_with_its_data(
    settings, redis_server, django_capture_on_commit_callbacks
):
    use_redis(settings, redis_server.url)
    article = make_article()
    doomed = make_comment(article, body="Soon removed.")
    url = article.get_absolute_url()
    for _ in range(2):
        assert "Soon removed." in Client().get(url).content.decode()
    assert local_pages.copies, "the page was not cached"

    redis_server.stop()
    with django_capture_on_commit_callbacks(execute=True):
        comments_remove(comments=Comment.objects.filter(pk=doomed.pk), moderator=None)
        Client().post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": "Posted meanwhile.", "parent": ""},
        )
    assert "Soon removed." not in Client().get(url).content.decode()

    # Back with the data it had, the old page under the old version included.
    redis_server.start()
    for _ in range(2):
        html = Client().get(url).content.decode()
        assert "Soon removed." not in html
        assert "Posted meanwhile." in html


def test_a_worker_that_only_saw_the_outage_puts_the_old_copies_out_of_reach(
    settings, redis_server
):
    use_redis(settings, redis_server.url)
    article = make_article()
    doomed = make_comment(article, body="Soon removed.")
    url = article.get_absolute_url()
    assert "Soon removed." in Client().get(url).content.decode()

    redis_server.stop()
    # Removed by another process, whose bump was missed and which ended before Redis came
    # back: only this one's failed read tells it that its copies may be stale.
    Comment.objects.filter(pk=doomed.pk).update(status=Comment.Status.REMOVED)
    assert "Soon removed." not in Client().get(url).content.decode()
    assert missed_bumps.epoch and not missed_bumps.articles

    redis_server.start()
    assert "Soon removed." not in Client().get(url).content.decode()


@pytest.mark.usefixtures("redis_away")
def test_a_reader_signs_in_and_allauths_limit_is_kept_in_the_process(caplog):
    """allauth keeps its rate limits in the default cache: with its Redis away, each process
    keeps them in memory, and a sign-in neither fails nor escapes the limit."""
    make_reader(email="ann@example.org")

    def sign_in(client, password):
        return client.post(
            reverse("account_login"), {"login": "ann@example.org", "password": password}
        )

    reader = Client()
    assert sign_in(reader, "a long passphrase 1").status_code == 302
    assert reader.get(reverse("comments:settings")).status_code == 200
    assert "cache away" in caplog.text

    guesser = Client()
    for _ in range(5):
        assert "Too many failed login attempts" not in sign_in(guesser, "wrong").content.decode()
    refused = sign_in(guesser, "a long passphrase 1")
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in guesser.session
