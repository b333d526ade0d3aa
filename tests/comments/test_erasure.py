"""Erase me: an account from its settings page, a guest through a link mailed to the
address; the comments keep their places as "[deleted by its author]"."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from comments.erasure import ERASE_SALT, NEUTRAL_MESSAGE, erase_token
from comments.models import (
    Comment,
    Commenter,
    CommentRevision,
    ReplyMailPreference,
    ReplySubscription,
    UnconfirmedComment,
)
from comments.services import comment_edit, commenter_for_email
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db
PASSWORD = "a long passphrase 1"


def personal(comment: Comment) -> tuple:
    comment.refresh_from_db()
    return (
        comment.status,
        comment.author_name,
        comment.author_email,
        comment.body,
        comment.ip_address,
        comment.user_agent,
        comment.commenter_id,
    )


def without_csrf(text: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


ERASED = (Comment.Status.DELETED, "", "", "", None, "", None)


class TestAccountErase:
    def test_the_settings_page_links_to_it(self, client):
        client.force_login(make_reader())
        page = client.get(reverse("comments:settings"))
        assert reverse("comments:account_erase") in page.text

    def test_the_password_confirms_and_everything_goes(self, client, mailoutbox, committing):
        reader = make_reader(email="ada@example.com")
        commenter = reader.commenter
        article = make_article()
        mine = make_comment(
            article,
            commenter=commenter,
            author_email="ada@example.com",
            ip_address="203.0.113.5",
            user_agent="Firefox",
            created=timezone.now(),
        )
        reply = make_comment(article, parent=mine, body="An answer that stays.")
        comment_edit(comment_id=mine.pk, body="Edited.", editor=reader, ip_address=None)
        ReplySubscription.objects.create(comment=mine, commenter=commenter)
        ReplyMailPreference.objects.create(commenter=commenter, subscribe_by_default=True)
        client.force_login(reader)
        assert client.get(reverse("comments:account_erase")).status_code == 200

        response = committing(
            client.post, reverse("comments:account_erase"), {"password": PASSWORD}
        )

        assert response.status_code == 200
        assert "Your data is erased" in response.text
        assert personal(mine) == ERASED
        assert not CommentRevision.objects.filter(comment=mine).exists()
        assert not ReplySubscription.objects.exists()
        assert not Commenter.objects.filter(pk=commenter.pk).exists()
        assert not get_user_model().objects.filter(pk=reader.pk).exists()
        [mail] = mailoutbox
        assert mail.to == ["ada@example.com"]
        assert "erased" in mail.subject
        assert "your 1 comment now reads" in mail.body
        page = client.get(article.get_absolute_url())
        assert "[deleted by its author]" in page.text
        assert "An answer that stays." in page.text
        assert Comment.objects.get(pk=reply.pk).status == Comment.Status.PUBLISHED
        # Signed out: the session went with the account.
        assert client.get(reverse("comments:settings")).status_code == 302

    def test_a_wrong_password_erases_nothing(self, client, mailoutbox, committing):
        reader = make_reader()
        comment = make_comment(make_article(), commenter=reader.commenter)
        client.force_login(reader)
        response = committing(client.post, reverse("comments:account_erase"), {"password": "wrong"})
        assert response.status_code == 400
        assert "That is not your password. Nothing was erased." in response.text
        assert personal(comment)[0] == Comment.Status.PUBLISHED
        assert get_user_model().objects.filter(pk=reader.pk).exists()
        assert mailoutbox == []

    def test_signed_out_readers_are_sent_to_sign_in(self, client):
        response = client.get(reverse("comments:account_erase"))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]

    def test_a_moderators_removal_stays_a_removal_but_loses_its_data(self, client):
        reader = make_reader()
        removed = make_comment(
            make_article(), commenter=reader.commenter, status=Comment.Status.REMOVED
        )
        client.force_login(reader)
        client.post(reverse("comments:account_erase"), {"password": PASSWORD})
        assert personal(removed) == (Comment.Status.REMOVED, *ERASED[1:])


class TestGuestErase:
    def guest_comments(self, address="Grace@Example.com"):
        article = make_article()
        first = make_comment(article, author_email=address, ip_address="198.51.100.7")
        second = make_comment(article, parent=first, author_email=address.lower())
        answer = make_comment(article, parent=second, body="Someone else's answer.")
        return article, first, second, answer

    def ask(self, client, address):
        return client.post(reverse("comments:guest_erase"), {"email": address}, follow=True)

    def test_a_link_is_mailed_and_its_confirmation_erases(self, client, mailoutbox, committing):
        article, first, second, answer = self.guest_comments()
        commenter = commenter_for_email(email="grace@example.com", display_name="Grace")
        Comment.objects.filter(pk=first.pk).update(commenter=commenter)
        UnconfirmedComment.objects.create(
            article=article, author_name="Grace", author_email="grace@example.com",
            body="Waiting.", created=timezone.now(), nonce="n",
        )
        assert client.get(reverse("comments:guest_erase")).status_code == 200

        page = committing(self.ask, client, "grace@example.com")

        assert NEUTRAL_MESSAGE in page.text
        [mail] = mailoutbox
        assert mail.to == ["grace@example.com"]
        assert "grace" not in mail.body.split("http", 1)[1].split()[0].lower()
        link = next(word for word in mail.body.split() if "/comments/erase/" in word)
        path = link.split("://", 1)[1].split("/", 1)[1]
        confirm = client.get(f"/{path}")
        assert confirm.status_code == 200
        assert "Erase your comments?" in confirm.text
        assert personal(first)[0] == Comment.Status.PUBLISHED  # a GET changes nothing

        done = committing(client.post, f"/{path}")

        assert done.status_code == 200
        assert personal(first) == ERASED
        assert personal(second) == ERASED
        assert personal(answer)[0] == Comment.Status.PUBLISHED
        assert not Commenter.objects.filter(pk=commenter.pk).exists()
        assert not UnconfirmedComment.objects.exists()
        assert mailoutbox[-1].to == ["grace@example.com"]
        assert "erased" in mailoutbox[-1].subject
        page = client.get(article.get_absolute_url())
        assert page.text.count("[deleted by its author]") == 2
        assert "Someone else's answer." in page.text
        # The link names nothing now.
        assert client.get(f"/{path}").status_code == 400

    def test_an_address_with_nothing_stored_gets_the_same_answer_and_no_mail(
        self, client, mailoutbox, committing
    ):
        self.guest_comments()
        known = committing(self.ask, client, "grace@example.com")
        unknown = committing(self.ask, client, "nobody@example.com")
        assert known.status_code == unknown.status_code == 200
        assert NEUTRAL_MESSAGE in unknown.text
        assert without_csrf(known.text) == without_csrf(unknown.text)
        assert [mail.to for mail in mailoutbox] == [["grace@example.com"]]

    def test_an_accounts_comments_are_not_a_guests_to_erase(self, client, mailoutbox, committing):
        reader = make_reader(email="acct@example.com")
        make_comment(make_article(), commenter=reader.commenter, author_email="acct@example.com")
        committing(self.ask, client, "acct@example.com")
        assert mailoutbox == []

    def test_a_bad_address_comes_back_with_the_error(self, client):
        response = client.post(reverse("comments:guest_erase"), {"email": "not an address"})
        assert response.status_code == 400
        assert "Enter a valid email address" in response.text

    def test_a_tampered_link_is_refused_and_erases_nothing(self, client):
        _, first, _, _ = self.guest_comments()
        token = erase_token("grace@example.com")
        url = reverse("comments:guest_erase_confirm", args=[token[:-2] + "xx"])
        assert client.get(url).status_code == 400
        response = client.post(url)
        assert response.status_code == 400
        assert "This link is not valid" in response.text
        assert personal(first)[0] == Comment.Status.PUBLISHED

    def test_a_link_for_another_address_is_refused(self, client):
        _, first, _, _ = self.guest_comments()
        forged = signing.dumps(
            {"d": "0" * 32, "c": first.pk, "r": None, "u": None}, salt=ERASE_SALT, compress=True
        )
        response = client.post(reverse("comments:guest_erase_confirm", args=[forged]))
        assert response.status_code == 400
        assert personal(first)[0] == Comment.Status.PUBLISHED

    def test_an_expired_link_is_refused(self, client):
        _, first, _, _ = self.guest_comments()
        token = erase_token("grace@example.com")
        later = timezone.now() + timedelta(hours=25)
        with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
            response = client.post(reverse("comments:guest_erase_confirm", args=[token]))
        assert response.status_code == 410
        assert "This link has expired" in response.text
        assert personal(first)[0] == Comment.Status.PUBLISHED


def test_an_unverified_accounts_address_does_not_erase_the_guest_comments_under_it(client):
    reader = make_reader(email="shared@example.com", verified=False)
    guest = make_comment(make_article(), author_email="shared@example.com")
    client.force_login(reader)
    client.post(reverse("comments:account_erase"), {"password": PASSWORD})
    assert not get_user_model().objects.filter(pk=reader.pk).exists()
    assert personal(guest)[0] == Comment.Status.PUBLISHED
    assert personal(guest)[2] == "shared@example.com"


def test_a_verified_accounts_address_erases_its_guest_comments_too(client):
    reader = make_reader(email="mine@example.com")
    guest = make_comment(make_article(), author_email="Mine@example.com")
    client.force_login(reader)
    client.post(reverse("comments:account_erase"), {"password": PASSWORD})
    assert personal(guest) == ERASED


def test_too_many_erase_requests_get_a_429_page(client, settings):
    settings.COMMENT_RATE_LIMIT = "1/3600"
    url = reverse("comments:guest_erase")
    assert client.post(url, {"email": "a@example.com"}).status_code == 302
    response = client.post(url, {"email": "a@example.com"})
    assert response.status_code == 429
    assert "You have sent several requests in a short time" in response.text
    assert response["Retry-After"]
