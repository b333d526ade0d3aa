"""Guests' comments under COMMENTS_GUESTS (comments/views.py, the posting and confirmation
views, and the guest services of comments/services.py), and trust for verified identities."""

import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import comments.services
from comments.forms import PARENT_GONE
from comments.guests import LINK_SALT, VERIFIED_COOKIE, link_token
from comments.identity import RESERVED_MESSAGE
from comments.models import (
    BannedPhrase,
    Comment,
    Commenter,
    CommentQueue,
    ModerationPolicy,
    ReservedName,
    UnconfirmedComment,
)
from comments.moderation import REFUSED_MESSAGE
from comments.session import OWN_PENDING_KEY
from newsroom.locking import LockTimeout
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import signed_ago

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https://news\.example\.org/comments/confirm/[^/\s\"]+/")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://news.example.org"


@pytest.fixture
def verify(settings):
    settings.COMMENTS_GUESTS = "verify"


@pytest.fixture
def closed(settings):
    settings.COMMENTS_GUESTS = "closed"


def data(**fields):
    values = {"name": "Ada Reader", "email": "ada@example.com", "body": "A fair point.",
              "parent": ""}
    values.update(fields)
    return values


def post_url(article):
    return reverse("comments:post", args=[article.slug])


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def link_in(message) -> str:
    """The confirmation link of a mail, as a path, checked in both its parts."""
    [link] = set(LINK.findall(message.body))
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and f'href="{link}"' in html
    return link.removeprefix("https://news.example.org")


def submit(client, committing, article, **fields):
    """Post a guest's comment; returns the response and the confirmation link mailed."""
    sent = len(mail.outbox)
    response = committing(client.post, post_url(article), data(**fields))
    assert len(mail.outbox) == sent + 1, "one confirmation mail"
    return response, link_in(mail.outbox[-1])


def link_made_ago(monkeypatch, age: timedelta, **target) -> str:
    """The confirmation link's address as it was made `age` ago."""
    token = signed_ago(monkeypatch, age, lambda: link_token(**target))
    return reverse("comments:confirm", args=[token])


# Under verify: the journey


def test_a_guests_comment_appears_only_after_the_mailed_link_is_followed(
    client, committing, verify
):
    article = make_article()

    response, link = submit(client, committing, article, body="Worth a second look.")

    assert response.status_code == 302
    assert response.url == f"{article.get_absolute_url()}#comments"
    assert messages_of(response) == [
        "Check your email: we sent a link to ada@example.com. Your comment will appear once "
        "you follow it (within 24 hours). If no mail comes, look in your spam folder."
    ]
    message = mail.outbox[-1]
    assert message.to == ["ada@example.com"]
    assert message.subject == f"Confirm your comment on “{article.title}”"
    assert "Worth a second look." in message.body
    # Shown nowhere: the page (for its author too), the API, the feed, the queue.
    for reader in (client, Client()):
        assert "Worth a second look." not in reader.get(article.get_absolute_url()).text
    api = Client().get(reverse("articles:api_detail", args=[article.slug])).json()
    assert api["comment_count"] == 0 and api["comments"]["results"] == []
    feed = Client().get(reverse("articles:comments_feed", args=[article.slug])).text
    assert "Worth a second look." not in feed
    assert not Comment.objects.exists() and not CommentQueue.objects.exists()

    page = client.get(link)
    assert page.status_code == 200
    assert "Worth a second look." in page.text and "Post my comment" in page.text
    assert not Comment.objects.exists(), "opening the link changes nothing"

    confirmed = committing(client.post, link)

    comment = Comment.objects.get()
    assert confirmed.status_code == 302
    assert confirmed.url == comment.get_absolute_url()
    edit = reverse("comments:edit", args=[comment.article.slug, comment.pk])
    assert messages_of(confirmed) == [
        f'Thank you, your comment is published. <a href="{edit}">Edit it</a> (for 15 minutes).'
    ]
    assert comment.status == Comment.Status.PUBLISHED
    assert (comment.author_name, comment.author_email) == ("Ada Reader", "ada@example.com")
    assert comment.commenter.email == "ada@example.com" and comment.commenter.user is None
    assert not comment.commenter.profile_public
    assert not UnconfirmedComment.objects.exists()
    assert VERIFIED_COOKIE in confirmed.cookies
    assert "Worth a second look." in Client().get(article.get_absolute_url()).text


def test_the_mail_links_to_the_site_url_and_names_the_comment(client, committing, verify):
    article = make_article(title="Budget vote")

    _, link = submit(client, committing, article, name="Ada Lovelace")

    text = mail.outbox[-1].body
    assert "Hello Ada Lovelace," in text
    assert f"https://news.example.org{link}" in text
    assert f"https://news.example.org{article.get_absolute_url()}" in text
    assert "within 24 hours" in text


