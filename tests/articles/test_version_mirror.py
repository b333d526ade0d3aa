"""Each process's copy of the page versions, told of every bump over Redis pub/sub: read from
memory, never older than the last bump heard, and bypassed while the subscription is down."""

import time

import pytest
import redis
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from articles.cache import (
    EPOCH_KEY,
    article_page_changed,
    article_page_versions,
    page_version_key,
    version_mirror,
)
from articles.version_mirror import VersionMirror
from comments.models import Comment
from tests.factories import make_article, make_comment
from tests.helpers import use_redis
from tests.processes import in_child

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirrored(settings, redis_server):
    """The page cache on a Redis server of this test's own, with this process subscribed."""
    use_redis(settings, redis_server.url)
    mirror = version_mirror()
    mirror.start()
    wait_for(lambda: mirror.subscribed)
    return mirror


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


def another_process(redis_server) -> VersionMirror:
    """Another worker's mirror: the same channel and keys, its own connection."""
    mirror = version_mirror()
    return VersionMirror(redis_server.url, mirror.channel, mirror.full_key, EPOCH_KEY)


def stored(redis_server, key: str) -> int:
    return int(redis.Redis.from_url(redis_server.url).get(caches["pages"].make_key(key)))


def test_only_a_redis_page_cache_is_mirrored_and_the_switch_turns_it_off(settings, redis_server):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "p"},
    }
    assert version_mirror() is None
    use_redis(settings, redis_server.url)
    assert isinstance(version_mirror(), VersionMirror)
    settings.PAGE_VERSION_MIRROR = 0
    assert version_mirror() is None


def test_versions_read_once_are_served_from_memory(mirrored, redis_server):
    versions = article_page_versions(7)
    assert mirrored.values == {EPOCH_KEY: versions[0], page_version_key(7): versions[1]}
    # Changed in Redis behind every process's back: the copy is what is read.
    redis.Redis.from_url(redis_server.url).incr(caches["pages"].make_key(page_version_key(7)))
    assert article_page_versions(7) == versions


def test_another_process_bump_is_heard(mirrored, redis_server):
    epoch, version = article_page_versions(7)
    other = another_process(redis_server)
    assert other.bump(page_version_key(7), start=1) == version + 1
    wait_for(lambda: page_version_key(7) not in mirrored.values)
    assert article_page_versions(7) == (epoch, version + 1)


def test_an_epoch_bump_drops_every_version(mirrored, redis_server):
    article_page_versions(7)
    article_page_versions(8)
    another_process(redis_server).bump(EPOCH_KEY, start=1)
    wait_for(lambda: not mirrored.values)


def test_the_bumping_process_sees_its_bump_at_once(
    mirrored, redis_server, monkeypatch, django_capture_on_commit_callbacks
):
    version = article_page_versions(7)[1]
    # Deaf to the channel: the bump drops the copy itself, without waiting for the message.
    monkeypatch.setattr(mirrored, "_heard", lambda message: None)
    with django_capture_on_commit_callbacks(execute=True):
        article_page_changed(7)
    assert page_version_key(7) not in mirrored.values
    assert article_page_versions(7)[1] == version + 1 == stored(redis_server, page_version_key(7))


def test_a_read_that_races_a_bump_keeps_nothing(mirrored, redis_server):
    other = another_process(redis_server)
    article_page_versions(7)
    mirrored.clear()

    def read_then_bumped_elsewhere(keys):
        found = {key: stored(redis_server, key) for key in keys}
        generation = mirrored.generation
        other.bump(page_version_key(7), start=1)
        wait_for(lambda: mirrored.generation != generation)
        return found

    old = mirrored.get_many([EPOCH_KEY, page_version_key(7)], read_then_bumped_elsewhere)
    assert mirrored.values == {}
    assert article_page_versions(7)[1] == old[page_version_key(7)] + 1


