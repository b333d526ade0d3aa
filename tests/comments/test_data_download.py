"""The pages of "Download my data": the account's button, a guest's mailed link, and the
answers to a bad link or an address the site does not know."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from comments import data_export, services
from comments.data_export import LINK_SALT, link_token
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import signed_ago

pytestmark = pytest.mark.django_db

NEUTRAL = "If we hold anything for this address, we have sent a link to it."


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://news.example.org"
    settings.COMMENT_RATE_LIMIT = "5/60"


@pytest.fixture
def guest():
    """A guest whose address is confirmed, with a comment."""
    commenter = services.commenter_for_email(email="gus@example.com", display_name="Gus")
    make_comment(make_article(), commenter=commenter, author_name="Gus",
                 author_email="gus@example.com", body="Gus's word.")
    return commenter


def downloaded(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    filename = f"newsroom-data-{timezone.localdate().isoformat()}.json"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]
    return json.loads(response.content)


def link_in(message) -> str:
    return re.search(r"https://news\.example\.org(/comments/my-data/[^/\s]+/)", message.body)[1]


# The account's button


def test_the_account_page_offers_the_download(client):
    client.force_login(make_reader())

    page = client.get(reverse("comments:settings")).content.decode()

    assert f'action="{reverse("comments:account_data")}"' in page
    assert '<button type="submit">Download my data</button>' in page


def test_the_button_downloads_the_accounts_file(client):
    reader = make_reader(display_name="Ann Reader")
    make_comment(make_article(), commenter=reader.commenter, author_email=reader.email,
                 body="Ann's word.")
    client.force_login(reader)

    data = downloaded(client.post(reverse("comments:account_data")))

    assert data["account"]["email"] == reader.email
    assert [row["body"] for row in data["comments"]] == ["Ann's word."]


def test_the_download_needs_a_post_and_a_signed_in_reader(client):
    assert client.post(reverse("comments:account_data")).status_code == 302
    client.force_login(make_reader())
    assert client.get(reverse("comments:account_data")).status_code == 405


# A guest's link


def test_a_guest_asks_for_a_link_and_it_downloads_their_file(client, committing, guest):
    form = client.get(reverse("comments:data_request"))
    assert 'name="email"' in form.content.decode()

    response = committing(client.post, reverse("comments:data_request"),
                          {"email": " GUS@example.com "})

    assert response.status_code == 302
    assert response["Location"] == reverse("comments:data_request_sent")
    assert NEUTRAL in client.get(response["Location"]).content.decode()
    [message] = mail.outbox
    assert message.to == ["gus@example.com"]
    assert "24 hours" in message.body
    data = downloaded(client.get(link_in(message)))
    assert [row["body"] for row in data["comments"]] == ["Gus's word."]
    assert data["profile"][0]["email"] == "gus@example.com"


@pytest.mark.parametrize("email", ["nobody@example.com", "account@example.com"])
def test_an_address_without_a_confirmed_record_gets_the_same_answer_and_no_mail(
    client, committing, guest, email
):
    make_reader(email="account@example.com")

    response = committing(client.post, reverse("comments:data_request"), {"email": email})

    assert response.status_code == 302
    assert response["Location"] == reverse("comments:data_request_sent")
    assert mail.outbox == []


def test_a_malformed_address_is_sent_back_with_a_message(client, guest):
    response = client.post(reverse("comments:data_request"), {"email": "gus at example"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address, such as name@example.com." in page
    assert 'value="gus at example"' in page
    assert mail.outbox == []


def test_too_many_requests_are_refused_without_mail(client, committing, guest, settings):
    settings.COMMENT_RATE_LIMIT = "1/3600"
    committing(client.post, reverse("comments:data_request"), {"email": "gus@example.com"})

    response = committing(client.post, reverse("comments:data_request"),
                          {"email": "gus@example.com"})

    assert response.status_code == 429
    assert "You have asked several times in a short time" in response.content.decode()
    assert len(mail.outbox) == 1


def test_a_tampered_or_forged_link_says_so(client, guest):
    value, stamp, signature = link_token(guest).split(":")
    forged = signing.dumps({"c": guest.pk, "e": guest.email}, key="guessed", salt=LINK_SALT)
    for token in (f"{value}A:{stamp}:{signature}", forged, "not-a-link",
                  signing.dumps(["gus@example.com"], salt=LINK_SALT)):
        response = client.get(reverse("comments:data_download", args=[token]))
        assert response.status_code == 400
        page = response.content.decode()
        assert "This link does not work" in page
        assert "Gus" not in page


def test_an_expired_link_says_so(client, guest, monkeypatch):
    token = signed_ago(monkeypatch, timedelta(hours=24, minutes=1), lambda: link_token(guest))

    response = client.get(reverse("comments:data_download", args=[token]))

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_a_link_for_a_record_that_is_gone_says_so(client, guest):
    token = link_token(guest)
    guest.delete()

    response = client.get(reverse("comments:data_download", args=[token]))

    assert response.status_code == 410
    assert "Nothing is held for this link" in response.content.decode()


def test_a_link_is_no_key_to_an_account(client):
    reader = make_reader()

    assert data_export.data_link_send(email=reader.email) is False
    token = link_token(reader.commenter)
    response = client.get(reverse("comments:data_download", args=[token]))
    assert response.status_code == 400
    assert "Content-Disposition" not in response


def test_a_report_made_while_signed_in_is_in_the_readers_file(client):
    reader = make_reader()
    comment = make_comment(make_article())
    client.force_login(reader)

    client.post(
        reverse("comments:report", args=[comment.article.slug, comment.pk]),
        {"reason": "spam", "detail": "An advert."},
    )

    data = downloaded(client.post(reverse("comments:account_data")))
    assert [(row["comment_id"], row["detail"]) for row in data["reports_filed"]] == [
        (comment.pk, "An advert.")
    ]
