"""What the reader pages tell browsers, search engines and archives beside the text: the
publication date, the meta tags, the schema.org record."""

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from articles.models import Article
from articles.structured_data import news_article
from comments import selectors
from comments.models import Comment
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
# The site's one date format (comments/rendering.py), with whole seconds in `datetime`.
COMMENTED = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
SITE_DESCRIPTION = "The paper’s articles and its readers’ discussion."
PUBLISHED_TIME = (
    '<time datetime="2026-03-04T05:06:07+00:00" title="Wednesday 4 March 2026, 05:06 UTC">'
    "4 Mar 2026, 05:06</time>"
)


class TestPublicationDate:
    def test_in_the_article_list(self, client):
        make_article(published_at=PUBLISHED)
        html = client.get("/").content.decode()
        assert f'<p class="published">{PUBLISHED_TIME}</p>' in html

    def test_on_the_article_page(self, client):
        article = make_article(published_at=PUBLISHED, byline="Ani Ter")
        html = client.get(article.get_absolute_url()).content.decode()
        assert f'<span class="published">{PUBLISHED_TIME}</span>' in html

    def test_on_an_article_without_publication_or_byline(self, client):
        article = make_article(published_at=PUBLISHED)
        html = client.get(article.get_absolute_url()).content.decode()
        assert f'<span class="published">{PUBLISHED_TIME}</span>' in html

    def test_in_the_sites_time_zone(self, client, settings):
        settings.TIME_ZONE = "Asia/Yerevan"
        article = make_article(published_at=PUBLISHED)
        html = client.get(article.get_absolute_url()).content.decode()
        assert (
            '<time datetime="2026-03-04T09:06:07+04:00" '
            'title="Wednesday 4 March 2026, 09:06 +04">4 Mar 2026, 09:06</time>'
        ) in html


class HeadTags(HTMLParser):
    """The page's <meta> tags by name or property, its icon links, its JSON-LD blocks."""

    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.icons: list[dict] = []
        self.json_ld: list[str] = []
        self._in_json_ld = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            self.meta[attrs.get("name") or attrs.get("property")] = attrs["content"]
        elif tag == "link" and attrs.get("rel") == "icon":
            self.icons.append(attrs)
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False


def head_tags(client, url, **query) -> HeadTags:
    response = client.get(url, query)
    assert response.status_code == 200
    return HeadTags(response.content.decode())


class TestMetaTags:
    def test_the_list_describes_the_site(self, client):
        make_article()
        tags = head_tags(client, "/")
        assert tags.meta["description"] == SITE_DESCRIPTION
        assert tags.meta["og:type"] == "website"
        assert tags.meta["og:title"] == "Newsroom"
        assert tags.meta["og:description"] == SITE_DESCRIPTION
        assert tags.meta["twitter:card"] == "summary"
        assert tags.icons == [
            {"rel": "icon", "href": "/static/favicon.svg", "type": "image/svg+xml"}
        ]

    def test_an_article_describes_itself(self, client):
        article = make_article(
            title='Talks "resume" & end',
            body=[
                {"type": "heading", "text": "Not this"},
                {"type": "paragraph", "text": "Envoys met <again> in Geneva."},
            ],
            published_at=PUBLISHED,
        )
        tags = head_tags(client, article.get_absolute_url())
        assert tags.meta["description"] == "Envoys met <again> in Geneva."
        assert tags.meta["og:type"] == "article"
        assert tags.meta["og:title"] == 'Talks "resume" & end'
        assert tags.meta["og:description"] == "Envoys met <again> in Geneva."
        assert tags.meta["og:url"] == f"http://testserver/articles/{article.slug}/"
        assert tags.meta["article:published_time"] == "2026-03-04T05:06:07+00:00"
        assert tags.meta["twitter:card"] == "summary"
        assert [icon["href"] for icon in tags.icons] == ["/static/favicon.svg"]

    def test_og_url_is_the_article_whatever_the_query(self, client):
        article = make_article()
        tags = head_tags(client, article.get_absolute_url(), sort="newest")
        assert tags.meta["og:url"] == f"http://testserver/articles/{article.slug}/"

    def test_an_article_without_a_paragraph_is_described_by_its_title(self, client):
        article = make_article(title="Pictures only", body=[])
        tags = head_tags(client, article.get_absolute_url())
        assert tags.meta["description"] == "Pictures only"
        assert tags.meta["og:description"] == "Pictures only"


def news_article_of(client, article, **query) -> dict:
    (block,) = head_tags(client, article.get_absolute_url(), **query).json_ld
    return json.loads(block)


