"""What the benchmarks share: a throwaway PostgreSQL database, a gunicorn server on a loopback
port, and closed-loop HTTP clients counting requests per second and the server's CPU time.

The clients run on the same cores as the server, and reading a 100 KB page costs a client far
more than reading "hello", so requests per second understate what the server can do for large
pages. The figure the targets are judged by is the server's own CPU time per request (its
master and worker processes, from /proc), as a share of the "hello" view's: the throughput the
server reaches on cores of its own.
"""

import cProfile
import io
import multiprocessing
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres_database(name: str, server: str = LOCAL_POSTGRES):
    """A fresh database on a loopback PostgreSQL server, dropped afterwards; yields its URL."""
    if "127.0.0.1" not in server and "localhost" not in server:
        raise SystemExit("the benchmarks only talk to a loopback PostgreSQL server")
    admin = f"{server}/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What every browser sends: the pages are compressed for them.
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br"}

# The master process of each gunicorn that gunicorn() runs, by its port.
_server_pids: dict[int, int] = {}


@dataclass(frozen=True)
class Rate:
    per_second: float
    cpu_ms: float  # server CPU time per request


def server_cpu_seconds(port: int) -> float:
    """CPU time used so far by the gunicorn serving `port`: its master and its workers."""
    master = _server_pids[port]
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                line = stat.read()
        except OSError:
            continue
        # After the command name in parentheses: state, ppid, ... utime (12th), stime (13th).
        fields = line[line.rindex(")") + 2 :].split()
        if int(entry.name) == master or int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn(app: str, env: dict[str, str]):
    """gunicorn with the project's gunicorn.conf.py on a free loopback port; yields the port."""
    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, app, "--config", str(ROOT / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--chdir", str(ROOT)],
        cwd=ROOT, env={**env, "GUNICORN_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise SystemExit("gunicorn exited while starting")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer within 30 s") from None
                time.sleep(0.1)
        _server_pids[port] = server.pid
        yield port
    finally:
        _server_pids.pop(port, None)
        server.terminate()
        server.wait(timeout=30)


def _hammer(
    port: int, path: str, seconds: float, headers: dict[str, str], status: int, results
) -> None:
    """Request `path` in a loop for `seconds`, each answer `status`; gunicorn's sync workers
    close each connection."""
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != status:
            raise SystemExit(f"{path} answered {response.status}, not {status}")
        done += 1
    results.put(done)


def http_send(port: int):
    """send(method, path, headers, body) -> (status, Set-Cookie headers, body) over HTTP to the
    gunicorn on `port`."""

    def send(method: str, path: str, headers: dict[str, str], body: str = ""):
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        connection.close()
        return response.status, response.msg.get_all("Set-Cookie") or [], content

    return send


def wsgi_send(application):
    """send() as http_send() answers it, by calling the WSGI `application` in this process."""

    def send(method: str, path: str, headers: dict[str, str], body: str = ""):
        status, set_cookies, chunks = wsgi_request(application, method, path, headers, body)
        return status, set_cookies, b"".join(chunks)

    return send


def wsgi_environ(method: str, path: str, headers: dict[str, str], body: str = "") -> dict:
    """The WSGI environ gunicorn would hand the application for this request."""
    path, _, query = path.partition("?")
    data = body.encode()
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if data:
        environ["CONTENT_LENGTH"] = str(len(data))
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    return environ


def wsgi_request(application, method: str, path: str, headers: dict[str, str], body: str = ""):
    """(status, Set-Cookie headers, body chunks) of one request to a WSGI application, the
    response consumed and closed as a server does it."""
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["cookies"] = [value for name, value in response_headers if name == "Set-Cookie"]

    result = application(wsgi_environ(method, path, headers, body), start_response)
    try:
        chunks = list(result)
    finally:
        result.close()
    return answer["status"], answer["cookies"], chunks


def csrf_cookie(send, path: str) -> dict[str, str]:
    """The Cookie header of a returning reader: the CSRF cookie a first visit to `path` set."""
    _, set_cookies, _ = send("GET", path, {})
    cookie = (set_cookies or [""])[0].split(";")[0]
    if not cookie.startswith("csrftoken="):
        raise SystemExit(f"{path} set no CSRF cookie")
    return {"Cookie": cookie}


def reader_cookies(send, form_page: str, action: str, fields: dict[str, str]) -> dict[str, str]:
    """The Cookie header of a reader who filled in the form on `form_page` and sent it to
    `action` (a comment with "remember" ticked, a sign-in): every cookie the two answers set,
    but the one-off messages, so each request is the reader's ordinary visit."""
    _, set_cookies, content = send("GET", form_page, {})
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
    cookies = _set_cookies(set_cookies)
    if token is None:
        raise SystemExit(f"{form_page} has no form with a CSRF token")
    body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token[1].decode()})
    status, set_cookies, _ = send(
        "POST", action,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(cookies)}, body,
    )
    if status != 302:
        raise SystemExit(f"posting to {action} answered {status}")
    cookies.update(_set_cookies(set_cookies))
    cookies.pop("messages", None)
    return {"Cookie": _header(cookies)}


