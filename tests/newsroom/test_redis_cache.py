"""The Redis cache backend against the Redis server of REDIS_URL (flushed afterwards)."""

import threading

import pytest

from newsroom.redis_cache import LocalFallbackRedisCache, PooledRedisCache

# Nothing listens on port 1: every connection is refused at once.
AWAY = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_cache(redis_url):
    return PooledRedisCache(redis_url, {"KEY_PREFIX": "test"})


def test_it_stores_reads_counts_and_deletes(redis_cache):
    redis_cache.set("page", (b"<html>", "text/html"), 60)
    assert redis_cache.get("page") == (b"<html>", "text/html")
    assert redis_cache.add("count", 0, 60) is True
    assert redis_cache.add("count", 5, 60) is False
    assert [redis_cache.incr("count") for _ in range(3)] == [1, 2, 3]
    assert redis_cache.get_many(["page", "count", "missing"]) == {
        "page": (b"<html>", "text/html"),
        "count": 3,
    }
    redis_cache.delete_many(["page", "count"])
    assert redis_cache.get("page") is None
    with pytest.raises(ValueError):
        redis_cache.incr("count")


def test_one_client_serves_every_operation(redis_cache):
    redis_cache.set("a", 1, 60)
    client = redis_cache._cache.get_client(write=True)
    redis_cache.get("a")
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client()


def test_threads_share_the_client_safely(redis_cache):
    redis_cache.set("hits", 0, 60)

    def work():
        for _ in range(200):
            redis_cache.incr("hits")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_cache.get("hits") == 1600


def test_the_fallback_cache_uses_redis_while_it_answers(redis_url, redis_cache):
    fallback = LocalFallbackRedisCache(redis_url, {"KEY_PREFIX": "test"})
    fallback.set("limit", [1, 2], 60)
    assert redis_cache.get("limit") == [1, 2]
    assert fallback.add("count", 0, 60) is True
    assert [fallback.incr("count") for _ in range(2)] == [1, 2]
    assert redis_cache.get("count") == 2


def test_with_redis_away_the_fallback_cache_keeps_everything_in_memory(caplog):
    fallback = LocalFallbackRedisCache(AWAY, {"KEY_PREFIX": "test"})
    fallback.clear()
    assert fallback.get("limit", []) == []
    fallback.set("limit", [1, 2], 60)
    assert fallback.get("limit") == [1, 2]
    assert fallback.has_key("limit")
    assert fallback.add("count", 0, 60) is True
    assert fallback.add("count", 5, 60) is False
    assert [fallback.incr("count") for _ in range(2)] == [1, 2]
    assert fallback.decr("count") == 1
    assert fallback.get_or_set("made", lambda: "once", 60) == "once"
    fallback.set_many({"a": 1, "b": 2}, 60)
    assert fallback.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    fallback.delete_many(["a", "b"])
    assert fallback.touch("limit", 120) is True
    fallback.delete("limit")
    assert fallback.get("limit") is None
    with pytest.raises(ValueError):
        fallback.incr("missing")
    assert "cache away" in caplog.text
