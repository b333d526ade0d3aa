"""Benchmark of the new-comments poll: /articles/<slug>/comments/count/ under gunicorn, next to
a plain "hello" view served in the same run.

    .venv/bin/python bench/bench_poll.py            # 2 x 8 s per view
    .venv/bin/python bench/bench_poll.py --quick    # 2 x 3 s per view

Every open article page asks the endpoint every 30 seconds, and almost every answer is a 304:
the reader's If-None-Match holds the article's page version and nothing changed. The server is
the one `make run` starts (gunicorn.conf.py, SQLite in a throwaway file, the cache in the
process's memory) with one article of 100 comments. Concurrent client processes request, in
turn: "hello"; the poll with the current version (304, the answer that matters); the poll
without it (200 with the count, one query). Target: the 304 poll at least 0.9 x "hello" by the
server's CPU time per request (bench/harness.py explains why that figure, and runs the
clients).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from http.client import HTTPConnection
from pathlib import Path

from bench_render import THROUGHPUT_SIZE, article_text
from harness import ROOT, gunicorn, print_rates, views_per_second

HELLO = "/bench/hello/"
TARGET = 0.9

SETUP = """
import sys
import django
django.setup()
from django.core.management import call_command
from articles.importer import article_parse
from articles.services import article_import
call_command("migrate", verbosity=0)
article = article_import(parsed=article_parse(sys.stdin.read()), source_key="bench-poll").article
print(article.get_absolute_url())
"""


def current_etag(port: int, path: str) -> str:
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    etag = response.getheader("ETag")
    if response.status != 200 or not etag:
        raise SystemExit(f"{path} answered {response.status} without an ETag")
    return etag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 3 s per view, not 2 x 8 s")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    options = parser.parse_args()
    seconds = 3.0 if options.quick else 8.0

    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'poll.sqlite3'}",
        }
        env.pop("REDIS_URL", None)
        env.pop("ARTICLE_PAGE_CACHE_SECONDS", None)
        page = subprocess.run(
            [sys.executable, "-c", SETUP], input=article_text(THROUGHPUT_SIZE), cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True, text=True,
        ).stdout.strip()
        poll = f"{page}comments/count/"
        with gunicorn("bench.wsgi_app:application", env) as port:
            etag = current_etag(port, poll)
            views = {
                "hello": (HELLO, {}, 200),
                "poll, unchanged (304)": (poll, {"If-None-Match": etag}, 304),
                "poll, changed (200)": (poll, {}, 200),
            }
            rates = views_per_second(port, views, seconds, options.clients)
    print(
        f"New-comments poll of an article with {THROUGHPUT_SIZE} comments under gunicorn "
        f"(gunicorn.conf.py, SQLite, local-memory cache, {os.cpu_count()} CPUs, "
        f"{options.clients} client processes, 2 x {seconds:.0f} s each, interleaved)"
    )
    print_rates(rates, "hello")
    reached = rates["hello"].cpu_ms / rates["poll, unchanged (304)"].cpu_ms
    verdict = "met" if reached >= TARGET else "NOT met"
    print(
        f"target: poll, unchanged (304) at least {TARGET:.2f} x hello: {verdict} "
        f"({reached:.2f}, by server CPU per request)"
    )


if __name__ == "__main__":
    main()
