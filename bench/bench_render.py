"""Benchmark of the article page: render time by discussion size, and throughput under gunicorn.

    .venv/bin/python bench/bench_render.py            # full run
    .venv/bin/python bench/bench_render.py --quick    # fewer repetitions, shorter load runs
    .venv/bin/python bench/bench_render.py --in-process [--profile "article, signed in"]

1. Render time, in process (Django's test client, no network): the article page of articles
   with 10, 100, 1,000 and 10,000 comments. Every comment is on the first page (at most 50
   threads, the rest replies up to 8 deep), so the page shows them all: the worst case. Each
   figure is the median of several requests, next to the number of SQL queries, the page size
   and the ratio to a plain "hello" view timed the same way.
2. Throughput: one gunicorn started with the project's gunicorn.conf.py and default settings,
   as `make run` serves it (SQLite, the page cache in the process's memory), serves the
   article with 100 comments and the "hello" view. Concurrent client processes request, in
   turn: "hello"; the article from the whole-page cache, as a returning reader (with a CSRF
   cookie) and a first visit get it; the article rendered for a reader with a remembered name,
   one with a comment awaiting moderation and a signed-in moderator, their own parts rendered
   around the page's cached frame and discussion; and the article built whole for every
   request (a query parameter the page cache does not keep apart), as on a cold cache. The
   table gives requests per second and the server's CPU time per request, each with its ratio
   to "hello", and each page's target and whether it is met.
3. With --in-process, only the 100-comment page: the same views served by calling Django's WSGI
   handler in this process, their CPU time per request (the best of 5 runs) beside "hello"'s,
   with no server and no clients on the cores, so the figures move much less with the machine's
   load than those under gunicorn; --profile adds a cProfile (in CPU time) of a view.

Targets: the 1,000-comment page renders in under 100 ms; by server CPU per request, the cached
page reaches 0.8 x "hello", the pages rendered around the cached frame 0.25 x, the page built
whole 0.049 x (bench/harness.py, TARGETS). The data lives in a throwaway SQLite file.
bench_cache.py measures the same on PostgreSQL and Redis.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    BENCH_USER,
    gunicorn,
    http_send,
    in_process_cpu,
    page_views,
    print_in_process,
    print_rates,
    profile_views,
    views_per_second,
    wsgi_send,
)

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10, 100, 1_000, 10_000)
THROUGHPUT_SIZE = 100
HELLO = "/bench/hello/"
SENTENCE = "Russia sells weapons to both sides, and the talks in Moscow changed nothing at all."


def article_text(comments: int) -> str:
    """An article file whose comments fill at most 50 threads, replies up to 8 deep.

    Each comment has two lines of about 15 words; one in five holds a link, one in three a
    second paragraph with characters to escape.
    """
    threads = min(50, max(1, comments // 20))
    per_thread = comments // threads
    lines = [f"A discussion of {comments} comments", "", "YEREVAN (RFE/RL)—It began.", ""]
    lines += ["Second paragraph of the story, long enough to look like one. " * 3, ""]
    depth = 0
    for n in range(comments):
        if n % per_thread == 0 and n // per_thread < threads:
            depth = 0
            lines.append(f"  {n // per_thread + 1}. Reader {n % 17} said:")
        else:
            depth = depth + 1 if depth < 8 and n % 3 else max(1, depth - 2)
            lines.append(f"{' ' * (2 + 2 * depth)}• Reader {n % 17} said:")
        indent = " " * (4 + 2 * depth)
        lines += ["", f"{indent}Comment {n}: {SENTENCE}", f"{indent}{SENTENCE}"]
        if n % 5 == 0:
            lines.append(f"{indent}Source: https://example.org/news/{n}?a=1&b=2.")
        if n % 3 == 0:
            lines += ["", f"{indent}A second paragraph, with <angle brackets> & ampersands."]
        lines.append("")
    return "\n".join(lines) + "\n"


def median_ms(client, url: str, repeat: int) -> float:
    for _ in range(2):
        client.get(url)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 3 s load runs")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument(
        "--in-process", action="store_true",
        help="only the 100-comment page's CPU per request, served in this process (no server)",
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="VIEW",
        help="with --in-process: cProfile of this view (a name in the table), repeatable",
    )
    options = parser.parse_args()
    seconds = 3.0 if options.quick else 8.0

    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        database = Path(tmp) / "render.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
        os.environ.pop("REDIS_URL", None)
        # The render times are those of the page as built; in process, the page is served as
        # `make run` serves it.
        if not options.in_process:
            os.environ["ARTICLE_PAGE_CACHE_SECONDS"] = "0"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from articles.importer import article_parse
        from articles.services import article_import

        call_command("migrate", verbosity=0)
        sizes = (THROUGHPUT_SIZE,) if options.in_process else SIZES
        urls = {}
        for size in sizes:
            parsed = article_parse(article_text(size))
            urls[size] = article_import(
                parsed=parsed, source_key=f"bench-{size}"
            ).article.get_absolute_url()
        get_user_model().objects.create_superuser(BENCH_USER[0], "", BENCH_USER[1])

        if options.in_process:
            in_process(urls[THROUGHPUT_SIZE], options.profile, "SQLite, local-memory cache")
            return
        render_times(urls, options.quick)

        # Served as `make run` serves it: the page cache on, in this process's memory.
        env = {k: v for k, v in os.environ.items() if k != "ARTICLE_PAGE_CACHE_SECONDS"}
        with gunicorn("bench.wsgi_app:application", env) as port:
            views = page_views(http_send(port), HELLO, urls[THROUGHPUT_SIZE])
            rates = views_per_second(port, views, seconds, options.clients)
        print(
            f"\nArticle page with {THROUGHPUT_SIZE} comments under gunicorn (gunicorn.conf.py, "
            f"SQLite, local-memory cache, {os.cpu_count()} CPUs, {options.clients} client "
            f"processes, 2 x {seconds:.0f} s each, interleaved)"
        )
        print_rates(rates, "hello")


def render_times(urls: dict[int, str], quick: bool) -> None:
    from django.db import connection
    from django.test import Client

    client = Client()
    hello_ms = median_ms(client, HELLO, 50)
    print(f"Article page render time, in process (median; hello view {hello_ms:.2f} ms)")
    print(
        f"{'comments':>9} {'on page':>8} {'queries':>8} {'size KB':>8} "
        f"{'median ms':>10} {'x hello':>8} {'ms/comment':>11}"
    )
    rendered = {}
    for size in SIZES:
        repeat = 5 if size >= 10_000 else (10 if quick else 30)
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = client.get(urls[size])
        shown = response.content.count(b'class="comment"')
        ms = median_ms(client, urls[size], repeat)
        rendered[size] = ms
        print(
            f"{size:>9,} {shown:>8,} {counter.count:>8} {len(response.content) / 1024:>8.0f} "
            f"{ms:>10.1f} {ms / hello_ms:>8.0f} {ms / size:>11.3f}"
        )
    target = rendered[1_000] < 100
    print(
        f"target: 1,000-comment page under 100 ms: {'met' if target else 'NOT met'} "
        f"({rendered[1_000]:.1f} ms)"
    )
    connection.close()


def in_process(page: str, profile: list[str], stores: str) -> None:
    """The page's CPU per request through Django's WSGI handler in this process, each view
    beside "hello" (and the views named in `profile` profiled)."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    views = page_views(wsgi_send(application), HELLO, page)
    if unknown := set(profile) - set(views):
        raise SystemExit(f"no such view: {', '.join(sorted(unknown))}")
    cpu_ms = in_process_cpu(application, views)
    print(
        f"Article page with {THROUGHPUT_SIZE} comments through Django's WSGI handler in process "
        f"({stores}; CPU per request, best of 5 runs)"
    )
    print_in_process(cpu_ms, "hello")
    profile_views(application, views, profile)


if __name__ == "__main__":
    main()
