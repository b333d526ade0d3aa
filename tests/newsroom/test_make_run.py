"""`make run`: the site under gunicorn and the task worker beside it, stopped together."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.processes import ROOT, _environment, http_get

# make's own variables from a `make test` that runs this suite would reach the child make.
MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    """A SQLite file of these tests' own: the first `make run` migrates it and loads the seeds."""
    return f"sqlite:///{tmp_path_factory.mktemp('make_run') / 'newsroom.sqlite3'}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_processes(session: int) -> dict[int, str]:
    """The command lines of the live processes in `session`, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # Fields after the command name in parentheses: state, ppid, pgrp, session.
        state, _ppid, _pgrp, sid = stat.rpartition(")")[2].split()[:4]
        if int(sid) == session and state != "Z":
            found[int(entry.name)] = command
    return found


@contextmanager
def make_run(database_url: str, port: int, output: Path) -> Iterator[subprocess.Popen]:
    """`make run` in a session of its own (as a terminal's foreground job), on `port`."""
    env = _environment(
        {"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": database_url, "EMAIL_HOST": ""}
    )
    for name in MAKE_VARIABLES:
        env.pop(name, None)
    with output.open("w") as log:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}", "HOST=127.0.0.1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield make
        finally:
            # After a failure, nothing the run started is left behind (the recipe puts gunicorn
            # and the worker in process groups of their own, in make's session).
            for pid in session_processes(make.pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            make.wait(timeout=30)


def wait_until_served(make: subprocess.Popen, port: int, output: Path) -> None:
    """Until gunicorn answers /healthz and the worker says it has started."""
    deadline = time.monotonic() + 240
    while True:
        try:
            healthy = http_get(port, "/healthz").status == 200
        except OSError:
            healthy = False
        if healthy and "Starting worker" in output.read_text():
            return
        assert make.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.2)


def wait_until_gone(session: int) -> dict[int, str]:
    deadline = time.monotonic() + 10
    while (left := session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def started(processes: dict[int, str]) -> tuple[bool, bool]:
    commands = processes.values()
    return (
        any("gunicorn newsroom.wsgi" in command for command in commands),
        any("manage.py db_worker" in command for command in commands),
    )


@pytest.mark.parametrize(
    "stop",
    [
        # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
        pytest.param(lambda make: os.killpg(make.pid, signal.SIGINT), id="ctrl-c"),
        # A supervisor's TERM to make alone, which make passes on to its recipe.
        pytest.param(lambda make: os.kill(make.pid, signal.SIGTERM), id="term-to-make"),
    ],
)
def test_make_run_serves_the_site_with_the_worker_and_stops_both(database_url, tmp_path, stop):
    port = free_port()
    output = tmp_path / "make-run.log"

    with make_run(database_url, port, output) as make:
        wait_until_served(make, port, output)
        assert started(session_processes(make.pid)) == (True, True)
        stop(make)
        make.wait(timeout=60)
        left = wait_until_gone(make.pid)

    assert left == {}
    printed = output.read_text()
    assert f"Serving Newsroom on http://127.0.0.1:{port}/" in printed
    assert "Mail is written to var/mail/ (set EMAIL_HOST to send it)" in printed
    assert "shutting down gracefully" in printed


def test_ctrl_c_while_the_two_are_starting_stops_both(database_url, tmp_path):
    port = free_port()
    output = tmp_path / "make-run.log"

    with make_run(database_url, port, output) as make:
        deadline = time.monotonic() + 240
        # Before the worker (or gunicorn) has set its own signal handlers.
        while started(session_processes(make.pid)) != (True, True):
            assert make.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.01)
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=60)
        left = wait_until_gone(make.pid)

    assert left == {}


def test_when_gunicorn_cannot_start_the_worker_is_stopped_too(database_url, tmp_path):
    output = tmp_path / "make-run.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with make_run(database_url, port, output) as make:
            returncode = make.wait(timeout=240)
            left = wait_until_gone(make.pid)

    assert returncode != 0
    assert left == {}
    printed = output.read_text()
    assert "Connection in use" in printed
    assert "Starting worker" in printed
    assert "Received Terminated - shutting down gracefully" in printed
