"""This process's copy of the page versions (articles/cache.py), told of every change over Redis
pub/sub, so that serving a cached page costs no round trip to Redis.

Without it every request reads the versions from Redis: one MGET, about a third of the CPU a
cached page costs under gunicorn (bench/bench_cache.py runs the pages with the mirror and
without it). With it:

- Every bump writes the new version and publishes the name of its key on the channel in one
  Redis transaction (`bump`): no process can change a version without telling the others.
- A thread of each process listens on the channel. Each message drops the named key from the
  copy (the epoch drops them all) and moves a generation counter on.
- A read is answered from the copy when it holds every key asked for. Otherwise it is read
  from Redis, and what was read is kept only if the generation did not move meanwhile: a
  message that arrives while the read is on its way (a change it may have missed) leaves
  nothing behind.
- Until the subscription is confirmed, and from the moment it fails (Redis away or restarted),
  the copy is empty and every read goes to Redis, as without the mirror. Each new subscription
  starts from an empty copy, since bumps made while it was down were never heard.
- The process that bumps drops the key from its own copy at once, without waiting for the
  message. Another worker hears of it within milliseconds; a reader who is told of what they
  have just done (a message waits for them, such as "your comment is published") gets a page
  made under the versions read from Redis itself (articles/page_cache.py, `has_messages`), in
  case their next request reaches a worker that has not heard yet.

A silent network failure is found by the listener's health check within HEALTH_SECONDS plus the
socket's timeout; until then the copy is trusted. A version only changes through `bump`, or
when it is missing from Redis (evicted, flushed, Redis restarted) and set again from the clock;
a copy that still holds the old number then only serves copies stored under it, built before
any later bump, which is published as always.
"""

import contextlib
import logging
import os
import threading
import weakref

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# Seconds between the listener's health checks (a PING on the subscription) and to wait for an
# answer, and before it subscribes again after a failure.
HEALTH_SECONDS = 1.0
SOCKET_SECONDS = 2.0
RETRY_SECONDS = 0.5
# A copy larger than this (versions of many articles) starts again from empty.
MAX_KEYS = 100_000


class VersionMirror:
    """The versions kept under `keys` of the Redis database at `url` (whose full names are
    `full_key(key)`), mirrored in this process while subscribed to `channel`.

    `clear_all` is the key whose change makes every copy stale (the epoch)."""

    def __init__(self, url: str, channel: str, full_key, clear_all: str):
        self.url = url
        self.channel = channel
        self.full_key = full_key
        self.clear_all = clear_all
        self.values: dict[str, int] = {}
        self.generation = 0
        self.subscribed = False
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stopped = threading.Event()
        self._client: redis.Redis | None = None
        self._failing = False
        forked = weakref.WeakMethod(self._forked)
        os.register_at_fork(after_in_child=lambda: (method := forked()) and method())

    def _forked(self) -> None:
        # The parent's thread does not exist in the child, and may have held the lock.
        self._lock = threading.Lock()
        self._pid = None
        self.subscribed = False
        self.values = {}
        self._client = None

    # Reading

    def get_many(self, keys: list[str], read) -> dict[str, int]:
        """The versions under `keys`: this process's copy when it holds them all, else
        `read(keys)`, which reads Redis and raises CACHE_ERRORS when it is away."""
        self.start()
        generation = self.generation
        if self.subscribed:
            values = self.values
            try:
                return {key: values[key] for key in keys}
            except KeyError:
                pass
        found = read(keys)
        with self._lock:
            if self.subscribed and self.generation == generation:
                if len(self.values) >= MAX_KEYS:
                    self.values.clear()
                self.values.update(found)
        return found

    def forget(self, key: str) -> None:
        """Drop `key` (all keys for the epoch) and refuse what reads already under way would
        keep."""
        with self._lock:
            self.generation += 1
            if key == self.clear_all:
                self.values.clear()
            else:
                self.values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self.values.clear()

    # Writing

    def bump(self, key: str, start: int) -> int:
        """Move the version under `key` on by one (or set it to `start` when Redis has none) and
        tell every process, in one transaction; raises CACHE_ERRORS when Redis is away. This
        process forgets the key whatever happens."""
        try:
            with self._redis().pipeline(transaction=True) as pipe:
                full = self.full_key(key)
                pipe.set(full, start, nx=True)
                pipe.incr(full)
                pipe.publish(self.channel, key)
                return pipe.execute()[1]
        finally:
            self.forget(key)

    def _redis(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.url)
        return self._client

    # Listening

    def start(self) -> None:
        """Listen in this process: a forked worker starts its own thread, with an empty copy."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._listen, daemon=True, name="page-versions").start()

    def stop(self) -> None:
        """Stop listening (the thread ends within HEALTH_SECONDS); reads then go to Redis."""
        self._stopped.set()
        self._reset(subscribed=False)
        if self._client is not None:
            self._client.close()

    def _reset(self, *, subscribed: bool) -> None:
        """Start from an empty copy, trusted from now on or not at all."""
        with self._lock:
            self.generation += 1
            self.values.clear()
            self.subscribed = subscribed

    def _listen(self) -> None:
        while not self._stopped.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    self.url,
                    socket_timeout=SOCKET_SECONDS,
                    socket_connect_timeout=SOCKET_SECONDS,
                    health_check_interval=HEALTH_SECONDS,
                    # A failure ends the subscription here, where it is seen, rather than being
                    # retried out of sight while messages may be lost.
                    retry=Retry(NoBackoff(), 0),
                )
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=HEALTH_SECONDS)
                    if message is not None:
                        self._heard(message)
            except (redis.RedisError, OSError, ValueError) as error:
                if not self._failing:
                    logger.warning("page versions: not subscribed (%s); reading Redis", error)
                    self._failing = True
            finally:
                self._reset(subscribed=False)
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()
            self._stopped.wait(RETRY_SECONDS)

    def _heard(self, message: dict) -> None:
        if message["type"] == "subscribe":
            self._reset(subscribed=True)
            if self._failing:
                logger.warning("page versions: subscribed again")
                self._failing = False
        elif message["type"] == "message":
            self.forget(message["data"].decode())