def test_a_reply_waits_for_its_link_too(client, committing, verify):
    article = make_article()
    parent = make_comment(article)

    response, link = submit(client, committing, article, parent=parent.pk, body="Agreed.")

    assert response.url == parent.get_absolute_url()
    committing(client.post, link)
    reply = Comment.objects.get(body="Agreed.")
    assert reply.parent == parent


def test_submitting_and_confirming_run_in_a_fixed_number_of_queries(
    client, committing, verify, django_assert_max_num_queries, settings
):
    # The moderators' queue alert is a task of its own, which the tests' immediate backend
    # would run inside these requests.
    settings.MODERATION_ALERT_QUEUE = settings.MODERATION_ALERT_MINUTES = 0
    article = make_article()
    parent = make_comment(article)
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    BannedPhrase.objects.create(phrase="nonsense")
    submit(client, committing, article, parent=parent.pk, body="Warm-up")

    with django_assert_max_num_queries(15):
        _, link = submit(client, committing, article, parent=parent.pk, body="Counted")
    with django_assert_max_num_queries(30):
        assert committing(client.post, link).status_code == 302


# Under verify: the rules at the click


def test_the_click_runs_the_rules_as_if_the_comment_were_posted_then(
    client, committing, verify
):
    article = make_article()
    _, link = submit(client, committing, article, body="A fine, plain comment.")
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.PREMODERATE)

    response = committing(client.post, link)

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert client.session[OWN_PENDING_KEY] == [comment.pk]
    assert "awaiting moderation" in messages_of(response)[-1]
    assert CommentQueue.objects.awaiting_review().get() == comment


def test_a_rule_that_refuses_at_the_click_shows_the_text_to_post_again(
    client, committing, verify
):
    article = make_article()
    _, link = submit(client, committing, article, body="This is drivel, frankly.")
    BannedPhrase.objects.create(phrase="drivel", action=BannedPhrase.Action.REFUSE)

    response = committing(client.post, link)

    assert response.status_code == 400
    assert REFUSED_MESSAGE in response.text
    assert "This is drivel, frankly.</textarea>" in response.text
    assert 'value="ada@example.com"' in response.text
    assert not Comment.objects.exists() and not UnconfirmedComment.objects.exists()
    # The address was confirmed all the same: the reworded comment needs no new link.
    again = committing(client.post, post_url(article), data(body="This is weak, frankly."))
    assert again.status_code == 302
    assert Comment.objects.get().body == "This is weak, frankly."


def test_a_name_reserved_before_the_click_is_refused_with_the_text_kept(
    client, committing, verify
):
    article = make_article()
    _, link = submit(client, committing, article, name="Desk Editor", body="Mine, truly.")
    ReservedName.objects.create(name="Desk Editor")

    response = committing(client.post, link)

    assert response.status_code == 400
    assert response.text.count(RESERVED_MESSAGE) == 1
    assert "Mine, truly.</textarea>" in response.text
    assert not Comment.objects.exists() and not UnconfirmedComment.objects.exists()


def test_a_refused_comment_is_refused_at_once_and_no_mail_is_sent(client, committing, verify):
    article = make_article()
    BannedPhrase.objects.create(phrase="drivel", action=BannedPhrase.Action.REFUSE)

    response = committing(client.post, post_url(article), data(body="Drivel."))

    assert response.status_code == 400
    assert REFUSED_MESSAGE in response.text
    assert mail.outbox == [] and not UnconfirmedComment.objects.exists()


def test_a_reply_whose_parent_went_away_before_the_click_is_kept_to_post_again(
    client, committing, verify
):
    article = make_article()
    parent = make_comment(article)
    _, link = submit(client, committing, article, parent=parent.pk, body="My reply.")
    parent.status = Comment.Status.REMOVED
    parent.save()

    response = committing(client.post, link)

    assert response.status_code == 400
    assert PARENT_GONE in response.text
    assert "My reply.</textarea>" in response.text
    assert 'name="parent" value=""' in response.text
    assert not UnconfirmedComment.objects.exists()
    assert Comment.objects.filter(body="My reply.").count() == 0

    again = committing(client.post, post_url(article), data(body="My reply."))
    posted = Comment.objects.get(body="My reply.")
    assert again.url == posted.get_absolute_url() and posted.parent is None


