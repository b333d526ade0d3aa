"""The article page's shared copy served before the layers a plain anonymous reader has no use
for (articles/middleware.py): which requests it answers, and that its answer is the view's."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client
from django.urls import reverse

from articles.views import SORT_COOKIE
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, remember_cookie_value
from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


@pytest.fixture
def article():
    article = make_article(title="Summit cancelled")
    for n in range(5):
        make_comment(article, body=f"Opinion number {n}.")
    return article


def served_early(response) -> bool:
    """Whether the answer came from the middleware: the layers below it, authentication among
    them, never saw the request."""
    return not hasattr(response.wsgi_request, "user")


def without_token(response) -> str:
    return TOKEN_RE.sub(r'\1"', response.content.decode())


def test_a_plain_reader_gets_the_stored_copy_without_a_query(article, django_assert_num_queries):
    built = Client().get(article.get_absolute_url())
    assert not served_early(built)
    with django_assert_num_queries(0):
        response = Client().get(article.get_absolute_url())
    assert response.status_code == 200
    assert served_early(response)
    assert without_token(response) == without_token(built)
    assert response["Cache-Control"] == "private"
    assert "Cookie" in response["Vary"]


def test_a_returning_reader_has_the_csrf_cookie_renewed_and_can_post(article, settings):
    settings.COMMENT_RATE_LIMIT = "off"
    Client().get(article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    first = reader.get(article.get_absolute_url())
    secret = first.cookies["csrftoken"].value
    again = reader.get(article.get_absolute_url())
    assert served_early(first) and served_early(again)
    assert again.cookies["csrftoken"].value == secret
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', again.content.decode())[1]
    posted = reader.post(
        reverse("comments:post", args=[article.slug]),
        {
            "name": "Ann",
            "email": "ann@example.com",
            "body": "Agreed.",
            "parent": "",
            "csrfmiddlewaretoken": token,
        },
    )
    assert posted.status_code == 302


def test_the_view_builds_the_copy_the_middleware_then_serves(article):
    assert not served_early(Client().get(article.get_absolute_url()))
    assert served_early(Client().get(article.get_absolute_url()))
    # The same page and order: the same copy.
    assert served_early(Client().get(article.get_absolute_url(), {"page": "1"}))


@pytest.mark.parametrize(
    "query", [{"utm": "a"}, {"page": "x"}, {"sort": "sideways"}, {"page": "1", "page2": "2"}]
)
def test_a_query_the_cache_does_not_keep_goes_to_the_view(article, query):
    Client().get(article.get_absolute_url())
    Client().get(article.get_absolute_url(), query)
    assert not served_early(Client().get(article.get_absolute_url(), query))


def test_the_order_a_reader_keeps_is_honoured(article):
    Client().get(article.get_absolute_url())
    Client().get(article.get_absolute_url(), {"sort": "newest"})
    reader = Client()
    reader.cookies[SORT_COOKIE] = "newest"
    redirected = reader.get(article.get_absolute_url())
    assert redirected.status_code == 302
    assert redirected["Location"].endswith("?sort=newest")
    kept = reader.get(article.get_absolute_url(), {"sort": "newest"})
    assert served_early(kept)
    changed = reader.get(article.get_absolute_url(), {"sort": "oldest"})
    assert not served_early(changed)
    assert changed.cookies[SORT_COOKIE].value == "oldest"
    # The default order kept: the plain address is the one it shows, served as is.
    assert served_early(reader.get(article.get_absolute_url()))
    assert served_early(reader.get(article.get_absolute_url(), {"sort": "oldest"}))
    # An order of no meaning in the cookie is ignored, as the view ignores it.
    reader.cookies[SORT_COOKIE] = "sideways"
    assert served_early(reader.get(article.get_absolute_url()))


def test_a_reader_with_a_cookie_of_their_own_goes_to_the_view(article):
    Client().get(article.get_absolute_url())
    remembered = Client()
    remembered.cookies[AUTHOR_COOKIE] = remember_cookie_value("Ann Reader")
    remembered.cookies[EMAIL_COOKIE] = remember_cookie_value("ann@example.org")
    response = remembered.get(article.get_absolute_url())
    assert not served_early(response)
    assert 'value="Ann Reader"' in response.content.decode()

    with_message = Client()
    with_message.cookies[CookieStorage.cookie_name] = "anything"
    assert not served_early(with_message.get(article.get_absolute_url()))

    signed_in = Client()
    signed_in.force_login(get_user_model().objects.create_user("editor", password="x" * 20))
    response = signed_in.get(article.get_absolute_url())
    assert not served_early(response)
    assert response.wsgi_request.user.is_authenticated


def test_other_pages_go_to_their_views(article):
    comment = article.comments.first()
    Client().get(article.get_absolute_url())
    for url in (
        reverse("articles:list"),
        reverse("articles:thread", args=[article.slug, comment.pk]),
        reverse("articles:comment_count", args=[article.slug]),
        reverse("articles:detail", args=["no-such-article"]),
        "/articles/",
        "/articles/a/b/c/",
    ):
        assert not served_early(Client().get(url)), url


def test_a_post_to_the_article_address_goes_to_the_view(article):
    Client().get(article.get_absolute_url())
    assert not served_early(Client().post(article.get_absolute_url()))


def test_with_the_page_cache_off_every_request_goes_to_the_view(article, settings):
    settings.ARTICLE_PAGE_CACHE_SECONDS = 0
    Client().get(article.get_absolute_url())
    assert not served_early(Client().get(article.get_absolute_url()))