def test_a_read_begun_before_the_subscription_keeps_nothing(settings, redis_server):
    use_redis(settings, redis_server.url)
    mirror = version_mirror()

    def read_while_subscribing(keys):
        # Read before the subscription: a bump made now would never be heard.
        found = dict.fromkeys(keys, 1)
        wait_for(lambda: mirror.subscribed)
        return found

    assert not mirror.subscribed
    mirror.get_many([EPOCH_KEY, page_version_key(7)], read_while_subscribing)
    assert mirror.values == {}


def test_while_redis_is_away_nothing_is_mirrored_and_pages_are_built(
    mirrored, redis_server, caplog
):
    article = make_article()
    make_comment(article, body="Before the outage.")
    assert Client().get(article.get_absolute_url()).status_code == 200
    assert mirrored.values
    redis_server.stop()
    wait_for(lambda: not mirrored.subscribed)
    assert mirrored.values == {}
    response = Client().get(article.get_absolute_url())
    assert response.status_code == 200
    assert "Before the outage." in response.content.decode()
    assert "page versions: not subscribed" in caplog.text

    redis_server.start()
    wait_for(lambda: mirrored.subscribed)
    assert "page versions: subscribed again" in caplog.text
    Client().get(article.get_absolute_url())
    assert mirrored.values


def test_a_new_subscription_starts_from_an_empty_copy(mirrored, redis_server):
    article_page_versions(7)
    # Redis restarted with its data: a bump made while the subscription was down was
    # never heard.
    redis_server.stop()
    redis_server.start()
    wait_for(lambda: mirrored.subscribed)
    assert mirrored.values == {}


def test_databases_of_one_server_do_not_hear_each_other(settings, redis_server):
    use_redis(settings, redis_server.url)
    first = version_mirror()
    use_redis(settings, redis_server.url.removesuffix("/0") + "/1")
    second = version_mirror()
    second.start()
    wait_for(lambda: second.subscribed)
    article_page_versions(7)
    assert first.channel != second.channel
    # Another worker's bump in database 0.
    VersionMirror(redis_server.url, first.channel, first.full_key, EPOCH_KEY).bump(
        page_version_key(7), start=1
    )
    time.sleep(0.2)
    assert page_version_key(7) in second.values


def test_a_change_made_by_another_worker_is_shown_here(mirrored, redis_server, tmp_path):
    article = make_article()
    make_comment(article, body="Soon removed.")
    url = article.get_absolute_url()
    for _ in range(2):
        assert "Soon removed." in Client().get(url).content.decode()
    # Removed by another worker, whose commit hook bumps the version.
    Comment.objects.filter(article=article).update(status=Comment.Status.REMOVED)
    in_child(
        {"REDIS_URL": redis_server.url, "DATABASE_URL": f"sqlite:///{tmp_path}/other.sqlite3"},
        "from django.db import transaction\n"
        "from articles.cache import article_page_changed\n"
        "with transaction.atomic():\n"
        f"    article_page_changed({article.pk})\n",
    )
    wait_for(lambda: "Soon removed." not in Client().get(url).content.decode())


def test_a_reader_told_of_their_published_comment_sees_it_before_this_worker_hears(
    mirrored, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.COMMENT_RATE_LIMIT = "off"
    article = make_article()
    make_comment(article, body="Already here.")
    url = article.get_absolute_url()
    Client().get(url)
    # This worker has not heard of the bump yet: the post is another worker's.
    monkeypatch.setattr(mirrored, "forget", lambda key: None)
    monkeypatch.setattr(mirrored, "_heard", lambda message: None)
    poster = Client()
    version = article_page_versions(article.pk)[1]
    with django_capture_on_commit_callbacks(execute=True):
        posted = poster.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Ann", "email": "ann@example.com", "body": "Just posted.", "parent": ""},
        )
    assert posted.status_code == 302
    assert article_page_versions(article.pk, exact=True)[1] > version
    assert "Just posted." not in Client().get(url).content.decode()
    page = poster.get(posted["Location"], follow=True).content.decode()
    assert "Just posted." in page