@pytest.mark.parametrize(
    "change",
    [{"comments_open": False}, {"published_at": timezone.now() + timedelta(days=1)}],
    ids=["closed", "withdrawn"],
)
def test_a_discussion_closed_before_the_click_posts_nothing_and_keeps_the_comment(
    client, committing, verify, change
):
    article = make_article()
    _, link = submit(client, committing, article)
    for field, value in change.items():
        setattr(article, field, value)
    article.save()

    response = committing(client.post, link)

    assert response.status_code == 403
    assert "Comments are closed" in response.text
    assert not Comment.objects.exists()
    assert UnconfirmedComment.objects.count() == 1


def test_a_busy_discussion_at_the_click_keeps_the_comment_for_another_click(
    client, committing, verify, monkeypatch
):
    article = make_article()
    _, link = submit(client, committing, article, body="Still here.")

    def busy(**kwargs):
        raise LockTimeout("canceling statement due to lock timeout")

    with monkeypatch.context() as patch:
        patch.setattr(comments.services, "comment_post", busy)
        response = committing(client.post, link)

    assert response.status_code == 503
    assert "Retry-After" in response
    assert "press the button again" in response.text and "Still here." in response.text
    assert UnconfirmedComment.objects.count() == 1
    assert not Commenter.objects.exists(), "the whole confirmation was rolled back"

    assert committing(client.post, link).status_code == 302
    assert Comment.objects.get().body == "Still here."


# Under verify: bad links


def test_a_used_link_says_so_and_publishes_nothing_twice(client, committing, verify):
    article = make_article()
    _, link = submit(client, committing, article)
    committing(client.post, link)

    for again in (client.post, client.get, Client().post):
        response = committing(again, link)
        assert response.status_code == 410
        assert "This link has been used" in response.text
    assert Comment.objects.count() == 1


def test_an_expired_link_says_so_and_posts_nothing(client, committing, verify, monkeypatch):
    article = make_article()
    submit(client, committing, article)
    row = UnconfirmedComment.objects.get()
    link = link_made_ago(monkeypatch, timedelta(hours=25), pk=row.pk, nonce=row.nonce)

    for method in (client.get, client.post):
        response = committing(method, link)
        assert response.status_code == 410
        assert "This link has expired" in response.text
    assert not Comment.objects.exists()


def test_a_tampered_or_forged_link_says_so_and_posts_nothing(client, committing, verify):
    article = make_article()
    _, link = submit(client, committing, article)
    token = link.split("/")[-2]
    value, stamp, signature = token.split(":")
    row = UnconfirmedComment.objects.get()
    forged = signing.dumps({"id": row.pk, "n": row.nonce}, key="guessed", salt=LINK_SALT)
    bad_tokens = [
        f"{value}A:{stamp}:{signature}",
        f"{value}:{stamp}A:{signature}",
        f"{value}:{stamp}:{signature[:-1]}",
        f"{value}:{stamp}",
        "garbage",
        forged,
    ]

    for bad in bad_tokens:
        for method in (client.get, client.post):
            response = committing(method, reverse("comments:confirm", args=[bad]))
            assert response.status_code == 400, bad
            assert "This link does not work" in response.text
    assert not Comment.objects.exists() and UnconfirmedComment.objects.count() == 1


def test_a_genuine_link_for_another_nonce_finds_nothing(client, committing, verify):
    article = make_article()
    submit(client, committing, article)
    row = UnconfirmedComment.objects.get()
    link = reverse("comments:confirm", args=[link_token(pk=row.pk, nonce="0" * 32)])

    assert committing(client.post, link).status_code == 410
    assert not Comment.objects.exists() and UnconfirmedComment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_many_clicks_at_once_post_the_comment_once(verify):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    article = make_article()
    _, link = submit(Client(), lambda request, *a, **k: request(*a, **k), article)
    start, outcomes, errors = threading.Barrier(8), [], []

    def click():
        try:
            start.wait(timeout=10)
            outcomes.append(Client().post(link).status_code)
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcomes) == [302] + [410] * 7
    assert Comment.objects.count() == 1
    assert not UnconfirmedComment.objects.exists()
    assert Commenter.objects.count() == 1


# Under verify: the browser that confirmed an address


def test_that_browsers_later_comments_from_the_address_need_no_link(client, committing, verify):
    article = make_article()
    _, link = submit(client, committing, article, body="First.")
    committing(client.post, link)
    mails = len(mail.outbox)

    response = committing(
        client.post, post_url(article), data(email="ADA@example.com", body="Second.")
    )

    second = Comment.objects.get(body="Second.")
    assert response.url == second.get_absolute_url()
    assert second.commenter == Comment.objects.get(body="First.").commenter
    assert len(mail.outbox) == mails
    # Another address, or the same address in another browser, needs its link.
    submit(client, committing, article, email="bob@example.com", body="Third.")
    submit(Client(), committing, article, body="Fourth.")
    assert UnconfirmedComment.objects.count() == 2


# Closed to guests


