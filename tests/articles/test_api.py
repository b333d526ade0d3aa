"""The JSON API: its exact shapes, what it leaves out, and its answers to bad requests."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article
from comments import selectors
from comments.models import Comment
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"
BASE = "http://testserver"


def get(client, url, **query):
    response = client.get(url, query)
    assert response["Content-Type"] == "application/json"
    return response, response.json()


class TestArticleList:
    def test_shape(self, client):
        article = make_article(
            title="Arms talks", published_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        )
        make_comment(article)
        make_comment(article, status=Comment.Status.SPAM)
        response, data = get(client, "/api/articles/")
        assert response.status_code == 200
        assert data == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [
                {
                    "slug": article.slug,
                    "title": "Arms talks",
                    "published_at": "2026-01-02T03:04:05.678Z",
                    "url": f"{BASE}/articles/{article.slug}/",
                    "api_url": f"{BASE}/api/articles/{article.slug}/",
                    "comment_count": 1,
                }
            ],
        }

    def test_pages_of_twenty_newest_first(self, client):
        now = timezone.now()
        for n in range(45):
            make_article(title=f"Story {n:02d}", published_at=now - timedelta(hours=n))
        make_article(title="Not yet", published_at=now + timedelta(hours=1))
        _, first = get(client, "/api/articles/")
        assert first["count"] == 45
        assert [r["title"] for r in first["results"]] == [f"Story {n:02d}" for n in range(20)]
        assert first["previous"] is None
        assert first["next"] == f"{BASE}/api/articles/?page=2"
        _, second = get(client, "/api/articles/", page=2)
        assert second["previous"] == f"{BASE}/api/articles/?page=1"
        _, third = get(client, "/api/articles/", page=3)
        assert len(third["results"]) == 5 and third["next"] is None

    def test_search_is_kept_in_page_links(self, client):
        for n in range(25):
            make_article(title=f"Summit {n}")
        make_article(title="Other")
        _, data = get(client, "/api/articles/", q="summit")
        assert data["count"] == 25
        assert data["next"] == f"{BASE}/api/articles/?page=2&q=summit"

    @pytest.mark.parametrize("page", ["0", "2", "abc", "-1"])
    def test_bad_page_is_a_json_404(self, client, page):
        make_article()
        response, data = get(client, "/api/articles/", page=page)
        assert response.status_code == 404
        assert data == {"error": "no such page"}

    def test_empty(self, client):
        _, data = get(client, "/api/articles/")
        assert data == {"count": 0, "next": None, "previous": None, "results": []}

    def test_queries_are_fixed(self, client, django_assert_max_num_queries):
        for _ in range(20):
            make_comment(make_article())
        with django_assert_max_num_queries(2):
            client.get("/api/articles/")


class TestArticleDetail:
    def test_shape_of_a_seed(self, client):
        call_command("import_articles", str(SEEDS / "004_de28ef22d8f50bdd.txt"), verbosity=0)
        article = Article.objects.get()
        response, data = get(client, f"/api/articles/{article.slug}/")
        assert response.status_code == 200
        assert list(data) == [
            "slug",
            "title",
            "published_at",
            "url",
            "publication",
            "volume",
            "issue",
            "byline",
            "location",
            "agency",
            "captions",
            "body",
            "discussion_policy",
            "comments_open",
            "comment_count",
            "comments",
        ]
        assert data["slug"] == article.slug
        assert data["url"] == f"{BASE}/articles/{article.slug}/"
        assert datetime.fromisoformat(data["published_at"]) == article.published_at.replace(
            microsecond=article.published_at.microsecond // 1000 * 1000
        )
        assert data["agency"] == "TASS News"
        assert data["comments_open"] is True
        assert data["comment_count"] == 7
        assert all(set(block) == {"type", "text"} for block in data["body"])
        assert {block["type"] for block in data["body"]} <= {"paragraph", "heading"}

        def walk(nodes):
            for node in nodes:
                yield node
                yield from walk(node["replies"])

        assert data["comments"]["count"] == article.comments.filter(parent=None).count()
        assert data["comments"]["next"] is None and data["comments"]["previous"] is None
        comments = list(walk(data["comments"]["results"]))
        assert len(comments) == 7
        for node in comments:
            assert set(node) == {
                "id", "author", "body", "created", "removed", "deleted", "featured", "url",
                "replies",
            }
            assert node["url"] == f"{BASE}/articles/{article.slug}/comments/{node['id']}/"
            assert node["created"] is None
            assert node["removed"] is False
            assert isinstance(node["body"], str) and node["body"]
        roots = article.comments.filter(parent=None).order_by("thread_position")
        page_order = [
            pk
            for root in roots
            for pk in Comment.objects.filter(tree_id=root.tree_id)
            .order_by("lft")
            .values_list("pk", flat=True)
        ]
        assert [c["id"] for c in comments] == page_order

    def test_missing_fields_are_null_never_empty(self, client):
        article = make_article(discussion_policy="", captions=[])
        _, data = get(client, f"/api/articles/{article.slug}/")
        for name in ("publication", "volume", "issue", "byline", "location", "agency"):
            assert data[name] is None, name
        assert data["discussion_policy"] is None
        assert data["captions"] == []
        assert data["comments"] == {"count": 0, "next": None, "previous": None, "results": []}
        assert data["comment_count"] == 0

    def test_closed_discussion(self, client):
        article = make_article(comments_open=False)
        _, data = get(client, f"/api/articles/{article.slug}/")
        assert data["comments_open"] is False

    def test_comments_only_what_a_reader_may_see(self, client):
        article = make_article()
        created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        root = make_comment(
            article, status=Comment.Status.REMOVED, author_name="Gone", body="secret"
        )
        reply = make_comment(
            article, parent=root, body="Line one\nline two\n\nPara two", created=created
        )
        make_comment(article, parent=reply, status=Comment.Status.PENDING)
        make_comment(article, status=Comment.Status.SPAM)
        make_comment(article, status=Comment.Status.REMOVED)
        session = client.session
        session["comments_own_pending"] = list(article.comments.values_list("pk", flat=True))
        session.save()
        _, data = get(client, f"/api/articles/{article.slug}/")
        assert data["comment_count"] == 1
        assert len(data["comments"]["results"]) == 1
        placeholder = data["comments"]["results"][0]
        assert placeholder["id"] == root.pk
        assert placeholder["removed"] is True
        assert placeholder["author"] == "" and placeholder["body"] == ""
        (visible,) = placeholder["replies"]
        assert visible["body"] == "Line one\nline two\n\nPara two"
        assert visible["created"] == "2026-01-02T03:04:05Z"
        assert visible["replies"] == []

    def test_text_is_not_escaped_html(self, client):
        article = make_article(title="Q&A <live>")
        make_comment(article, author_name="Ա <b>", body="5 < 6 & http://example.org")
        _, data = get(client, f"/api/articles/{article.slug}/")
        assert data["title"] == "Q&A <live>"
        assert data["comments"]["results"][0]["author"] == "Ա <b>"
        assert data["comments"]["results"][0]["body"] == "5 < 6 & http://example.org"

    @pytest.mark.parametrize("slug", ["no-such-article", "future"])
    def test_unknown_slug_is_a_json_404(self, client, slug):
        make_article(slug="future", published_at=timezone.now() + timedelta(days=1))
        response, data = get(client, f"/api/articles/{slug}/")
        assert response.status_code == 404
        assert data == {"error": "not found"}

    def test_queries_are_fixed(self, client, django_assert_max_num_queries):
        article = make_article()
        for _ in range(10):
            parent = make_comment(article)
            for _ in range(5):
                parent = make_comment(article, parent=parent)
        # The article with its count, the number of threads, the rows of the page's threads.
        with django_assert_max_num_queries(3):
            response = client.get(f"/api/articles/{article.slug}/")
        assert response.json()["comment_count"] == 60

    def test_comments_come_a_page_of_threads_at_a_time(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article(slug="paged")
        roots = [make_comment(article) for _ in range(5)]
        reply = make_comment(article, parent=roots[2])
        url = "/api/articles/paged/"
        _, first = get(client, url)
        assert first["comments"]["count"] == 5
        assert first["comments"]["previous"] is None
        assert first["comments"]["next"] == f"{BASE}{url}?page=2"
        assert [c["id"] for c in first["comments"]["results"]] == [roots[0].pk, roots[1].pk]
        _, second = get(client, url, page=2)
        assert second["comments"]["previous"] == f"{BASE}{url}?page=1"
        assert second["comments"]["next"] == f"{BASE}{url}?page=3"
        assert [
            (c["id"], [r["id"] for r in c["replies"]]) for c in second["comments"]["results"]
        ] == [
            (roots[2].pk, [reply.pk]),
            (roots[3].pk, []),
        ]
        # Every page carries the whole article, as the first does.
        assert second["comment_count"] == 6 and second["body"] == first["body"]

    @pytest.mark.parametrize("page", ["4", "0", "-1", "two"])
    def test_a_page_of_threads_that_does_not_exist_is_a_json_404(self, client, page, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article(slug="paged")
        for _ in range(5):
            make_comment(article)
        response, data = get(client, "/api/articles/paged/", page=page)
        assert response.status_code == 404
        assert data == {"error": "no such page"}

    def test_a_page_of_threads_answers_a_conditional_request(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 1)
        article = make_article(slug="paged")
        make_comment(article)
        make_comment(article)
        first = client.get("/api/articles/paged/", {"page": 2})
        again = client.get(
            "/api/articles/paged/", {"page": 2}, headers={"if-none-match": first["ETag"]}
        )
        assert again.status_code == 304
        make_comment(article)
        changed = client.get(
            "/api/articles/paged/", {"page": 2}, headers={"if-none-match": first["ETag"]}
        )
        assert changed.status_code == 200
        assert changed.json()["comments"]["next"].endswith("?page=3")


@pytest.mark.parametrize("url", ["/api/articles/", "/api/articles/some-slug/"])
def test_read_only(client, url):
    make_article(slug="some-slug")
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405
