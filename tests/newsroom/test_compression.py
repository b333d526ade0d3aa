"""HTML, feeds and the API go out compressed to clients that accept gzip (GZipMiddleware)."""

import gzip
import re

import pytest
from django.test import Client

from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db


def fetch(url: str, *, client=None, gzip_ok: bool = True):
    headers = {"Accept-Encoding": "gzip, deflate, br"} if gzip_ok else {}
    return (client or Client()).get(url, headers=headers)


@pytest.fixture
def article():
    article = make_article(title="Compressed talks")
    for n in range(5):
        make_comment(article, body=f"Comment number {n} on the talks.")
    return article


@pytest.mark.parametrize("where", ["list", "article", "feed", "comments feed", "api", "404"])
def test_compressed_for_a_client_that_accepts_gzip(client, article, where):
    url = {
        "list": "/",
        "article": article.get_absolute_url(),
        "feed": "/feeds/articles/",
        "comments feed": f"/articles/{article.slug}/comments/feed/",
        "api": f"/api/articles/{article.slug}/",
        "404": "/nowhere/",
    }[where]
    plain = fetch(url, gzip_ok=False)
    response = fetch(url)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert int(response["Content-Length"]) == len(response.content) < len(plain.content)
    text = gzip.decompress(response.content).decode()
    assert ("Compressed talks" in text) or where == "404"
    assert "Content-Encoding" not in plain
    assert "Accept-Encoding" in plain["Vary"]


def test_the_shared_article_page_is_compressed_with_each_readers_own_token(article):
    pages = [gzip.decompress(fetch(article.get_absolute_url()).content) for _ in range(2)]
    tokens = [re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', p)[1] for p in pages]
    # The second page came from the shared copy: the token is still the reader's own, masked
    # anew, so compressing it leaks nothing across responses (BREACH).
    assert tokens[0] != tokens[1]
    assert b"__newsroom_csrf_token__" not in pages[1]


def test_each_compressed_answer_differs_in_length(article):
    # GZipMiddleware pads the gzip header with 0-99 random bytes against length attacks.
    lengths = {len(fetch("/feeds/articles/").content) for _ in range(20)}
    assert len(lengths) > 1


def test_the_shared_article_page_is_compressed_once_not_for_every_reader(article, monkeypatch):
    import django.middleware.gzip

    plain = fetch(article.get_absolute_url(), gzip_ok=False).content
    compressed = []
    real = django.middleware.gzip.compress_string

    def counted(*args, **kwargs):
        compressed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(django.middleware.gzip, "compress_string", counted)
    response = fetch(article.get_absolute_url())
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert compressed == []
    page = gzip.decompress(response.content)
    token = rb'name="csrfmiddlewaretoken" value="[^"]+"'
    assert re.sub(token, b"", page) == re.sub(token, b"", plain)


def test_a_page_rendered_for_one_reader_joins_the_discussion_compressed_once(
    article, monkeypatch
):
    import django.middleware.gzip

    from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, remember_cookie_value

    reader = Client()
    reader.cookies[AUTHOR_COOKIE] = remember_cookie_value("Անի")
    reader.cookies[EMAIL_COOKIE] = remember_cookie_value("ani@example.org")
    plain = fetch(article.get_absolute_url(), client=reader, gzip_ok=False).content
    assert "Անի".encode() in plain and b"Comment number 4 on the talks." in plain
    monkeypatch.setattr(
        django.middleware.gzip, "compress_string", lambda *a, **k: pytest.fail("compressed again")
    )
    response = fetch(article.get_absolute_url(), client=reader)
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    token = rb'name="csrfmiddlewaretoken" value="[^"]+"'
    page = gzip.decompress(response.content)
    assert re.sub(token, b"", page) == re.sub(token, b"", plain)
    assert b"<newsroom-discussion>" not in plain
