"""The authentication backends load a signed-in user with their account's commenting details
in one query (comments/auth_backends.py, comments/subscriptions.py)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from comments.auth_backends import AuthenticationBackend, ModelBackend
from comments.models import ReplyMailPreference
from comments.subscriptions import AccountCommenting, account_commenting
from tests.factories import make_article, make_reader

pytestmark = pytest.mark.django_db

BACKENDS = [ModelBackend, AuthenticationBackend]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("subscribes", [True, False])
def test_the_user_comes_with_the_name_and_reply_mail_default(
    backend, subscribes, django_assert_num_queries
):
    reader = make_reader(display_name="Անի <Reader>")
    ReplyMailPreference.objects.create(
        commenter=reader.commenter, subscribe_by_default=subscribes
    )
    with django_assert_num_queries(1):
        user = backend().get_user(reader.pk)
        assert user == reader
        assert account_commenting(user) == AccountCommenting("Անի <Reader>", subscribes)
    # The user is whole: what Django reads from it is there, in its types.
    assert user.username == reader.username
    assert user.check_password("a long passphrase 1")
    assert user.date_joined == reader.date_joined


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_without_a_commenter_or_a_preference_reads_as_the_defaults(
    backend, django_assert_num_queries
):
    plain = get_user_model().objects.create_user("editor", password="x" * 20)
    reader = make_reader(display_name="Ann")
    with django_assert_num_queries(2):
        assert account_commenting(backend().get_user(plain.pk)) == AccountCommenting("", False)
        assert account_commenting(backend().get_user(reader.pk)) == AccountCommenting(
            "Ann", False
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unknown_or_inactive_user_is_nobody(backend):
    reader = make_reader(is_active=False)
    assert backend().get_user(reader.pk) is None
    assert backend().get_user(reader.pk + 1000) is None


def test_a_signed_in_readers_form_shows_their_name_and_default_in_two_queries(
    django_assert_num_queries,
):
    article = make_article()
    reader = make_reader(display_name="Ann Reader")
    ReplyMailPreference.objects.create(commenter=reader.commenter, subscribe_by_default=True)
    client = Client()
    client.force_login(reader)
    client.get(article.get_absolute_url())
    # The session, then the user with their account's name and default; the page's article
    # and discussion come from the cache.
    with django_assert_num_queries(2):
        html = client.get(article.get_absolute_url()).content.decode()
    assert "Commenting as <strong>Ann Reader</strong>" in html
    assert 'name="notify_replies" id="id_notify_replies" checked' in html


def test_a_sign_in_by_email_uses_the_projects_backend():
    reader = make_reader(email="ann@example.org")
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "ann@example.org", "password": "a long passphrase 1"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "comments.auth_backends.AuthenticationBackend"
    assert client.get("/").wsgi_request.user == reader
