"""Fixed-window counters in the "counters" cache, shared by every gunicorn worker through Redis.

A window starts at a multiple of its length: one `add` and one `incr` per key, and a burst can
at worst reach twice the limit across a window boundary. The counters have a cache of their own
(settings.CACHES["counters"]), never the page cache: a flood of page copies must not evict them.

Hand-written rather than django-ratelimit or django-axes. django-ratelimit counts the same way
(cache add and incr, IPv6 per /64), but when its cache is away it has one global choice,
RATELIMIT_FAIL_OPEN: open lets every guess through, closed stops every guest from posting while
Redis is away; here each process keeps counting instead. django-axes keeps its counts in the
database and locks accounts through its own authentication backend and middleware, for what is
one window of failed sign-ins here. (Reasoned from their documentation, not measured.)

When the counter store is away, each process counts in its own memory instead (and logs it): a
limit is then kept per process, looser across workers but never open.
"""

import contextlib
import hashlib
import ipaddress
import logging
import re
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from newsroom.redis_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
# One IPv6 client usually holds a whole /64: counting each address would give it 2**64 buckets.
IPV6_CLIENT_PREFIX = 64

# Counts while the counter store is away, in this process only.
local_counters = LocMemCache("newsroom-counters-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


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


def client_network(address: str) -> str:
    """The part of an IP address that names one client: an IPv4 address, an IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


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

    def _keys(self, values: dict[str, str | None], window: int) -> list[str]:
        keys = []
        for kind, value in values.items():
            if not value:
                continue
            if kind == "ip":
                value = client_network(value)
            # Hashed: an email address is personal data and may hold characters a cache refuses.
            digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
            keys.append(f"rate:{self.name}:{kind}:{digest}:{window}")
        return keys

    def hit(self, **values: str | None) -> int | None:
        """Count one attempt for each value; the seconds to wait when one goes over the limit.

        The attempt is counted before anything is checked, so concurrent attempts each see a
        count of their own and at most `rate.count` of them get through.
        """
        if self.rate is None:
            return None
        window, retry_after = self._window()
        keys = self._keys(values, window)
        try:
            counts = [self._count(caches["counters"], key) for key in keys]
        except CACHE_ERRORS as error:
            logger.warning("rate limit %s counted in this process only: %s", self.name, error)
            counts = [self._count(local_counters, key) for key in keys]
        return retry_after if any(count > self.rate.count for count in counts) else None

    def _count(self, store, key: str) -> int:
        # add() is a no-op when the key exists, so concurrent workers never reset a count.
        store.add(key, 0, timeout=self.rate.seconds + 1)
        try:
            return store.incr(key)
        except ValueError:
            # Expired between add() and incr(): this attempt starts a fresh count.
            store.set(key, 1, timeout=self.rate.seconds + 1)
            return 1

    def forgive(self, **values: str | None) -> None:
        """Take back one attempt for each value (a sign-in that turned out right)."""
        if self.rate is None:
            return
        window, _ = self._window()
        keys = self._keys(values, window)
        try:
            self._take_back(caches["counters"], keys)
        except CACHE_ERRORS:
            self._take_back(local_counters, keys)

    def _take_back(self, store, keys: list[str]) -> None:
        for key in keys:
            # Expired meanwhile: nothing is left to take back.
            with contextlib.suppress(ValueError):
                if store.get(key, 0) > 0:
                    store.decr(key)
