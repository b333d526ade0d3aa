"""The posting rate limit: at most N comments per SECONDS from one IP address or one email.

Counts live in the Django cache, so with Redis configured the limit holds across every gunicorn
worker. Each window is fixed (it starts at a multiple of SECONDS): simple, one `add` and one
`incr` per key, and a burst can at worst reach twice the limit across a window boundary.
"""

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: int


def parse_rate_limit(value: str) -> RateLimit | None:
    """`"N/SECONDS"` as a RateLimit, `"off"` as None; anything else is a configuration error."""
    if value.strip().lower() == "off":
        return None
    match = RATE_RE.match(value)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(
            f'COMMENT_RATE_LIMIT must be "N/SECONDS" with N and SECONDS at least 1 '
            f'(for example "5/60"), or "off"; not {value!r}.'
        )
    return RateLimit(count=int(match[1]), seconds=int(match[2]))


def configured_rate_limit() -> RateLimit | None:
    return parse_rate_limit(settings.COMMENT_RATE_LIMIT)


def _cache_key(kind: str, value: str, window: int) -> str:
    # Hashed: an email address is personal data and may hold characters memcached refuses.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"comment-rate:{kind}:{digest}:{window}"


def posting_throttle(*, ip_address: str | None, email: str) -> int | None:
    """Count one posting attempt; return the seconds to wait when it goes over the limit.

    Returns None while the attempt is allowed (or the limit is off).
    """
    limit = configured_rate_limit()
    if limit is None:
        return None
    now = time.time()
    window = int(now // limit.seconds)
    retry_after = max(1, int((window + 1) * limit.seconds - now + 0.999))
    exceeded = False
    for kind, value in (("ip", ip_address), ("email", email)):
        if not value:
            continue
        key = _cache_key(kind, value, window)
        # add() is a no-op when the key exists, so concurrent workers never reset a count.
        cache.add(key, 0, timeout=limit.seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:
            # Evicted between add() and incr(): this attempt starts a fresh count.
            cache.set(key, 1, timeout=limit.seconds + 1)
            count = 1
        exceeded = exceeded or count > limit.count
    return retry_after if exceeded else None