BENCH_USER = ("bench-editor", "a long bench passphrase")


def personal_views(send, page: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The article `page` as readers with something of their own get it: a remembered name,
    a comment awaiting moderation (two links hold it), a signed-in user (BENCH_USER)."""
    comment = {"name": "Անի Reader", "email": "ani@example.org", "parent": ""}
    remembered = reader_cookies(
        send, page, f"{page}comments/", {**comment, "body": "Remember me.", "remember": "on"}
    )
    pending = reader_cookies(
        send, page, f"{page}comments/",
        {**comment, "body": "See https://a.example/1 and https://b.example/2 ."},
    )
    signed_in = reader_cookies(
        send, "/admin/login/", "/admin/login/?next=/admin/",
        {"username": BENCH_USER[0], "password": BENCH_USER[1], "next": "/admin/"},
    )
    return {
        "article, remembered name": (page, remembered),
        "article, own pending comment": (page, pending),
        "article, signed in": (page, signed_in),
    }


def page_views(send, hello: str, page: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Every view the page benchmarks time, by name: (path, headers)."""
    returning = csrf_cookie(send, page)
    return {
        "hello": (hello, {}),
        "article, cached": (page, returning),
        "article, cached, 1st visit": (page, {}),
        **personal_views(send, page),
        # A query parameter the page cache does not know: built whole, as when cold.
        "article, built anew": (f"{page}?fresh=1", returning),
    }


def _set_cookies(headers: list[str]) -> dict[str, str]:
    """The cookies set by Set-Cookie `headers`, without those they delete (set to `""`), which
    a browser would no longer send."""
    pairs = (header.split(";")[0].split("=", 1) for header in headers)
    return {name: value for name, value in pairs if value not in ("", '""')}


def _header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def requests_per_second(
    port: int,
    path: str,
    seconds: float,
    clients: int,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Rate:
    """Requests per second of `clients` processes each requesting `path` for `seconds` (each
    answer `status`), and the server's CPU time per request meanwhile."""
    results = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_hammer,
            args=(port, path, seconds, {**BROWSER_HEADERS, **(headers or {})}, status, results),
        )
        for _ in range(clients)
    ]
    cpu_before = server_cpu_seconds(port)
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    elapsed = time.perf_counter() - start
    cpu = server_cpu_seconds(port) - cpu_before
    for worker in workers:
        worker.join()
    return Rate(per_second=total / elapsed, cpu_ms=1000 * cpu / total)


