"""The feeds and the JSON API carry validators and answer 304 to a client that is up to date
(newsroom/conditional_get.py)."""

from datetime import UTC, datetime

import pytest
import redis
from django.utils.http import parse_http_date

from comments.models import Comment
from newsroom import conditional_get
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def remove(comment: Comment) -> None:
    comment.status = Comment.Status.REMOVED
    comment.save()


def retitle(comment: Comment) -> None:
    comment.article.title = "Talks resume"
    comment.article.save()


def reply(comment: Comment) -> None:
    make_comment(comment.article, parent=comment)


ENDPOINTS = {
    "articles feed": ("/feeds/articles/", retitle),
    "comments feed": ("/articles/{slug}/comments/feed/", remove),
    "API list": ("/api/articles/", reply),
    "API detail": ("/api/articles/{slug}/", remove),
}


@pytest.fixture(params=list(ENDPOINTS))
def endpoint(request):
    url, change = ENDPOINTS[request.param]
    article = make_article(title="Talks")
    make_comment(article)
    comment = make_comment(article)
    return url.format(slug=article.slug), lambda: change(comment)


def test_validators_and_a_public_max_age(client, endpoint):
    url, _ = endpoint
    response = client.get(url)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34
    assert parse_http_date(response["Last-Modified"])
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=60"}


def test_304_while_nothing_changed_and_the_answer_again_after_a_change(client, endpoint):
    url, change = endpoint
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = client.get(url, headers=headers)
        assert again.status_code == 304, headers
        assert again.content == b""
        assert again["ETag"] == etag and again["Last-Modified"] == modified
    change()
    # Within the same second too: the new answer is dated after the old one.
    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 200
    assert by_etag["ETag"] != etag
    assert by_etag.content != first.content
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 200
    assert parse_http_date(by_date["Last-Modified"]) > parse_http_date(modified)
    assert client.get(url, headers={"If-None-Match": by_etag["ETag"]}).status_code == 304


def test_a_compressed_answers_weak_etag_still_matches(client, endpoint):
    url, _ = endpoint
    # Long enough that gzip, with its 0-99 random header bytes, always makes it shorter:
    # GZipMiddleware sends a short answer as it is.
    for day in range(10):
        make_comment(make_article(title=f"Talks on the ceasefire, day {day}"), body="Go on. " * 40)
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first["Content-Encoding"] == "gzip"
    assert first["ETag"].startswith('W/"')
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_an_answer_back_to_an_older_one_is_dated_anew(client):
    article = make_article()
    comment = make_comment(article)
    url = f"/api/articles/{article.slug}/"
    before = client.get(url)
    remove(comment)
    changed = client.get(url)
    comment.status = Comment.Status.PUBLISHED
    comment.save()
    back = client.get(url)
    assert back["ETag"] == before["ETag"]
    # A client holding the removal's answer must not be told the restored one is the same.
    held = client.get(url, headers={"If-Modified-Since": changed["Last-Modified"]})
    assert held.status_code == 200
    assert parse_http_date(back["Last-Modified"]) > parse_http_date(changed["Last-Modified"])


def test_an_undated_comments_feed_is_built_at_the_articles_date(client):
    # Not now, as Django's feeds have it: the answer, and its ETag, would change every second.
    article = make_article(published_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    make_comment(article)
    content = client.get(f"/articles/{article.slug}/comments/feed/").content
    assert b"<pubDate>" not in content
    assert b"<lastBuildDate>Wed, 04 Mar 2026 05:06:07 +0000</lastBuildDate>" in content


def test_errors_carry_no_validators(client):
    response = client.get("/api/articles/nope/")
    assert response.status_code == 404
    assert "ETag" not in response and "Last-Modified" not in response


def test_without_the_cache_the_answer_is_dated_now_and_still_sent(client, monkeypatch, caplog):
    article = make_article()
    url = f"/api/articles/{article.slug}/"
    first = client.get(url)

    def down(*args, **kwargs):
        raise redis.ConnectionError("cache away")

    monkeypatch.setattr(conditional_get.cache, "get", down)
    monkeypatch.setattr(conditional_get.time, "time", lambda: 4_000_000_000)
    response = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert response.status_code == 200
    assert parse_http_date(response["Last-Modified"]) == 4_000_000_000
    assert "answer dates unavailable" in caplog.text
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
