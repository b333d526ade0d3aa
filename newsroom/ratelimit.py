"""Fixed-window counters in the Django cache, shared by every gunicorn worker through Redis.

A window starts at a multiple of its length: one `add` and one `incr` per key, and a burst can
at worst reach twice the limit across a window boundary.
"""

import hashlib
import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from newsroom.redis_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_parse(value: str, setting: str) -> Rate | None:
    """`"N/SECONDS"` as a Rate, `"off"` as None; anything else is a configuration error."""
    if value.strip().lower() == "off":
        return None
    match = RATE_RE.match(value)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(
            f'{setting} must be "N/SECONDS" with N and SECONDS at least 1 '
            f'(for example "5/60"), or "off"; not {value!r}.'
        )
    return Rate(count=int(match[1]), seconds=int(match[2]))


class FixedWindow:
    """At most `rate.count` hits per `rate.seconds` for each value (an IP address, an email…)."""

    def __init__(self, name: str, rate: Rate | None):
        self.name = name
        self.rate = rate

    def _window(self) -> tuple[int, int]:
        """The current window's number and the seconds until the next one."""
        now = time.time()
        window = int(now // self.rate.seconds)
        return window, max(1, int((window + 1) * self.rate.seconds - now + 0.999))

    def _key(self, kind: str, value: str, window: int) -> str:
        # Hashed: an email address is personal data and may hold characters a cache refuses.
        digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
        return f"rate:{self.name}:{kind}:{digest}:{window}"

    def hit(self, **values: str | None) -> int | None:
        """Count one attempt for each value; the seconds to wait when one goes over the limit.

        Without a cache to count in, the attempt is let through (and the failure logged): a
        limit that cannot be counted must not take the site down with it.
        """
        if self.rate is None:
            return None
        try:
            return self._hit(values)
        except CACHE_ERRORS as error:
            logger.warning("rate limit %s not counted: %s", self.name, error)
            return None

    def _hit(self, values: dict[str, str | None]) -> int | None:
        window, retry_after = self._window()
        exceeded = False
        for kind, value in values.items():
            if not value:
                continue
            key = self._key(kind, value, window)
            # add() is a no-op when the key exists, so concurrent workers never reset a count.
            cache.add(key, 0, timeout=self.rate.seconds + 1)
            try:
                count = cache.incr(key)
            except ValueError:
                # Evicted between add() and incr(): this attempt starts a fresh count.
                cache.set(key, 1, timeout=self.rate.seconds + 1)
                count = 1
            exceeded = exceeded or count > self.rate.count
        return retry_after if exceeded else None

    def blocked(self, **values: str | None) -> int | None:
        """Without counting: the seconds to wait when a value has used up its attempts."""
        if self.rate is None:
            return None
        window, retry_after = self._window()
        keys = [self._key(kind, value, window) for kind, value in values.items() if value]
        try:
            counts = cache.get_many(keys).values()
        except CACHE_ERRORS as error:
            logger.warning("rate limit %s not read: %s", self.name, error)
            return None
        return retry_after if any(count >= self.rate.count for count in counts) else None