def views_per_second(
    port: int, views: dict[str, tuple], seconds: float, clients: int
) -> dict[str, Rate]:
    """Requests per second and server CPU per request of each named view, (path, headers) or
    (path, headers, the status every answer must have): a warm-up second each, then two runs
    of `seconds` in turn, so a drift of the machine touches every view alike."""
    for path, headers, *status in views.values():
        requests_per_second(port, path, 1.0, clients, headers, *status)
    runs: dict[str, list[Rate]] = {name: [] for name in views}
    for _ in range(2):
        for name, (path, headers, *status) in views.items():
            runs[name].append(requests_per_second(port, path, seconds, clients, headers, *status))
    return {
        name: Rate(
            per_second=statistics.mean(rate.per_second for rate in rates),
            cpu_ms=statistics.mean(rate.cpu_ms for rate in rates),
        )
        for name, rates in runs.items()
    }


def in_process_cpu(
    application, views: dict[str, tuple[str, dict[str, str]]], runs: int = 5, seconds: float = 0.3
) -> dict[str, float]:
    """CPU milliseconds per request of each named (path, headers) view, served by calling the
    WSGI `application` in this process (no server, no client: the figure moves much less with
    the machine's load than a server's does). Each run requests a view for about `seconds` of
    CPU, the views in turn; a view's figure is its best run."""
    for path, headers in views.values():
        _in_process_run(application, path, {**BROWSER_HEADERS, **headers}, 0.05)
    best = {name: float("inf") for name in views}
    for _ in range(runs):
        for name, (path, headers) in views.items():
            ms = _in_process_run(application, path, {**BROWSER_HEADERS, **headers}, seconds)
            best[name] = min(best[name], ms)
    return best


def _in_process_run(application, path: str, headers: dict[str, str], seconds: float) -> float:
    done = 0
    start = time.process_time()
    while (spent := time.process_time() - start) < seconds or done < 3:
        status, _, _ = wsgi_request(application, "GET", path, headers)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        done += 1
    return 1000 * spent / done


def print_in_process(cpu_ms: dict[str, float], baseline: str) -> None:
    """Each view's CPU per request in process, and its share of the baseline's throughput."""
    print(f"{'view':<30} {'CPU ms/req':>11} {'x ' + baseline:>8}")
    for name, ms in cpu_ms.items():
        print(f"{name:<30} {ms:>11.3f} {cpu_ms[baseline] / ms:>8.2f}")


def profile_views(
    application, views: dict[str, tuple[str, dict[str, str]]], names: list[str], limit: int = 60
) -> None:
    """cProfile of 200 requests to each view in `names`, in this process: the functions that
    take the most time of their own, then by time spent in them and below."""
    for name in names:
        path, headers = views[name]
        headers = {**BROWSER_HEADERS, **headers}
        _in_process_run(application, path, headers, 0.05)
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(200):
            wsgi_request(application, "GET", path, headers)
        profile.disable()
        print(f"\n== {name}: 200 requests")
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("cumulative").print_stats(limit)


# The figures the page cache must reach, as shares of the "hello" view's throughput in server
# CPU time per request. A page built whole (a cold cache) must be no slower than before the
# frame was cached: 1.38 ms for hello against 28 ms, 0.049 x, in the README's table then.
TARGETS = {
    "article, cached": 0.8,
    "article, remembered name": 0.25,
    "article, own pending comment": 0.25,
    "article, signed in": 0.25,
    "article, built anew": 0.049,
}


def print_rates(rates: dict[str, Rate], baseline: str) -> None:
    """Each view's requests per second and server CPU per request, each beside the baseline's
    (for CPU, the baseline's time over the view's: the share of its throughput), and the
    target the view's CPU share must reach, met or not."""
    base = rates[baseline]
    print(
        f"{'view':<30} {'req/s':>8} {'x ' + baseline:>8} {'CPU ms/req':>11} {'x ' + baseline:>8}"
        f"  target (CPU)"
    )
    for name, rate in rates.items():
        share = base.cpu_ms / rate.cpu_ms
        target = ""
        if name in TARGETS:
            verdict = "met" if share >= TARGETS[name] else "NOT met"
            target = f"  >= {TARGETS[name]:.3g}  {verdict}"
        print(
            f"{name:<30} {rate.per_second:>8.0f} {rate.per_second / base.per_second:>8.2f} "
            f"{rate.cpu_ms:>11.3f} {share:>8.2f}{target}"
        )
