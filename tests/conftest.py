import asyncio
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from aiosmtpd.controller import Controller
from django.db import connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.processes import SECRET, django_process


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

    from articles.cache import missed_bumps, version_mirror
    from articles.page_cache import local_pages
    from newsroom.ratelimit import local_counters

    def clear():
        for alias in ("default", "counters", "pages"):
            caches[alias].clear()
        local_pages.clear()
        local_counters.clear()
        missed_bumps.clear()
        if (mirror := version_mirror()) is not None:
            mirror.clear()

    clear()
    yield
    clear()


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Tests make many accounts, and a password hashed at PBKDF2's production cost takes about
    half a second on a small machine. The production hashers stay listed, so a hash they made
    is still checked."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


# A moment at the start of a window of every length the tests set (60, 360, 900, 3600 s...).
RATE_CLOCK_HELD_AT = 3600 * 500_000


@pytest.fixture(autouse=True)
def _rate_clock_held(monkeypatch):
    """The rate limits count in windows aligned to multiples of their length
    (newsroom/ratelimit.py): a test whose attempts and check fell on both sides of a boundary
    would see its count start again. Their clock holds still in every test; a test of what
    happens as time passes sets `newsroom.ratelimit.time.time` itself."""
    from newsroom import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: RATE_CLOCK_HELD_AT))


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Call a view or a service as a request does: the on-commit callbacks it registers (the
    queued mail and tasks) run when it returns."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


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

    def stop(self, save: bool = True) -> None:
        """Stop the server, saving its data first (SHUTDOWN SAVE), or dropping it."""
        if self.process is None or self.process.poll() is not None:
            return
        # Not retried: the server going away is the answer.
        client = redis.Redis(port=self.port, retry=Retry(NoBackoff(), 0))
        client.shutdown(save=save, nosave=not save)
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


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Tasks run at once in the test's process; tests of the database queue and its worker
    set TASKS back to it."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


class SMTPServer:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it is sent.

    `refusal` set to a reply ("550 5.1.1 No such user") refuses every recipient; `stalling`
    set makes it never answer the message, as a server that hangs.
    """

    def __init__(self, port: int):
        self.host = "127.0.0.1"
        self.port = port
        self.refusal: str | None = None
        self.stalling = False
        # Each MAIL FROM starts a delivery attempt.
        self.attempts = 0
        self.messages: list = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.attempts += 1
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stalling:
            await asyncio.sleep(3600)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"

    def mailers(self, *, timeout: int = 10) -> dict:
        """MAILERS sending to this server, as settings.py makes them from EMAIL_HOST."""
        backend = "django.core.mail.backends.smtp.EmailBackend"
        options = {"host": self.host, "port": self.port, "timeout": timeout}
        return {"default": {"BACKEND": backend, "OPTIONS": options}}

    def environment(self) -> dict[str, str]:
        """The variables that point a child process's mail at this server."""
        return {"EMAIL_HOST": self.host, "EMAIL_PORT": str(self.port)}

    def wait_for_messages(self, count: int, *, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server():
    """An SMTP server of the test's own on a free local port (aiosmtpd), stopped afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SMTPServer(port)
    controller = Controller(server, hostname=server.host, port=port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def queue_database(transactional_db, tmp_path) -> dict[str, str]:
    """DATABASE_URL of a migrated database that child processes (a server, the task worker)
    share with this test: the PostgreSQL test database (rows committed, emptied after the
    test), or on SQLite, whose test database lives in this process's memory, a file of its
    own."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        return {"DATABASE_URL": url}
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    result = django_process(
        {**SECRET, **env},
        "from django.core.management import call_command; call_command('migrate', verbosity=0)",
    )
    assert result.returncode == 0, result.stderr
    return env
