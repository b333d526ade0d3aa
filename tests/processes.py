"""Running Django in a fresh process, for what only start-up shows (settings, a second worker)."""

import http.client
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A secret key for child processes, which run without DJANGO_DEBUG.
SECRET = {"DJANGO_SECRET_KEY": "x" * 50}
# The project's own settings in this process's environment; the child gets only those given.
OWN_SETTINGS = (
    "DJANGO_", "DATABASE_", "REDIS_", "COUNTERS_", "COMMENT", "ADMIN_LOGIN_", "ARTICLE_PAGE_",
    "TRUSTED_PROXY_", "GUNICORN_", "PORT", "NOTIFY_",
)


def django_process(
    env: dict[str, str], code: str, *, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run `code` after `django.setup()` with newsroom's settings and `env` as their source."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + textwrap.dedent(code)],
        cwd=ROOT, env=_environment(env), capture_output=True, text=True, timeout=timeout,
    )


def in_child(env: dict[str, str], code: str) -> str:
    """Run `code` in a process of its own (a request's, a moderator's) on the shared database;
    its output."""
    result = django_process({**SECRET, **env}, code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def gunicorn_command(env: dict[str, str]) -> tuple[list[str], dict[str, str], int]:
    """The command line and environment that start gunicorn with gunicorn.conf.py on a free
    port, and that port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    full = _environment({"GUNICORN_BIND": f"127.0.0.1:{port}", **env})
    return [sys.executable, "-m", "gunicorn", "newsroom.wsgi"], full, port


@contextmanager
def gunicorn_server(env: dict[str, str]) -> Iterator[int]:
    """A running gunicorn (the project's configuration) with `env`; yields its port."""
    command, full, port = gunicorn_command(env)
    server = subprocess.Popen(
        command, cwd=ROOT, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def db_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py db_worker`, as `make run` and the compose file start it, writing to `log`."""
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay"],
            cwd=ROOT, env=_environment({**SECRET, **env}), stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            yield worker
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def http_get(port: int, path: str) -> http.client.HTTPResponse:
    """GET `path` from the server on `port`; the response, its body read, whatever its status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _environment(env: dict[str, str]) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    full.update(env, DJANGO_SETTINGS_MODULE="newsroom.settings")
    return full


def task_statuses(env: dict[str, str]) -> list[str]:
    """The statuses of the tasks in the queue database of `env`, oldest first."""
    result = django_process(
        {**SECRET, **env},
        """
        from django_tasks_db.models import DBTaskResult
        print(*DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True))
        """,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()
