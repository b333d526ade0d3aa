"""The Redis cache backend against the Redis server of REDIS_URL (flushed afterwards)."""

import threading

import pytest

from newsroom.redis_cache import PooledRedisCache


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
