"""Versioned cache keys for article pages.

Each article has a version number in the cache; every write that changes what a reader sees
on the article's page (a new, moderated or removed comment, a re-import, an edit) bumps it once
the transaction commits, so cached copies of the old page are never served again. A version
starts from the clock, not from 1: after the cache is flushed or restarted, no new version can
equal one that a copy kept elsewhere (a worker's memory) was stored under.

With Redis, reading the version on every page view would cost a round trip per request. Each
process keeps a copy of the versions instead, and every bump is published on a Redis channel
that a thread of each process listens to: the process that bumps sees its new version at once,
the others within milliseconds. While a process is not subscribed (starting, or after Redis
went away), it reads the version from Redis on every request, and it forgets its copies each
time it subscribes again, since it may have missed bumps meanwhile.
"""

import logging
import os
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CHANNEL = "newsroom:article-page-versions"


def page_version_key(article_id: int) -> str:
    return f"article-page-version:{article_id}"


class VersionMirror:
    """This process's copy of the article versions, kept current through Redis pub/sub.

    Versions only grow (an increment, or the clock after a reset), so a copy keeps the highest
    it has heard of and an announcement arriving late never takes it back.
    """

    def __init__(self, redis_url: str, channel: str = CHANNEL, retry_seconds: float = 1.0):
        self.redis_url = redis_url
        self.channel = channel
        self.retry_seconds = retry_seconds
        self.versions: dict[int, int] = {}
        # Counts subscriptions: a version read before the current one may predate a lost bump.
        self.generation = 0
        self.ready = False
        self._pid: int | None = None
        self._stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._publisher: redis.Redis | None = None

    def start(self) -> None:
        """Start listening in this process (a forked worker starts its own thread)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.ready = False
            self.versions = {}
            self._publisher = None
            self.thread = threading.Thread(target=self._listen, daemon=True, name="page-versions")
            self.thread.start()

    def stop(self) -> None:
        """Stop trying to subscribe again (a listening thread ends at its next failure)."""
        self._stopped.set()
        self.ready = False

    def _listen(self) -> None:
        failing = False
        while not self._stopped.is_set():
            try:
                pubsub = redis.Redis.from_url(self.redis_url).pubsub()
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self.versions.clear()
                        self.generation += 1
                        self.ready = True
                        if failing:
                            logger.warning("page versions: subscribed again")
                            failing = False
                    elif message["type"] == "message":
                        article_id, version = map(int, message["data"].split())
                        self.remember(article_id, version)
            except (redis.RedisError, OSError, ValueError) as error:
                # Once per outage, not at every retry.
                if not failing:
                    logger.warning("page versions: not subscribed (%s); reading Redis", error)
                failing = True
            self.ready = False
            self._stopped.wait(self.retry_seconds)

    def remember(self, article_id: int, version: int) -> None:
        if version > self.versions.get(article_id, 0):
            self.versions[article_id] = version

    def version(self, article_id: int, read) -> int:
        """The article's version: this process's copy when it can be trusted, else `read()`."""
        self.start()
        generation = self.generation if self.ready else None
        if generation is not None and article_id in self.versions:
            return self.versions[article_id]
        version = read()
        if generation is not None and self.generation == generation and self.ready:
            self.remember(article_id, version)
        return version

    def announce(self, article_id: int, version: int) -> None:
        self.remember(article_id, version)
        try:
            if self._publisher is None:
                self._publisher = redis.Redis.from_url(self.redis_url)
            self._publisher.publish(self.channel, f"{article_id} {version}")
        except redis.RedisError as error:
            logger.warning("page versions: article %s bump not announced (%s)", article_id, error)


_mirror: VersionMirror | None = None


def version_mirror() -> VersionMirror | None:
    """The process's mirror when the cache is Redis; None with a local-memory cache."""
    global _mirror
    if not settings.REDIS_URL:
        return None
    if _mirror is None or _mirror.redis_url != settings.REDIS_URL:
        if _mirror is not None:
            _mirror.stop()
        _mirror = VersionMirror(settings.REDIS_URL)
    return _mirror


def _stored_version(article_id: int) -> int:
    return cache.get_or_set(page_version_key(article_id), time.time_ns, timeout=None)


def article_page_version(article_id: int) -> int:
    mirror = version_mirror()
    if mirror is None:
        return _stored_version(article_id)
    return mirror.version(article_id, lambda: _stored_version(article_id))


def article_page_changed(article_id: int) -> None:
    """Invalidate the cached pages of this article once the current transaction commits."""

    def bump() -> None:
        key = page_version_key(article_id)
        try:
            version = cache.incr(key)
        except ValueError:
            version = time.time_ns()
            cache.set(key, version, timeout=None)
        mirror = version_mirror()
        if mirror is not None:
            mirror.announce(article_id, version)

    # Robust: with Redis away, the write that was just committed still answers normally (the
    # failure is logged); the pages Redis held went away with it.
    transaction.on_commit(bump, robust=True)
