"""Sessions in Redis and the database, which keep working while Redis is away.

Django's cached_db store already reads and writes the database; it survives a failing cache
read and save, but not a failing cache check, refill or delete (a new session, the first read
after Redis came back empty, a sign-out). Here every cache call falls back to the database.
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

from newsroom.redis_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


class ForgivingCache:
    """A cache whose failures read as misses and whose failed writes are logged."""

    def __init__(self, cache):
        self.cache = cache

    def get(self, key, default=None):
        try:
            return self.cache.get(key, default)
        except CACHE_ERRORS as error:
            logger.warning("session cache unavailable: %s", error)
            return default

    def set(self, key, value, timeout):
        try:
            self.cache.set(key, value, timeout)
        except CACHE_ERRORS as error:
            logger.warning("session cache unavailable: %s", error)

    def delete(self, key):
        try:
            self.cache.delete(key)
        except CACHE_ERRORS as error:
            logger.warning("session cache unavailable: %s", error)

    def __contains__(self, key):
        try:
            return key in self.cache
        except CACHE_ERRORS as error:
            logger.warning("session cache unavailable: %s", error)
            return False


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = ForgivingCache(caches[settings.SESSION_CACHE_ALIAS])
