"""Validators for public answers that other programs poll (the feeds, the JSON API).

The ETag is the hash of the answer itself, so it changes exactly when the answer does. The
Last-Modified date is when this address first gave this answer, remembered in the cache with
its ETag: a date taken from the rows would stay put when a comment is removed or an article
deleted, and a client that sends only If-Modified-Since would keep a stale copy. With the cache
away, or the record evicted, the date is now: the client gets the whole answer again, never a
wrong 304.
"""

import hashlib
import logging
import time
from functools import wraps

from django.core.cache import caches
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.connection import ConnectionProxy
from django.utils.http import http_date

from newsroom.redis_cache import CACHE_ERRORS

# The validators' records live with the page copies, a cache that may evict them.
cache = ConnectionProxy(caches, "pages")

logger = logging.getLogger(__name__)

# How long a client or a shared cache may reuse an answer without asking again.
MAX_AGE_SECONDS = 60
# A record outlives any client's copy worth revalidating; the cache may drop it sooner.
RECORD_SECONDS = 24 * 3600


def _record_key(request) -> str:
    address = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"answer-since:{address}"


def answer_since(request, etag: str) -> int:
    """The second from which this address has given the answer tagged `etag`.

    A new answer is dated after the one before it, even within the same second, so a client's
    If-Modified-Since from the old answer never matches the new one.
    """
    key = _record_key(request)
    now = int(time.time())
    try:
        stored = cache.get(key)
        if stored is not None and stored[0] == etag:
            return stored[1]
        since = max(now, stored[1] + 1) if stored is not None else now
        cache.set(key, (etag, since), RECORD_SECONDS)
    except CACHE_ERRORS as error:
        logger.warning("answer dates unavailable, dated now: %s", error)
        return now
    return since


def revalidated(view):
    """Send the view's successful answers with an ETag, a Last-Modified date and a public
    Cache-Control, and answer 304 to a request that already holds them."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming:
            return response
        set_response_etag(response)
        since = answer_since(request, response["ETag"])
        response["Last-Modified"] = http_date(since)
        patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
        return get_conditional_response(
            request, etag=response["ETag"], last_modified=since, response=response
        )

    return wrapper
