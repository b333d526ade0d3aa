"""The RSS feeds of the latest articles and of an article's latest comments."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from comments.models import Comment
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def items(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    # The document is this site's own output, parsed to check its shape.
    channel = ElementTree.fromstring(response.content).find("channel")  # noqa: S314
    return channel, channel.findall("item")


def test_latest_articles_newest_first(client):
    now = timezone.now()
    articles = [
        make_article(title=f"Story {n:02d}", published_at=now - timedelta(hours=n))
        for n in range(25)
    ]
    make_article(title="Not yet", published_at=now + timedelta(hours=1))
    channel, entries = items(client, "/feeds/articles/")
    assert channel.findtext("title") == "Newsroom: latest articles"
    assert [e.findtext("title") for e in entries] == [f"Story {n:02d}" for n in range(20)]
    assert entries[0].findtext("link") == f"http://testserver{articles[0].get_absolute_url()}"


def test_article_item_describes_the_first_paragraph_escaped(client):
    article = make_article(
        title="Q&A",
        body=[
            {"type": "heading", "text": "Not this"},
            {"type": "paragraph", "text": "<b>bold</b> claim"},
            {"type": "paragraph", "text": "Second"},
        ],
        byline="Ani",
    )
    _, (entry,) = items(client, "/feeds/articles/")
    assert entry.findtext("title") == "Q&A"
    assert entry.findtext("link") == f"http://testserver{article.get_absolute_url()}"
    # Once the XML is read, the description is HTML whose text is the paragraph.
    assert entry.findtext("description") == "<p>&lt;b&gt;bold&lt;/b&gt; claim</p>"


def test_article_items_carry_the_publication_date(client):
    make_article(published_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    _, (entry,) = items(client, "/feeds/articles/")
    assert entry.findtext("pubDate") == "Wed, 04 Mar 2026 05:06:07 +0000"


def test_latest_comments_of_an_article(client):
    article = make_article(title="Talks")
    other = make_article()
    old = make_comment(article, body="old", created=datetime(2026, 1, 1, tzinfo=UTC))
    new = make_comment(article, body="new", created=datetime(2026, 2, 1, tzinfo=UTC))
    undated = make_comment(article, parent=old, body="imported")
    make_comment(article, status=Comment.Status.PENDING, body="pending")
    make_comment(article, status=Comment.Status.SPAM, body="spam")
    make_comment(article, status=Comment.Status.REMOVED, body="removed")
    make_comment(other, body="elsewhere")
    channel, entries = items(client, f"/articles/{article.slug}/comments/feed/")
    assert channel.findtext("title") == "Comments on Talks"
    descriptions = [e.findtext("description") for e in entries]
    assert descriptions == ["<p>new</p>", "<p>old</p>", "<p>imported</p>"]
    links = [e.findtext("link") for e in entries]
    assert links == [
        f"http://testserver/articles/{article.slug}/comments/{c.pk}/" for c in (new, old, undated)
    ]
    assert entries[0].findtext("title") == f"{new.author_name} on Talks"
    assert entries[0].findtext("pubDate").startswith("Sun, 01 Feb 2026")
    assert entries[2].findtext("pubDate") is None


def test_comment_feed_escapes_hostile_text(client):
    article = make_article()
    make_comment(article, author_name="<i>x</i>", body="<script>alert(1)</script>")
    response = client.get(f"/articles/{article.slug}/comments/feed/")
    _, (entry,) = items(client, f"/articles/{article.slug}/comments/feed/")
    assert entry.findtext("description") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert b"<script>" not in response.content


def test_a_stored_control_character_does_not_break_the_feeds(client):
    article = make_article(title="Talks\x0b")
    make_comment(article, author_name="Bell\x07", body="beep\x01\x1b[0m done")
    _, (entry,) = items(client, f"/articles/{article.slug}/comments/feed/")
    assert entry.findtext("title") == "Bell on Talks"
    assert entry.findtext("description") == "<p>beep[0m done</p>"
    creator = entry.findtext("{http://purl.org/dc/elements/1.1/}creator")
    assert creator == "Bell"
    _, entries = items(client, "/feeds/articles/")
    assert [e.findtext("title") for e in entries] == ["Talks"]


@pytest.mark.parametrize("slug", ["no-such-article", "future"])
def test_comment_feed_of_unknown_article_is_404(client, slug):
    make_article(slug="future", published_at=timezone.now() + timedelta(days=1))
    response = client.get(f"/articles/{slug}/comments/feed/")
    assert response.status_code == 404


def test_feeds_are_linked_from_the_pages(client):
    article = make_article()
    assert 'href="/feeds/articles/"' in client.get("/").content.decode()
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'href="/articles/{article.slug}/comments/feed/"' in html
