import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def conf(monkeypatch, **env):
    for name in ("REDIS_URL", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_BIND", "PORT"):
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
