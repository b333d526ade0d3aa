"""Many readers posting into the same discussion at once never corrupt a comment tree.

Every thread posts through the real view with its own test client and database connection,
so the locks of comments/locks.py are exercised as under gunicorn.
"""

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from articles.importer import article_parse
from articles.services import article_import
from comments.models import Comment
from comments.trees.checks import tree_problems
from tests.factories import make_article, make_comment
from tests.helpers import held_elsewhere
from tests.processes import django_process


def _post_all(url, payloads, outcomes, errors):
    client = Client()
    try:
        for payload in payloads:
            response = client.post(url, payload)
            outcomes.append(response.status_code)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        errors.append(repr(exc))
    finally:
        connection.close()


def _run(url, payloads_per_thread):
    return _run_jobs([(url, payloads) for payloads in payloads_per_thread])


def _run_jobs(jobs):
    """Post each (url, payloads) job in a thread of its own; the outcomes and errors."""
    outcomes, errors = [], []
    threads = [
        threading.Thread(target=_post_all, args=(url, payloads, outcomes, errors))
        for url, payloads in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a posting thread hung"
    return outcomes, errors


def _payload(n, parent=""):
    return {"name": f"Reader {n % 7}", "email": f"reader{n}@example.com",
            "body": f"Concurrent comment {n}.", "parent": parent}


def _hammer(settings, *, replies, reply_threads, roots, root_threads):
    settings.COMMENT_RATE_LIMIT = "off"
    article = make_article()
    root = make_comment(article)
    targets = [root]
    for _ in range(3):
        targets.append(make_comment(article, parent=targets[-1]))
    url = reverse("comments:post", args=[article.slug])

    reply_payloads = [
        [_payload(t * 1000 + i, parent=targets[(t + i) % len(targets)].pk)
         for i in range(replies // reply_threads)]
        for t in range(reply_threads)
    ]
    root_payloads = [
        [_payload(50_000 + t * 1000 + i) for i in range(roots // root_threads)]
        for t in range(root_threads)
    ]
    outcomes, errors = _run(url, reply_payloads + root_payloads)

    assert errors == []
    assert outcomes.count(302) == replies + roots, sorted(set(outcomes))
    posted = Comment.objects.filter(article=article, body__startswith="Concurrent")
    assert posted.filter(parent__isnull=False).count() == replies
    assert posted.filter(parent__isnull=True).count() == roots
    assert tree_problems() == {}
    assert Comment.objects.get(pk=root.pk).get_descendant_count() == replies + 3
    positions = list(
        Comment.objects.filter(article=article, parent=None).values_list(
            "thread_position", flat=True
        )
    )
    assert sorted(positions) == list(range(1, roots + 2))
    tree_ids = Comment.objects.filter(parent=None).values_list("tree_id", flat=True)
    assert len(set(tree_ids)) == len(tree_ids)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_keeps_every_tree_valid_under_concurrent_posts(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    _hammer(settings, replies=200, reply_threads=20, roots=50, root_threads=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_new_threads_in_many_articles_at_once_get_distinct_trees(settings):
    """Each new thread takes only its article's lock: the tree ids come from a sequence."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.COMMENT_RATE_LIMIT = "off"
    articles = [make_article() for _ in range(8)]
    jobs = [
        (reverse("comments:post", args=[article.slug]),
         [_payload(70_000 + a * 100 + i) for i in range(25)])
        for a, article in enumerate(articles)
    ]
    outcomes, errors = _run_jobs(jobs)

    assert errors == []
    assert outcomes == [302] * 200
    tree_ids = list(Comment.objects.values_list("tree_id", flat=True))
    assert len(tree_ids) == 200
    assert len(set(tree_ids)) == 200
    assert tree_problems() == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_an_import_holding_its_article_does_not_block_threads_elsewhere(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.COMMENT_RATE_LIMIT = "off"
    other = make_article()
    parsed = article_parse("Held Story\n\nCITY—Text.\n\n  1. Ann said:\n\n    Hello.\n")
    # Held long past the post's lock timeout: the old table-wide lock made it wait this out.
    with held_elsewhere(lambda: article_import(parsed=parsed, source_key="held")):
        started = time.monotonic()
        response = Client().post(reverse("comments:post", args=[other.slug]), _payload(1))
        elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < 3
    assert Comment.objects.filter(article=other, parent=None).count() == 1
    assert Comment.objects.filter(article__source_key="held").count() == 1
    tree_ids = list(Comment.objects.values_list("tree_id", flat=True))
    assert len(set(tree_ids)) == 2
    assert tree_problems() == {}


SQLITE_SCRIPT = """
import json, sys
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test.utils import setup_test_environment
setup_test_environment()
from tests.comments import test_concurrency as t
from tests.factories import make_article, make_comment
from articles.importer import article_parse
from articles.services import article_import
from comments.trees.checks import tree_problems
from comments.models import Comment

article = make_article()
root = make_comment(article)
child = make_comment(article, parent=root)
url = f"/articles/{article.slug}/comments/"
outcomes, errors = t._run(url, [
    [t._payload(p * 100 + i, parent=(root, child)[i % 2].pk) for i in range(10)]
    for p in range(4)
] + [[t._payload(900 + p * 10 + i) for i in range(4)] for p in range(3)])
json.dump({
    "outcomes": sorted(outcomes), "errors": errors, "problems": tree_problems(),
    "replies": Comment.objects.filter(parent__isnull=False).count() - 1,
    "roots": Comment.objects.filter(parent=None).count() - 1,
}, sys.stdout)
"""


def test_sqlite_file_keeps_every_tree_valid_under_concurrent_posts(tmp_path):
    """On a SQLite file, as `make run` serves it: IMMEDIATE transactions and a busy timeout.

    It runs in a child process on a fresh database file: pytest-django's SQLite test database
    is in memory with a shared cache, whose table locks fail at once instead of waiting.
    """
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'posting.sqlite3'}",
        "DJANGO_SECRET_KEY": "concurrency-test",
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "COMMENT_RATE_LIMIT": "off",
    }
    result = django_process(env, SQLITE_SCRIPT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["errors"] == []
    assert report["outcomes"] == [302] * 52
    assert (report["replies"], report["roots"]) == (40, 12)
    assert report["problems"] == {}
