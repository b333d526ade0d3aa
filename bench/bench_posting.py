"""Benchmark of posting replies into one comment thread over HTTP, on PostgreSQL, under gunicorn.

    .venv/bin/python bench/bench_posting.py            # 300 replies per concurrency level
    .venv/bin/python bench/bench_posting.py --quick    # 60 replies per level

Creates a fresh PostgreSQL database (dropped at the end), migrates it, creates one article with
one top-level comment, and serves it with gunicorn on a loopback port, with Redis database 13
(flushed first) as the cache and COMMENT_RATE_LIMIT=off.
Then, for 1, 4 and 16 concurrent clients, each with its own connection and cookies (the CSRF
token comes from the reply page), it posts replies into that one thread and prints posts per
second. The baseline, measured in the same run with the same clients, is GET /healthz (one
database round trip and a cache read/write, no write lock): the ratio shows what the tree write
and its article lock cost. At the end `check_trees` must find every tree valid.
"""

import argparse
import http.client
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import redis
from harness import LOCAL_POSTGRES, gunicorn, postgres_database

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LEVELS = (1, 4, 16)
REDIS_URL = "redis://127.0.0.1:6379/13"
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = """
import django
django.setup()
from articles.models import Article
from comments.models import Comment
article = Article.objects.create(title="Benchmark", slug="benchmark",
                                 body=[{"type": "paragraph", "text": "Benchmark article."}])
root = Comment.objects.create(article=article, author_name="Root", author_email="r@example.com",
                              body="The thread everyone replies to.", thread_position=1)
print(article.slug, root.pk)
"""


class BenchClient:
    """One reader: a keep-alive connection, its cookies and its CSRF token."""

    def __init__(self, port: int, reply_path: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        html = self.request("GET", reply_path, expect=200)
        self.token = TOKEN_RE.search(html).group(1)

    def request(self, method: str, path: str, body: str | None = None, expect: int = 200) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                # A browser shows the thank-you message on the page it is redirected to; this
                # client does not follow redirects, so it drops the message rather than let it
                # pile up in every later request.
                if name != "messages":
                    self.cookies[name] = rest.split(";", 1)[0]
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status}, expected {expect}")
        return text

    def close(self) -> None:
        self.connection.close()


def run_level(clients: list[BenchClient], count: int, action) -> float:
    """Run `action(client, n)` `count` times spread over the clients; return actions/second."""
    errors: list[str] = []
    per_client = [list(range(i, count, len(clients))) for i in range(len(clients))]

    def work(client, numbers):
        try:
            for n in numbers:
                action(client, n)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(clients, per_client, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.perf_counter() - started
    if errors or any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"{len(errors)} client(s) failed, first: {errors[:1]}")
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 replies per level, not 300")
    parser.add_argument(
        "--server", default=LOCAL_POSTGRES,
        help="PostgreSQL server to create the benchmark database on (loopback only)",
    )
    options = parser.parse_args()
    count = 60 if options.quick else 300

    redis.Redis.from_url(REDIS_URL).flushdb()
    with postgres_database(f"newsroom_bench_posting_{os.getpid()}", options.server) as url:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DATABASE_URL": url,
            "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "COMMENT_RATE_LIMIT": "off",
            # With Redis, gunicorn.conf.py runs a worker process per CPU and one, as in production.
            "REDIS_URL": REDIS_URL,
        }
        env.pop("DATABASE_REPLICA_URL", None)

        def manage(*args):
            subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)

        manage("migrate", "--noinput", "--verbosity", "0")
        manage("collectstatic", "--noinput", "--verbosity", "0")
        slug, root_pk = subprocess.run(
            [PYTHON, "-c", SETUP], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
        ).stdout.split()
        post_path = f"/articles/{slug}/comments/"
        reply_path = f"/articles/{slug}/comments/{root_pk}/reply/"

        def post(client, n):
            body = urlencode({
                "csrfmiddlewaretoken": client.token, "name": f"Bench reader {n % 50}",
                "email": f"bench{n}@example.com", "body": f"Benchmark reply number {n}.",
                "parent": root_pk,
            })
            client.request("POST", post_path, body=body, expect=302)

        def healthz(client, n):
            client.request("GET", "/healthz", expect=200)

        workers = env.get("GUNICORN_WORKERS") or f"{os.cpu_count() * 2 + 1} (cpu × 2 + 1)"
        print(f"gunicorn workers: {workers}; {count} replies per level into one thread")
        print(f"{'clients':>7}  {'posts/s':>8}  {'healthz/s':>9}  {'posts / healthz':>15}")
        with gunicorn("newsroom.wsgi", env) as port:
            for level in LEVELS:
                clients = [BenchClient(port, reply_path) for _ in range(level)]
                try:
                    run_level(clients, min(count, 50), post)  # warm-up: connections, caches
                    baseline = run_level(clients, count, healthz)
                    posts = run_level(clients, count, post)
                finally:
                    for client in clients:
                        client.close()
                print(f"{level:>7}  {posts:>8.1f}  {baseline:>9.1f}  {posts / baseline:>15.2f}")

        check = subprocess.run(
            [PYTHON, "manage.py", "check_trees"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        print((check.stdout + check.stderr).strip())
        return check.returncode

if __name__ == "__main__":
    sys.exit(main())
