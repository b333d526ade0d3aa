"""Benchmark of the moderation admin on a large comments table, in PostgreSQL.

    .venv/bin/python bench/bench_admin.py            # 1,000,000 comments
    .venv/bin/python bench/bench_admin.py --quick    # 100,000 comments

Builds a throwaway database with that many comments (COPY of precomputed rows, valid trees)
on 2,000 articles, from 50,000 commenters and guests: most published, some thousands awaiting
review with the policy's hold reasons, removed, spam and deleted ones with their decisions,
reports on two in a hundred (a few thousand still open), duplicates, imported ones without a
date. Then, signed in as a superuser through Django's test client in the same process, it
times the server's answer (median of several requests, after one to warm the caches) of the
queue, the comment list unfiltered, on page 2, sorted by date and with each filter, the review
screen (its first comment and one further in), a comment's page and the record of the
commenter with the most comments. For each it prints the median time and its ratio to the
baseline's, the time spent in the database, the queries made, the slowest one, and the most rows
of the comments table (or of one of its indexes) any of them reads: a bounded count reads up to
10,001; a whole read is the table's size.

Target: every view under 300 ms of server time. The baseline, measured in the same run: the
admin's index page (which only counts the comments awaiting review), and one full COUNT(*) of
the comments table, the query the lists no longer make. The in-process client adds no network;
the machine's other load shows in every figure alike.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_database  # noqa: E402

TARGET_MS = 300
ARTICLES = 2_000
COMMENTERS = 50_000
WORDS = [
    "Armenia", "Russia", "border", "talks", "minister", "summit", "people", "never", "trust",
    "peace", "alliance", "deal", "Baku", "Yerevan", "army", "region", "policy", "history",
    "Հայաստան", "today", "vote", "court", "price", "school", "road", "water", "mayor",
]
STATUSES = (
    ["published"] * 930 + ["removed"] * 30 + ["spam"] * 15 + ["deleted"] * 10 + ["pending"] * 5
)
HOLD_CODES = [
    "phrase", "links", "first_comment", "commenter_premoderated", "article_premoderated",
    "site_premoderated", "watch_phrase",
]
REPORT_REASONS = ["spam", "abuse", "off_topic", "other"]
DECISION_REASONS = ["offensive", "abusive", "spam", "advertising", "off_topic", "other"]
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def thread_shape(rng: random.Random, size: int) -> list[tuple[int | None, int, int, int]]:
    """(parent index, lft, rght, level) of each node of a random tree of `size` nodes, in
    depth-first order, so that a parent always comes before its replies."""
    children: list[list[int]] = [[] for _ in range(size)]
    for node in range(1, size):
        children[rng.randrange(node)].append(node)
    order: list[tuple[int, int | None, int]] = []
    shape: dict[int, list] = {}
    counter = 0
    stack: list[tuple[int, int | None, int, bool]] = [(0, None, 0, False)]
    while stack:
        node, parent, level, closing = stack.pop()
        counter += 1
        if closing:
            shape[node][2] = counter
            continue
        shape[node] = [parent, counter, 0, level]
        order.append((node, parent, level))
        stack.append((node, parent, level, True))
        for child in reversed(children[node]):
            stack.append((child, node, level + 1, False))
    renumber = {node: index for index, (node, _, _) in enumerate(order)}
    return [
        (
            None if shape[node][0] is None else renumber[shape[node][0]],
            shape[node][1],
            shape[node][2],
            shape[node][3],
        )
        for node, _, _ in order
    ]


def build(total: int, seed: int = 15) -> dict:
    """Write the data set with COPY; returns ids the views are timed with."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from comments.models import Commenter, commented_model

    rng = random.Random(seed)
    article_model = commented_model()
    article_model.objects.bulk_create(
        article_model(title=f"Story {n}: {text(rng, 3, 8)}", slug=f"story-{n}")
        for n in range(1, ARTICLES + 1)
    )
    article_ids = list(article_model.objects.order_by("pk").values_list("pk", flat=True))
    Commenter.objects.bulk_create(
        (
            Commenter(email=f"reader{n}@example.org", display_name=f"Reader {n}",
                      handle=f"reader-{n}")
            for n in range(1, COMMENTERS + 1)
        ),
        batch_size=5_000,
    )
    commenter_ids = list(Commenter.objects.order_by("pk").values_list("pk", flat=True))
    heavy = commenter_ids[0]
    moderator = get_user_model().objects.create_superuser("bench-moderator", "m@example.org", "x")

    comments, reports, holds, decisions = [], [], [], []
    report_id = hold_id = decision_id = 0
    pk = 0
    tree_id = 0
    start = NOW - timedelta(days=730)
    while pk < total:
        tree_id += 1
        article = article_ids[tree_id % ARTICLES]
        shape = thread_shape(rng, min(rng.choice([1, 1, 2, 3, 4, 6, 9, 14]), total - pk))
        first = pk + 1
        imported = rng.random() < 0.03
        for parent, lft, rght, level in shape:
            pk += 1
            status = rng.choice(STATUSES)
            roll = rng.random()
            commenter = None if roll >= 0.7 else heavy if roll < 0.01 else rng.choice(commenter_ids)
            name = f"Reader {commenter}" if commenter else f"Guest {rng.randrange(20_000)}"
            created = None if imported else start + timedelta(seconds=rng.randrange(730 * 86400))
            moderated = status in ("removed", "spam") or (status == "published" and roll > 0.98)
            comments.append((
                pk, article, None if parent is None else first + parent, name,
                f"{name.lower().replace(' ', '')}@example.org", text(rng, 8, 60), status,
                created, str(pk) if imported else "", tree_id if level == 0 else 0,
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}", "bench",
                rng.random() < 0.005, created if moderated else None,
                moderator.pk if moderated else None, commenter,
                rng.choice(DECISION_REASONS) if status in ("removed", "spam") else "",
                None, 0, 0, False, None, "", tree_id, lft, rght, level,
            ))
            if moderated:
                decision_id += 1
                decisions.append((
                    decision_id, pk, status,
                    rng.choice(DECISION_REASONS) if status != "published" else "", "",
                    moderator.pk, created or NOW,
                ))
            if status == "pending":
                for code in rng.sample(HOLD_CODES, rng.choice([1, 1, 2])):
                    hold_id += 1
                    holds.append((hold_id, pk, code, "bench"))
            if rng.random() < 0.02:
                # Reports on undecided comments stay open: one in ten reported comments.
                resolved = rng.random() < 0.9
                for reporter in range(rng.choice([1, 1, 2, 3])):
                    report_id += 1
                    reports.append((
                        report_id, pk, rng.choice(REPORT_REASONS), "", f"ip:{reporter}",
                        None, None, created or NOW, resolved, "",
                    ))

    columns = {
        "comments_comment": (
            "id, article_id, parent_id, author_name, author_email, body, status, created, "
            "import_key, thread_position, ip_address, user_agent, is_duplicate, moderated_at, "
            "moderated_by_id, commenter_id, removal_reason, edited, recommend_count, "
            "thread_recommend_count, featured, featured_at, featured_note, tree_id, lft, rght, "
            "level",
            comments,
        ),
        "comments_report": (
            "id, comment_id, reason, detail, reporter, ip_address, account_id, created, "
            "resolved, email",
            reports,
        ),
        "comments_holdreason": ("id, comment_id, code, detail", holds),
        "comments_decision": (
            "id, comment_id, status, reason, note, moderator_id, created", decisions
        ),
    }
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table, (names, rows) in columns.items():
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max(len(rows), 1)})"
            )
        cursor.execute("SELECT setval('comments_comment_tree_id_seq', %s)", [tree_id])
        # What autovacuum does to a table that has settled: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")
    waiting = [row[0] for row in comments if row[6] == "pending"]
    return {
        "moderator": moderator,
        "article": article_ids[7],
        "commenter": heavy,
        "comment": comments[len(comments) // 2][0],
        "pending": len(waiting),
        "reports": len(reports),
        "open": sum(1 for report in reports if not report[8]),
    }


def views(ids: dict) -> dict[str, str]:
    """The views timed, by name: their paths."""
    changelist = "/admin/comments/comment/"
    queue = "/admin/comments/commentqueue/"
    # As the date filter's links give them: aware midnights.
    day = NOW.replace(hour=0)
    ranges = {
        "past 7 days": (day - timedelta(days=7), day + timedelta(days=1)),
        "this month": (day.replace(day=1), day + timedelta(days=1)),
        "this year": (day.replace(month=1, day=1), day + timedelta(days=1)),
    }
    paths = {
        "queue": queue,
        "queue, page 2": f"{queue}?p=2",
        "queue, pending": f"{queue}?status__exact=pending",
        "queue, held for links": f"{queue}?held_because=links",
        "queue, sorted by date": f"{queue}?o=9",
        "comments": changelist,
        "comments, page 2": f"{changelist}?p=2",
        "comments, page 50": f"{changelist}?p=50",
        "comments, newest first": f"{changelist}?o=-9",
        "comments, oldest first": f"{changelist}?o=9",
        "comments, an article": f"{changelist}?article__id__exact={ids['article']}",
        "comments, a commenter": f"{changelist}?commenter__id__exact={ids['commenter']}",
        "comments, duplicates": f"{changelist}?is_duplicate__exact=1",
        "comments, not duplicates": f"{changelist}?is_duplicate__exact=0",
        "comments, no date": f"{changelist}?created__isnull=True",
    }
    for status in ["published", "pending", "removed", "spam", "deleted"]:
        paths[f"comments, {status}"] = f"{changelist}?status__exact={status}"
    for value in ["yes", "open", "no"]:
        paths[f"comments, reported {value}"] = f"{changelist}?reported={value}"
    for code in HOLD_CODES:
        paths[f"comments, held: {code}"] = f"{changelist}?held_because={code}"
    for reason in REPORT_REASONS:
        paths[f"comments, reported as {reason}"] = f"{changelist}?reported_as={reason}"
    for label, (since, until) in ranges.items():
        paths[f"comments, {label}"] = (
            f"{changelist}?created__gte={quote(str(since))}&created__lt={quote(str(until))}"
        )
    paths.update({
        "review screen, first": "/admin/comments/commentqueue/review/",
        "review screen, 20th": "/admin/comments/commentqueue/review/?comment={twentieth}",
        "a comment's page": f"/admin/comments/comment/{ids['comment']}/change/",
        "commenter record": f"/admin/comments/commenter/{ids['commenter']}/change/",
        "commenters": "/admin/comments/commenter/",
    })
    return paths


def rows_read(plan: dict) -> int:
    """Rows of the comments table an EXPLAIN ANALYZE plan reads, from the table or from one
    of its indexes, those a filter removed included."""
    read = 0
    if plan.get("Relation Name") == "comments_comment":
        rows = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        read += rows * plan["Actual Loops"]
    return read + sum(rows_read(child) for child in plan.get("Plans", []))


def most_rows_read(queries: list[dict]) -> int:
    """The most rows of the comments table any of `queries` reads (a bounded count reads up
    to its LIMIT; a whole read is the table's size)."""
    from django.db import connection

    most = 0
    with connection.cursor() as cursor:
        for query in queries:
            if not query["sql"].startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            most = max(most, rows_read(plan[0]["Plan"]))
    return most


def measure(client, path: str, repetitions: int) -> tuple[float, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    times = []
    for _ in range(repetitions):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), captured.captured_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 comments, fewer runs")
    parser.add_argument(
        "--database",
        default=f"newsroom_bench_admin_{os.getpid()}",
        help="name of the throwaway database (created, then dropped)",
    )
    args = parser.parse_args()
    total = 100_000 if args.quick else 1_000_000
    repetitions = 3 if args.quick else 5

    with postgres_database(args.database) as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        os.environ.setdefault("DJANGO_DEBUG", "1")
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from comments.queue import review_queue

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        ids = build(total)
        built = time.perf_counter() - start
        print(
            f"{total:,} comments on {ARTICLES:,} articles, {ids['pending']:,} pending, "
            f"{ids['reports']:,} reports ({ids['open']:,} open); built in {built:.0f} s"
        )
        ids["twentieth"] = list(review_queue().values_list("pk", flat=True)[:20])[-1]
        client = Client()
        client.force_login(ids["moderator"])

        base_ms, _ = measure(client, "/admin/", repetitions)
        with connection.cursor() as cursor:
            counts = []
            for _ in range(repetitions):
                start = time.perf_counter()
                cursor.execute("SELECT COUNT(*) FROM comments_comment")
                cursor.fetchone()
                counts.append((time.perf_counter() - start) * 1000)
        count_ms = statistics.median(counts)
        print(f"baseline: the admin's index page {base_ms:.1f} ms; "
              f"one full COUNT(*) of the comments {count_ms:.1f} ms")
        print(
            f"{'view':<38} {'ms':>7} {'x index':>8} {'db ms':>7} {'queries':>8} "
            f"{'slowest q.':>11} {'rows read':>14}  under {TARGET_MS} ms"
        )
        failed = 0
        for name, path in views(ids).items():
            median, queries = measure(client, path.format(**ids), repetitions)
            times = [float(query["time"]) * 1000 for query in queries]
            verdict = "yes" if median < TARGET_MS else "NO"
            failed += verdict == "NO"
            print(
                f"{name:<38} {median:>7.1f} {median / base_ms:>8.2f} {sum(times):>7.1f} "
                f"{len(queries):>8} {max(times, default=0):>11.1f} "
                f"{most_rows_read(queries):>14,}  {verdict}"
            )
        print(f"target: every view under {TARGET_MS} ms: {'met' if not failed else 'NOT met'}")


if __name__ == "__main__":
    main()
