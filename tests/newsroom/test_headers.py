"""No response carries a header a WSGI server refuses (PEP 3333: Latin-1, no line breaks),
whatever a reader typed: the remembered name once answered gunicorn's bare 500."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_article, make_comment

pytestmark = pytest.mark.django_db

NAME = "Անի 🌷 王"
EMAIL = "ani@пример.рф"


def sent_headers(response) -> list[tuple[str, str]]:
    """The headers as Django's WSGI handler hands them to the server."""
    return [
        *response.items(),
        *(("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()),
    ]


def assert_sendable(response) -> None:
    for name, value in sent_headers(response):
        value.encode("latin-1")
        assert not set(value) & {"\r", "\n", "\0"}, (name, value)


def test_every_view_answers_with_headers_a_server_accepts(admin_user):
    article = make_article()
    comment = make_comment(article)
    reader = Client()
    posted = reader.post(
        reverse("comments:post", args=[article.slug]),
        {"name": NAME, "email": EMAIL, "body": "Բարև", "parent": "", "remember": "on"},
    )
    assert posted.status_code == 302
    responses = [posted]
    moderator = Client()
    moderator.force_login(admin_user)
    for client in (Client(), reader, moderator):
        for url in (
            reverse("articles:list"),
            f"{reverse('articles:list')}?q={NAME}",
            article.get_absolute_url(),
            f"{article.get_absolute_url()}?page={NAME}",
            reverse("comments:reply", args=[article.slug, comment.pk]),
            reverse("comments:report", args=[article.slug, comment.pk]),
            reverse("articles:comments_feed", args=[article.slug]),
            reverse("articles:feed"),
            reverse("articles:api_list"),
            reverse("articles:api_detail", args=[article.slug]),
            reverse("healthz"),
            reverse("admin:index"),
            "/no-such-page/",
        ):
            responses.append(client.get(url))
    responses.append(reader.post(reverse("comments:report", args=[article.slug, comment.pk]),
                                 {"reason": "spam"}))
    assert {response.status_code for response in responses} <= {200, 302, 404}
    for response in responses:
        assert_sendable(response)
