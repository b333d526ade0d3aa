import multiprocessing
import runpy
import socket
import time
from pathlib import Path

import pytest

from tests.processes import gunicorn_server, http_get

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def conf(monkeypatch, **env):
    for name in (
        "REDIS_URL", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_BIND", "PORT",
        "GUNICORN_CONTROL_SOCKET",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_with_redis_every_cpu_gets_worker_processes(monkeypatch):
    values = conf(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0")
    assert values["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert values["threads"] == 1


def test_without_redis_one_process_serves_with_threads(monkeypatch):
    # The cache is the process's memory: a second process would keep other page versions.
    values = conf(monkeypatch)
    assert (values["workers"], values["threads"]) == (1, 8)


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:6379/0"])
def test_the_environment_decides_in_the_end(monkeypatch, redis_url):
    values = conf(
        monkeypatch, REDIS_URL=redis_url, GUNICORN_WORKERS="3", GUNICORN_THREADS="2", PORT="9000"
    )
    assert (values["workers"], values["threads"], values["bind"]) == (3, 2, "127.0.0.1:9000")
    assert values["accesslog"] == "-" and values["errorlog"] == "-"


def test_the_control_socket_is_off_unless_given_a_path_of_its_own(monkeypatch, tmp_path):
    assert conf(monkeypatch)["control_socket_disable"] is True

    values = conf(monkeypatch, GUNICORN_CONTROL_SOCKET=str(tmp_path / "one.ctl"))

    assert values["control_socket"] == str(tmp_path / "one.ctl")
    assert values["control_socket_disable"] is False


def test_a_running_instance_creates_no_shared_control_socket(tmp_path):
    # gunicorn's default path is $XDG_RUNTIME_DIR/gunicorn.ctl, else ~/.gunicorn/gunicorn.ctl.
    env = {"DJANGO_SECRET_KEY": "x" * 50, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)}
    with gunicorn_server(env) as port:
        assert http_get(port, "/healthz").status == 200
        # The control socket starts in a thread once the workers are spawned: give it time.
        time.sleep(2)
        assert sorted(path.name for path in tmp_path.rglob("*")) == []


def raw_answer(port: int, request: bytes) -> tuple[str, dict[str, str]]:
    """Send `request` as it is; the status line and the headers of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return head[0], dict(line.split(": ", 1) for line in head[1:])


def test_gunicorns_own_error_answers_carry_the_security_headers():
    with gunicorn_server({"DJANGO_SECRET_KEY": "x" * 50}) as port:
        answers = [
            raw_answer(port, b"NOT A REQUEST LINE\r\n\r\n"),
            raw_answer(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            raw_answer(
                port, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
            ),
        ]

    assert [status.split(" ")[1] for status, _ in answers] == ["400", "414", "431"]
    for _, headers in answers:
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
