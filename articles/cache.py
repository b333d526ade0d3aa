"""Versioned cache keys for article pages, as pretix keys its caches.

Each article has a version number in the cache, and the whole page cache has an epoch; every
write that changes what a reader sees on the article's page (a new, moderated or removed
comment, a re-import, an edit) bumps the article's version once the transaction commits, so
cached copies of the old page are never served again. A request reads both numbers in one
round trip. Numbers start from the clock, not from 1: after the cache is flushed or evicts
them, no new number can equal one that a copy kept elsewhere (a worker's memory) was stored
under.

A bump that cannot reach the cache (Redis away) is remembered by the process and made before
it next reads a version. And a process that met a cache error bumps the epoch once the cache
answers again, which puts every worker's copies out of reach: Redis may come back with its
data, and the copies from before the outage must not show what was changed during it.

With Redis, each process keeps the versions it read and is told of every bump over pub/sub
(articles/version_mirror.py), so a request reads Redis only for a version it has not seen since
the last change.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.utils.connection import ConnectionProxy
from django.utils.module_loading import import_string
from redis.connection import parse_url

from articles.version_mirror import VersionMirror
from newsroom.redis_cache import CACHE_ERRORS

# The cache of the page copies and their versions, which may evict them (settings.CACHES).
cache = ConnectionProxy(caches, "pages")

logger = logging.getLogger(__name__)

EPOCH_KEY = "article-page-epoch"


def page_version_key(article_id: int) -> str:
    return f"article-page-version:{article_id}"


class MissedBumps:
    """What this process could not tell the cache: articles to bump, and whether the epoch
    must move because the cache failed here."""

    def __init__(self):
        self.articles: set[int] = set()
        self.epoch = False
        self._lock = threading.Lock()

    def note(self, article_id: int | None = None) -> None:
        with self._lock:
            self.epoch = True
            if article_id is not None:
                self.articles.add(article_id)

    def make(self) -> None:
        """Make the bumps missed so far; raises CACHE_ERRORS while the cache is still away."""
        if not self.epoch:
            return
        with self._lock:
            articles, self.articles = self.articles, set()
        try:
            for article_id in articles:
                _bump(page_version_key(article_id))
            _bump(EPOCH_KEY)
        except CACHE_ERRORS:
            with self._lock:
                self.articles |= articles
            raise
        with self._lock:
            self.epoch = bool(self.articles)
        logger.warning("page cache: missed bumps made (%d articles)", len(articles))

    def clear(self) -> None:
        with self._lock:
            self.articles.clear()
            self.epoch = False


missed_bumps = MissedBumps()


# The settings the mirror was made for (the page cache's, the switch), and the mirror.
_mirrored: tuple[dict | None, int | None, VersionMirror | None] = (None, None, None)


def version_mirror() -> VersionMirror | None:
    """This process's mirror of the versions: with a Redis page cache, unless
    PAGE_VERSION_MIRROR is 0. Made again when those settings change."""
    global _mirrored
    config, switch = settings.CACHES["pages"], settings.PAGE_VERSION_MIRROR
    if _mirrored[0] is not config or _mirrored[1] != switch:
        if _mirrored[2] is not None:
            _mirrored[2].stop()
        _mirrored = (config, switch, _mirror_for(config) if switch else None)
    return _mirrored[2]


def _mirror_for(config: dict) -> VersionMirror | None:
    if not issubclass(import_string(config["BACKEND"]), RedisCache):
        return None
    location = config["LOCATION"]
    # Django's RedisCache writes to the first of several servers.
    url = (location if isinstance(location, str) else location[0]).split(",")[0]
    # Channels are shared by the server's databases: the name holds the database and prefix.
    database = parse_url(url).get("db", 0)
    channel = f"{cache.make_key('page-versions')}@{database}"
    return VersionMirror(url, channel, cache.make_and_validate_key, clear_all=EPOCH_KEY)


def _bump(key: str) -> int:
    if (mirror := version_mirror()) is not None:
        return mirror.bump(key, time.time_ns())
    try:
        return cache.incr(key)
    except ValueError:
        version = time.time_ns()
        cache.set(key, version, timeout=None)
        return version


def _read_versions(keys: list[str]) -> dict[str, int]:
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            now = time.time_ns()
            found[key] = now if cache.add(key, now, timeout=None) else cache.get(key, now)
    return found


def article_page_versions(article_id: int, *, exact: bool = False) -> tuple[int, int]:
    """The epoch and the article's version; raises CACHE_ERRORS when the cache is away (the
    caller then builds the page without it). `exact` reads them from the cache itself, not
    from the mirror, which may hear of another worker's bump a few milliseconds late."""
    keys = [EPOCH_KEY, page_version_key(article_id)]
    try:
        missed_bumps.make()
        mirror = None if exact else version_mirror()
        found = _read_versions(keys) if mirror is None else mirror.get_many(keys, _read_versions)
    except CACHE_ERRORS:
        missed_bumps.note()
        raise
    return found[EPOCH_KEY], found[keys[1]]


def article_page_version(article_id: int) -> int:
    """The article's version: it grows with every change of the article's page."""
    return article_page_versions(article_id)[1]


def article_page_changed(article_id: int) -> None:
    """Invalidate the cached pages of this article once the current transaction commits."""

    def bump() -> None:
        try:
            _bump(page_version_key(article_id))
        except CACHE_ERRORS as error:
            # The write that was just committed still answers normally; the bump is made
            # before this process next reads a version.
            logger.warning("page cache: article %s bump missed (%s)", article_id, error)
            missed_bumps.note(article_id)

    transaction.on_commit(bump, robust=True)