class TestSchemaOrg:
    def test_a_news_article_with_its_comments(self, client):
        article = make_article(
            title="Arms talks",
            byline="Ani Ter",
            body=[{"type": "paragraph", "text": "Envoys met."}],
            published_at=PUBLISHED,
        )
        root = make_comment(
            article, author_name="Aram", body="First.\n\nSecond.", created=COMMENTED
        )
        reply = make_comment(
            article,
            parent=root,
            author_name="Lilit",
            body="Agreed.",
            created=datetime(2026, 3, 5, 11, 30, 15, 999999, tzinfo=UTC),
        )
        record = news_article_of(client, article)
        url = f"http://testserver/articles/{article.slug}/"
        article.refresh_from_db()
        assert record == {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "@id": url,
            "url": url,
            "headline": "Arms talks",
            "datePublished": "2026-03-04T05:06:07+00:00",
            "dateModified": article.updated.isoformat(timespec="seconds"),
            "publisher": {"@type": "Organization", "name": "Newsroom"},
            "discussionUrl": f"{url}#comments",
            "commentCount": 2,
            "author": {"@type": "Person", "name": "Ani Ter"},
            "description": "Envoys met.",
            "comment": [
                {
                    "@type": "Comment",
                    "@id": f"{url}comments/{root.pk}/",
                    "url": f"{url}comments/{root.pk}/",
                    "author": {"@type": "Person", "name": "Aram"},
                    "text": "First.\n\nSecond.",
                    "dateCreated": "2026-03-05T10:00:00+00:00",
                },
                {
                    "@type": "Comment",
                    "@id": f"{url}comments/{reply.pk}/",
                    "url": f"{url}comments/{reply.pk}/",
                    "author": {"@type": "Person", "name": "Lilit"},
                    "text": "Agreed.",
                    "dateCreated": "2026-03-05T11:30:15+00:00",
                    "parentItem": {"@id": f"{url}comments/{root.pk}/"},
                },
            ],
        }

    def test_only_published_comments_even_for_their_author(self, client):
        article = make_article()
        hidden = make_comment(article, status=Comment.Status.REMOVED)
        under_hidden = make_comment(article, parent=hidden, author_name="Seen")
        make_comment(article, status=Comment.Status.SPAM)
        mine = make_comment(article, status=Comment.Status.PENDING)
        session = client.session
        session["comments_own_pending"] = [mine.pk]
        session.save()
        html = client.get(article.get_absolute_url()).content.decode()
        assert "awaiting moderation" in html
        (block,) = HeadTags(html).json_ld
        (comment,) = json.loads(block)["comment"]
        # The placeholder above it is no comment of the record, so nothing points to it.
        assert comment["@id"].endswith(f"/comments/{under_hidden.pk}/")
        assert "parentItem" not in comment

    def test_an_imported_comment_has_no_date(self, client):
        article = make_article()
        make_comment(article)
        (comment,) = news_article_of(client, article)["comment"]
        assert "dateCreated" not in comment

    def test_the_comments_of_the_page_shown(self, client, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article()
        threads = [make_comment(article) for _ in range(3)]
        first = news_article_of(client, article)["comment"]
        second = news_article_of(client, article, page=2)["comment"]
        assert [c["@id"].split("/")[-2] for c in first] == [str(c.pk) for c in threads[:2]]
        assert [c["@id"].split("/")[-2] for c in second] == [str(threads[2].pk)]

    def test_no_comments_no_comment_list(self, client):
        record = news_article_of(client, make_article(byline="", body=[]))
        assert "comment" not in record
        assert "author" not in record and "description" not in record
        assert record["commentCount"] == 0

    def test_hostile_text_cannot_leave_the_data_block(self, client):
        article = make_article(title="</script><b>")
        body = "</script><script>alert(1)</script> & <!--"
        make_comment(article, author_name="<img src=x>", body=body)
        html = client.get(article.get_absolute_url()).content.decode()
        start = html.index('<script type="application/ld+json">')
        block = html[start : html.index("</script>", start)]
        assert "<" not in block.removeprefix('<script type="application/ld+json">')
        assert "&" not in block
        record = json.loads(HeadTags(html).json_ld[0])
        assert record["headline"] == "</script><b>"
        assert record["comment"][0]["text"] == body
        assert record["comment"][0]["author"]["name"] == "<img src=x>"

    def test_built_from_the_page_without_a_query(self, rf, django_assert_num_queries):
        article = make_article()
        make_comment(article, parent=make_comment(article))
        article = Article.objects.with_comment_counts().get(pk=article.pk)
        discussion = selectors.discussion_page(article=article, page_number=None, sort=None)
        with django_assert_num_queries(0):
            record = news_article(
                article, discussion.items, absolute_url=rf.get("/").build_absolute_uri
            )
        assert len(record["comment"]) == 2
