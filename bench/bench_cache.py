"""Benchmark of the page cache: an article page with 100 comments, cached and built anew, under
gunicorn on PostgreSQL and Redis, next to a plain "hello" view served in the same run.

    .venv/bin/python bench/bench_cache.py            # 2 x 8 s per view
    .venv/bin/python bench/bench_cache.py --quick    # 2 x 3 s per view
    .venv/bin/python bench/bench_cache.py --in-process   # CPU per request, no server

Creates a throwaway PostgreSQL database (dropped at the end) and uses a Redis database
(BENCH_REDIS_URL, by default database 14, flushed first) as the cache, imports one article with
100 comments, and serves the project with gunicorn.conf.py. Concurrent client processes
request, in turn: the "hello" view; the article from the whole-page cache, as returning readers
(with their CSRF cookie) and first visits (a new CSRF secret each time) get it; the article
rendered around the cached frame and discussion for a reader with a remembered name, one with a
comment awaiting moderation and a signed-in moderator; and the page built whole for every
request (an extra query parameter, which the page cache serves fresh), as on a cold cache.
Everything is measured twice, each time beside "hello": with each worker mirroring the page
versions (articles/version_mirror.py), then with the versions read from Redis on every request,
and the shares of the two runs are compared.
Targets, by server CPU per request: the cached page at least 0.8 x "hello", the pages around the
cached frame 0.25 x, the page built whole 0.049 x (harness.py, TARGETS). With --in-process the
views are served by calling Django's WSGI handler in this process, as bench_render.py
--in-process does, and timed in CPU per request.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import redis
from bench_render import THROUGHPUT_SIZE, article_text, in_process
from harness import (
    BENCH_USER,
    ROOT,
    gunicorn,
    http_send,
    page_views,
    postgres_database,
    print_rates,
    views_per_second,
)

HELLO = "/bench/hello/"
NO_MIRROR = "versions read from Redis on every request (PAGE_VERSION_MIRROR=0)"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

SETUP = """
import sys
import django
django.setup()
from django.core.management import call_command
from articles.importer import article_parse
from articles.services import article_import
from django.contrib.auth import get_user_model
call_command("migrate", verbosity=0)
get_user_model().objects.create_superuser(sys.argv[1], "", sys.argv[2])
article = article_import(parsed=article_parse(sys.stdin.read()), source_key="bench-cache").article
print(article.get_absolute_url())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 3 s per view, not 2 x 8 s")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--in-process", action="store_true",
        help="the page's CPU per request served in this process (no server), not under gunicorn",
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="VIEW",
        help="with --in-process: cProfile of this view (a name in the table), repeatable",
    )
    options = parser.parse_args()
    seconds = 3.0 if options.quick else 8.0

    redis.Redis.from_url(REDIS_URL).flushdb()
    with postgres_database(f"newsroom_bench_cache_{os.getpid()}") as database_url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": "benchmark-only-" + "x" * 40,
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
        }
        page = subprocess.run(
            [sys.executable, "-c", SETUP, *BENCH_USER], input=article_text(THROUGHPUT_SIZE),
            cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True,
            text=True,
        ).stdout.strip()
        if options.in_process:
            for name in [k for k in os.environ if k.startswith(("DJANGO_", "DATABASE_"))]:
                del os.environ[name]
            os.environ.update(env)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from django.conf import settings

            in_process(page, options.profile, "PostgreSQL and Redis")
            print()
            settings.PAGE_VERSION_MIRROR = 0
            in_process(page, [], f"PostgreSQL and Redis, {NO_MIRROR}")
            from django.db import connections

            connections.close_all()
        else:
            measured = {}
            for mirror in ("1", "0"):
                with gunicorn(
                    "bench.wsgi_app:application", {**env, "PAGE_VERSION_MIRROR": mirror}
                ) as port:
                    views = page_views(http_send(port), HELLO, page)
                    measured[mirror] = views_per_second(port, views, seconds, options.clients)
    redis.Redis.from_url(REDIS_URL).flushdb()
    if options.in_process:
        return

    title = (
        f"Article page with {THROUGHPUT_SIZE} comments under gunicorn on PostgreSQL and Redis "
        f"({os.cpu_count()} CPUs, {options.clients} client processes, "
        f"2 x {seconds:.0f} s each, interleaved)"
    )
    print(title)
    print_rates(measured["1"], "hello")
    print(f"\n{title}, {NO_MIRROR}")
    print_rates(measured["0"], "hello")
    print("\nWhat the version mirror earns: CPU share of hello, with it over without it")
    for name in measured["1"]:
        shares = [rates["hello"].cpu_ms / rates[name].cpu_ms for rates in measured.values()]
        print(f"{name:<30} {shares[0]:>6.2f} / {shares[1]:<6.2f} = {shares[0] / shares[1]:.2f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