def test_under_closed_the_form_invites_guests_to_sign_in(client, closed):
    article = make_article(slug="budget")

    html = client.get(article.get_absolute_url()).text

    assert "Only readers with an account can comment." in html
    assert 'href="/accounts/login/?next=%2Farticles%2Fbudget%2F%23comments"' in html
    assert 'name="email"' not in html and 'name="body"' not in html


def test_under_closed_a_signed_in_reader_still_comments(client, closed):
    article = make_article()
    client.force_login(make_reader())

    assert 'name="body"' in client.get(article.get_absolute_url()).text
    assert client.post(post_url(article), {"body": "Mine."}).status_code == 302
    assert Comment.objects.get().body == "Mine."


def test_under_closed_a_guests_post_answers_403_and_stores_nothing(client, closed):
    article = make_article()

    response = client.post(post_url(article), data())

    assert response.status_code == 403
    assert "Sign in to comment" in response.text
    assert "/accounts/login/?next=" in response.text
    assert not Comment.objects.exists() and not UnconfirmedComment.objects.exists()


# Trust counts only verified identities


def test_a_guest_typing_an_approved_commenters_name_and_email_is_held(mod_client):
    """Reproduces the impersonation that first-comment moderation allowed: a moderator
    approves Ada's first comment, then anyone typing her name and email was published at
    once under her name. Typed details prove nothing now: the comment waits."""
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    Client().post(post_url(article), data(body="Ada's own first comment."))
    first = Comment.objects.get()
    assert first.status == Comment.Status.PENDING
    changelist = reverse("admin:comments_comment_changelist")
    mod_client.post(changelist, {"action": "approve_comments", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.status == Comment.Status.PUBLISHED

    impostor = Client()
    impostor.post(post_url(article), data(body="Ada here: I take it all back."))

    forged = Comment.objects.get(body="Ada here: I take it all back.")
    assert forged.status == Comment.Status.PENDING
    assert "Ada here" not in Client().get(article.get_absolute_url()).text


def test_a_confirmed_address_is_trusted_once_approved_and_an_impostor_cannot_confirm_it(
    committing, verify, mod_client
):
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    client = Client()
    _, link = submit(client, committing, article, body="Ada's first.")
    committing(client.post, link)
    first = Comment.objects.get()
    assert first.status == Comment.Status.PENDING
    mod_client.post(
        reverse("admin:comments_comment_changelist"),
        {"action": "approve_comments", "_selected_action": [first.pk]},
    )

    committing(client.post, post_url(article), data(body="Ada's second."))
    assert Comment.objects.get(body="Ada's second.").status == Comment.Status.PUBLISHED

    # Another browser typing Ada's address gets nothing published: the link goes to Ada.
    impostor = Client()
    response, _ = submit(impostor, committing, article, body="Ada here: I take it back.")
    assert response.status_code == 302
    assert not Comment.objects.filter(body__startswith="Ada here").exists()


def test_under_open_every_guest_comment_is_a_first_comment(client):
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    make_comment(article, author_name="Ada Reader", author_email="ada@example.com",
                 moderated_at=timezone.now())

    client.post(post_url(article), data(body="Again."))

    assert Comment.objects.get(body="Again.").status == Comment.Status.PENDING


def test_an_account_whose_comment_was_approved_is_trusted(client):
    ModerationPolicy.objects.create(mode=ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    reader = make_reader()
    make_comment(article, commenter=reader.commenter, moderated_at=timezone.now())
    client.force_login(reader)

    client.post(post_url(article), {"body": "Trusted now."})

    assert Comment.objects.get(body="Trusted now.").status == Comment.Status.PUBLISHED


# The purge


def test_the_purge_deletes_unconfirmed_comments_older_than_a_week(client, committing, verify):
    article = make_article()
    for body in ("old", "recent"):
        submit(client, committing, article, body=body)
    UnconfirmedComment.objects.filter(body="old").update(
        created=timezone.now() - timedelta(days=7, minutes=1)
    )
    UnconfirmedComment.objects.filter(body="recent").update(
        created=timezone.now() - timedelta(days=6, hours=23)
    )

    dry = _purge("--dry-run")
    assert dry == "Would delete 1 unconfirmed comment older than 7 days.\n"
    assert UnconfirmedComment.objects.count() == 2

    assert _purge() == "Deleted 1 unconfirmed comment older than 7 days.\n"
    assert list(UnconfirmedComment.objects.values_list("body", flat=True)) == ["recent"]
    assert _purge() == "Deleted 0 unconfirmed comments older than 7 days.\n"
    assert not Comment.objects.exists()


def _purge(*args) -> str:
    out = StringIO()
    call_command("purge_unconfirmed_comments", *args, stdout=out)
    return out.getvalue()
