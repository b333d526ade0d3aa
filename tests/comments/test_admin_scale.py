"""The moderation admin on a large comments table: no count of a whole list, queries that do
not grow with the rows, filters each served by an index (bench/bench_admin.py times them)."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments.models import Comment, HoldReason, Report
from comments.paging import LongListPaginator
from comments.queue import review_queue
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:comments_comment_changelist")
QUEUE = reverse("admin:comments_commentqueue_changelist")
REVIEW = reverse("admin:comments_commentqueue_review")


def counts_of_comments(queries) -> list[str]:
    """The counts of comments that no LIMIT bounds."""
    return [
        query["sql"]
        for query in queries
        if query["sql"].upper().startswith("SELECT COUNT(")
        and '"comments_comment"' in query["sql"]
        and "LIMIT" not in query["sql"].upper()
    ]


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [comment.pk for comment in response.context["cl"].result_list]


def some_comments(n: int, article=None) -> list[Comment]:
    article = article or make_article()
    comments = []
    for i in range(n):
        comment = make_comment(article, status="pending" if i % 2 else "published")
        Report.objects.create(comment=comment, reason="abuse", reporter="ip:198.51.100.1")
        HoldReason.objects.create(comment=comment, code="links", detail="2")
        comments.append(comment)
    return comments


@pytest.mark.parametrize(
    ("url", "count"), [(CHANGELIST, 3), (QUEUE, 3), (f"{CHANGELIST}?status__exact=pending", 1)]
)
def test_the_lists_count_their_rows_only_up_to_a_bound(mod_client, url, count):
    some_comments(3)

    with CaptureQueriesContext(connection) as captured:
        response = mod_client.get(url)

    assert response.status_code == 200
    assert counts_of_comments(captured.captured_queries) == []
    bounded = [q["sql"] for q in captured.captured_queries if "LIMIT 10001" in q["sql"]]
    assert len(bounded) == 1
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_the_lists_make_as_many_queries_for_many_comments_as_for_few(
    mod_client, url, django_assert_num_queries
):
    some_comments(2)
    mod_client.get(url)
    with CaptureQueriesContext(connection) as few:
        mod_client.get(url)
    some_comments(8)

    with django_assert_num_queries(len(few.captured_queries)):
        response = mod_client.get(url)

    assert len(listed(response)) == 10


def test_the_comment_list_and_the_queue_make_a_fixed_number_of_queries(
    mod_client, django_assert_num_queries
):
    some_comments(4)
    mod_client.get(CHANGELIST)

    # Session, user, permissions; the article filter's choices (2); the bounded count; the
    # page.
    with django_assert_num_queries(7):
        mod_client.get(CHANGELIST)
    # And the hold reasons and open reports of the page's comments.
    with django_assert_num_queries(9):
        mod_client.get(QUEUE)


def test_the_pages_after_the_first_are_reached(mod_client, monkeypatch):
    comments = some_comments(5)
    monkeypatch.setattr(type(admin.site._registry[Comment]), "list_per_page", 2)

    first = mod_client.get(CHANGELIST)
    second = mod_client.get(CHANGELIST, {"p": 2})
    third = mod_client.get(CHANGELIST, {"p": 3})

    assert 'href="?p=2"' in first.content.decode()
    assert listed(first) + listed(second) + listed(third) == [c.pk for c in comments]
    assert len(listed(third)) == 1
    assert "5 comments" in third.content.decode()


def test_the_article_filter_offers_the_articles_last_commented_on(mod_client, monkeypatch):
    from comments.admin import ArticleFilter

    monkeypatch.setattr(ArticleFilter, "SHOWN", 2)
    quiet, older, newer = make_article(), make_article(), make_article()
    now = timezone.now()
    make_comment(quiet, created=now - timedelta(days=30))
    make_comment(older, created=now - timedelta(days=1))
    mine = make_comment(newer, created=now)

    response = mod_client.get(CHANGELIST)
    html = response.content.decode()

    choices = [choice["display"] for choice in response.context["cl"].filter_specs[1].choices(
        response.context["cl"]
    )]
    assert choices == ["All", newer.title, older.title]
    chosen = mod_client.get(CHANGELIST, {"article__id__exact": quiet.pk})
    assert quiet.title in [
        choice["display"]
        for choice in chosen.context["cl"].filter_specs[1].choices(chosen.context["cl"])
    ]
    assert len(listed(chosen)) == 1
    # Each row's article title filters the list by it.
    assert f'href="?article__id__exact={newer.pk}"' in html
    assert listed(mod_client.get(CHANGELIST, {"article__id__exact": newer.pk})) == [mine.pk]


@pytest.mark.parametrize("value", ["abc", "1.5", ""])
def test_a_bad_article_number_sends_the_list_back_unfiltered(mod_client, value):
    make_comment(make_article())

    response = mod_client.get(CHANGELIST, {"article__id__exact": value})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_list_sorts_only_by_the_indexed_columns(mod_client):
    article = make_article()
    now = timezone.now()
    old = make_comment(article, created=now - timedelta(days=2))
    new = make_comment(article, created=now)

    response = mod_client.get(CHANGELIST, {"o": "-9"})

    assert listed(response) == [new.pk, old.pk]
    sortable = [
        header["text"]
        for header in response.context["result_headers"]
        if header["sortable"]
    ]
    assert sortable == ["status", "created"]
    assert "reports" in [
        header["text"]
        for header in mod_client.get(QUEUE).context["result_headers"]
        if header["sortable"]
    ]


def test_the_awaiting_review_set_holds_pending_and_openly_reported_comments():
    article = make_article()
    pending = make_comment(article, status="pending")
    reported = make_comment(article)
    Report.objects.create(comment=reported, reason="spam", reporter="ip:a")
    decided = make_comment(article)
    Report.objects.create(comment=decided, reason="spam", reporter="ip:b", resolved=True)
    make_comment(article)

    waiting = Comment.objects.awaiting_review()

    assert set(waiting.values_list("pk", flat=True)) == {pending.pk, reported.pk}
    assert waiting.count() == 2
    assert set(waiting.filter(status="published").values_list("pk", flat=True)) == {
        reported.pk
    }


@pytest.mark.postgres
def test_a_long_list_shows_the_planner_s_estimate_and_never_counts_it_whole(
    mod_client, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    monkeypatch.setattr(LongListPaginator, "EXACT_UP_TO", 3)
    monkeypatch.setattr(type(admin.site._registry[Comment]), "list_per_page", 2)
    comments = some_comments(6)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE comments_comment")

    with CaptureQueriesContext(connection) as captured:
        response = mod_client.get(CHANGELIST)
    queries = captured.captured_queries
    second = mod_client.get(CHANGELIST, {"p": 2})

    assert counts_of_comments(queries) == []
    assert any(q["sql"].startswith("EXPLAIN") for q in queries)
    paginator = response.context["cl"].paginator
    assert paginator.estimated
    assert re.search(r"about [\d,]+ comments", response.content.decode())
    assert listed(response) + listed(second) == [c.pk for c in comments[:4]]


def test_an_estimated_count_links_only_to_the_pages_near_the_current_one():
    paginator = LongListPaginator(Comment.objects.none(), 10)
    # What the planner might estimate of a long list.
    paginator.count = 1000
    paginator.estimated = True

    assert list(paginator.get_elided_page_range(1)) == [1, 2, 3, 4, "…"]
    assert list(paginator.get_elided_page_range(20)) == [1, 2, "…", 17, 18, 19, 20, 21, 22, 23,
                                                         "…"]
    assert list(paginator.get_elided_page_range(100)) == [1, 2, "…", 97, 98, 99, 100]
    paginator.estimated = False
    assert list(paginator.get_elided_page_range(1))[-1] == 100


def test_a_short_list_is_counted_exactly_and_said_so(mod_client):
    some_comments(2)

    response = mod_client.get(CHANGELIST)

    assert response.context["cl"].paginator.estimated is False
    assert "2 comments" in response.content.decode()
    assert "about" not in response.context["cl"].paginator.count_shown


FILTERS = [
    *({"status__exact": status} for status in Comment.Status.values),
    {"reported": "yes"},
    {"reported": "open"},
    {"reported": "no"},
    *({"held_because": code} for code in HoldReason.Code.values),
    *({"reported_as": reason} for reason in Report.Reason.values),
    {"is_duplicate__exact": "1"},
    {"is_duplicate__exact": "0"},
    {"created__isnull": "True"},
    {
        "created__gte": str(timezone.now() - timedelta(days=7)),
        "created__lt": str(timezone.now() + timedelta(days=1)),
    },
    {"o": "9"},
    {"o": "-9"},
]


# Enough rows for the planner to prefer an index where one serves: at a few hundred rows it
# reads any table whole, index or not.
LARGE = 30_000


@pytest.fixture
def large_table():
    """LARGE comments (each its own thread), one in 1,000 pending with a hold reason, one in
    50 reported and one in 50 of those reports open, one in 200 a duplicate, one in 30 without
    a date; written by SQL in the test's transaction, then analysed."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    article = make_article()
    reader = make_reader()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO comments_comment (
                article_id, parent_id, author_name, author_email, body, status, created,
                import_key, thread_position, ip_address, user_agent, is_duplicate, commenter_id,
                removal_reason, recommend_count, thread_recommend_count, featured,
                featured_note, tree_id, lft, rght, level
            )
            SELECT %s, NULL, 'Reader', 'reader@example.org', 'A comment.',
                CASE WHEN n %% 1000 = 0 THEN 'pending' WHEN n %% 40 = 1 THEN 'removed'
                     WHEN n %% 70 = 2 THEN 'spam' WHEN n %% 90 = 3 THEN 'deleted'
                     ELSE 'published' END,
                CASE WHEN n %% 30 = 4 THEN NULL ELSE now() - n * interval '10 minutes' END,
                '', n, '192.0.2.1', '', n %% 200 = 5, CASE WHEN n %% 100 = 6 THEN %s END,
                '', 0, 0, false, '', 100000 + n, 1, 2, 0
            FROM generate_series(1, %s) AS n
            """,
            [article.pk, reader.commenter.pk, LARGE],
        )
        cursor.execute(
            """
            INSERT INTO comments_holdreason (comment_id, code, detail)
            SELECT id, (ARRAY['phrase', 'links', 'first_comment', 'commenter_premoderated',
                              'article_premoderated', 'site_premoderated', 'watch_phrase'])
                       [1 + id %% 7], ''
            FROM comments_comment WHERE status = 'pending'
            """,
            [],
        )
        cursor.execute(
            """
            INSERT INTO comments_report (
                comment_id, reason, detail, reporter, created, resolved, email
            )
            SELECT id, (ARRAY['spam', 'abuse', 'off_topic', 'other'])[1 + id %% 4], '',
                'ip:x', now(), id %% 2500 <> 7, ''
            FROM comments_comment WHERE id %% 50 = 7
            """,
            [],
        )
        cursor.execute("ANALYZE comments_comment")
        cursor.execute("ANALYZE comments_report")
        cursor.execute("ANALYZE comments_holdreason")
    return reader.commenter


def rows_read(plan: dict) -> int:
    """How many rows of the comments table an EXPLAIN ANALYZE plan reads, from the table or
    from one of its indexes, those a filter removed included."""
    read = 0
    if plan.get("Relation Name") == "comments_comment":
        rows = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        read += rows * plan["Actual Loops"]
    return read + sum(rows_read(child) for child in plan.get("Plans", []))


def whole_reads(queries) -> list[str]:
    """The queries among `queries` that read most of the comments table or of one of its
    indexes. A bounded count may read the table's first rows until its LIMIT: a scan that stops
    early is no whole read."""
    found = []
    with connection.cursor() as cursor:
        for sql in (query["sql"] for query in queries):
            if '"comments_comment"' not in sql or not sql.startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            if rows_read(plan[0]["Plan"]) > LARGE // 2:
                found.append(sql)
    return found


@pytest.mark.postgres
@pytest.mark.parametrize("params", [{}, *FILTERS], ids=lambda params: "&".join(
    f"{key}={value}" for key, value in params.items()
) or "unfiltered")
def test_each_filter_of_the_comment_list_reads_an_index(mod_client, large_table, params):
    for url, query in [
        (CHANGELIST, params),
        (QUEUE, params),
        (CHANGELIST, {"commenter__id__exact": large_table.pk, **params}),
    ]:
        with CaptureQueriesContext(connection) as captured:
            response = mod_client.get(url, query)
        assert response.status_code == 200
        assert whole_reads(captured.captured_queries) == []


@pytest.mark.postgres
def test_the_review_screen_the_record_and_the_admin_index_read_indexes(
    mod_client, large_table
):
    first = review_queue().values_list("pk", flat=True)[:20]
    urls = [
        reverse("admin:index"),
        REVIEW,
        f"{REVIEW}?comment={list(first)[-1]}",
        reverse("admin:comments_commenter_change", args=[large_table.pk]),
        reverse("admin:comments_commenter_changelist"),
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            response = mod_client.get(url)
        assert response.status_code == 200
        assert whole_reads(captured.captured_queries) == []
