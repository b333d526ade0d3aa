"""Versioned cache keys for article pages.

Each article has a version number in the cache; every write that changes what a reader sees
on the article's page (a new, moderated or removed comment, a re-import) bumps it once the
transaction commits, so cached copies of the old page are never served again. A version starts
from the clock, not from 1: after the cache is flushed or restarted, no new version can equal
one that a copy kept elsewhere (a worker's memory) was stored under.
"""

import time

from django.core.cache import cache
from django.db import transaction


def page_version_key(article_id: int) -> str:
    return f"article-page-version:{article_id}"


def article_page_version(article_id: int) -> int:
    return cache.get_or_set(page_version_key(article_id), time.time_ns, timeout=None)


def article_page_changed(article_id: int) -> None:
    """Invalidate the cached pages of this article once the current transaction commits."""

    def bump() -> None:
        key = page_version_key(article_id)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, time.time_ns(), timeout=None)

    transaction.on_commit(bump)
