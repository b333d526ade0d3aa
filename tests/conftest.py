import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    from articles.cache import missed_bumps
    from articles.page_cache import local_pages
    from newsroom.ratelimit import local_counters

    def clear():
        for alias in ("default", "counters"):
            caches[alias].clear()
        local_pages.clear()
        local_counters.clear()
        missed_bumps.clear()

    clear()
    yield
    clear()


@pytest.fixture
def redis_url():
    """The Redis server CI starts (REDIS_URL, a database of this suite's own), flushed after."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set: these tests need a Redis server")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"REDIS_URL={url} is set but its server does not answer")
    yield url
    client.flushdb()
    client.close()


@dataclass
class RedisServer:
    """A redis-server this test started, on a port of its own; only this one is stopped."""

    directory: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        # Saved to its own directory on shutdown, so a restart comes back with its data.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--save", "3600 1", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the test's redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        """Stop the server, saving its data first (SHUTDOWN SAVE)."""
        if self.process is None or self.process.poll() is not None:
            return
        redis.Redis(port=self.port).shutdown(save=True)
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free port, for tests that take Redis away and back."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH")
    server = RedisServer(directory=tmp_path)
    server.start()
    yield server
    server.stop()
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
