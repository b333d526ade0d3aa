"""Page versions shared through Redis pub/sub, against the local Redis server."""

import time
import uuid

import pytest
import redis

from articles.cache import VersionMirror
from tests.processes import django_process

REDIS = "redis://127.0.0.1:6379/15"


def eventually(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def server():
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379 (CI starts one)")
    return client


@pytest.fixture
def mirror(server):
    mirror = VersionMirror(REDIS, channel=f"test-versions-{uuid.uuid4().hex}", retry_seconds=0.1)
    mirror.start()
    assert eventually(lambda: mirror.ready)
    return mirror


class Reads:
    """A stand-in for the read of the shared cache, counting its calls."""

    def __init__(self, value: int):
        self.value = value
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.value


def test_an_announced_version_reaches_the_other_processes(server, mirror):
    server.publish(mirror.channel, "7 1000")
    assert eventually(lambda: mirror.versions.get(7) == 1000)
    read = Reads(1)
    assert mirror.version(7, read) == 1000
    assert read.calls == 0


def test_once_read_a_version_is_kept_and_the_shared_cache_not_asked_again(mirror):
    read = Reads(42)
    assert [mirror.version(3, read) for _ in range(5)] == [42] * 5
    assert read.calls == 1


def test_a_late_announcement_never_takes_a_version_back(server, mirror):
    mirror.announce(5, 20)
    server.publish(mirror.channel, "5 19")
    server.publish(mirror.channel, "6 1")
    assert eventually(lambda: 6 in mirror.versions)
    assert mirror.versions[5] == 20


def test_the_process_that_bumps_sees_its_version_at_once(mirror):
    mirror.announce(9, 77)
    assert mirror.version(9, Reads(1)) == 77


def test_before_it_is_subscribed_every_request_reads_the_shared_cache():
    mirror = VersionMirror("redis://127.0.0.1:1/0", retry_seconds=0.1)
    read = Reads(5)
    assert [mirror.version(1, read) for _ in range(3)] == [5, 5, 5]
    assert read.calls == 3
    assert mirror.versions == {}


def test_a_stopped_mirror_stops_trying_and_warns_once_per_outage(caplog):
    mirror = VersionMirror("redis://127.0.0.1:1/0", retry_seconds=0.01)
    mirror.start()
    time.sleep(0.2)
    mirror.stop()
    mirror.thread.join(timeout=5)
    assert not mirror.thread.is_alive()
    # Other mirrors of this process may be failing too: count this one's records only.
    own = [r for r in caplog.records if r.thread == mirror.thread.ident]
    assert [r.getMessage().startswith("page versions: not subscribed") for r in own] == [True]
    assert not mirror.ready


def test_after_the_subscription_drops_it_forgets_what_it_may_have_missed(server, mirror):
    mirror.remember(1, 5)
    generation = mirror.generation
    server.client_kill_filter(_type="pubsub")
    assert eventually(lambda: mirror.generation > generation and mirror.ready)
    assert 1 not in mirror.versions
    read = Reads(6)
    assert mirror.version(1, read) == 6 and read.calls == 1


def test_a_bump_in_another_process_reaches_this_one(server, mirror, settings):
    settings.REDIS_URL = REDIS
    code = (
        "from articles import cache\n"
        f"cache.CHANNEL = {mirror.channel!r}\n"
        "cache.version_mirror().channel = cache.CHANNEL\n"
        "cache.article_page_changed(12)\n"
    )
    result = django_process({"DJANGO_SECRET_KEY": "x" * 50, "REDIS_URL": REDIS}, code)
    assert result.returncode == 0, result.stderr
    assert eventually(lambda: 12 in mirror.versions)
    key = "newsroom:1:article-page-version:12"
    assert int(server.get(key)) == mirror.versions[12]
    server.delete(key)
