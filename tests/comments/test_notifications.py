import contextlib
import http.client
import logging
import re
import threading
import time
from datetime import timedelta
from functools import partial

import pytest
from django.core import mail, signing
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from comments import services
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, remember_cookie_value
from comments.guests import VERIFIED_COOKIE, VERIFIED_SALT
from comments.models import (
    Comment,
    ModerationPolicy,
    ReplyMailPreference,
    ReplyNotice,
    ReplySubscription,
)
from comments.notifications import notices_collect, notices_deliver, replies_collect
from comments.subscriptions import (
    UNSUBSCRIBE_MAX_AGE,
    UNSUBSCRIBE_SALT,
    Unsubscribe,
    reply_mail_preference_save,
    reply_mail_stop,
    reply_subscription_create,
    unsubscribe_token,
)
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import held_elsewhere
from tests.processes import SECRET, db_worker, gunicorn_server, in_child, task_statuses

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://news.example.org"
    settings.DEFAULT_FROM_EMAIL = "Newsroom <news@example.org>"
    settings.COMMENT_RATE_LIMIT = "off"
    settings.NOTIFY_BATCH_MINUTES = 10


def subscribed(article, parent=None, *, reader=None, **fields) -> Comment:
    """A published comment by an account (`reader`, or a new one) that asked for reply mail."""
    reader = reader or make_reader()
    comment = make_comment(
        article,
        parent=parent,
        commenter=reader.commenter,
        author_name=reader.commenter.display_name,
        author_email=reader.email,
        **fields,
    )
    reply_subscription_create(comment=comment, commenter=reader.commenter)
    return comment


def reply(committing, article, parent, *, body="A reply.", reader=None, email=None) -> Comment:
    """Post a reply through comment_post, as a guest or as `reader`'s account."""
    result = committing(
        services.comment_post,
        article=article,
        parent_id=parent.pk,
        author_name=reader.commenter.display_name if reader else "Guest Replier",
        author_email=reader.email if reader else (email or "guest@example.net"),
        body=body,
        ip_address="192.0.2.10",
        user_agent="test",
        commenter=reader.commenter if reader else None,
    )
    assert result.comment is not None, result.refused
    return result.comment


def approve(committing, comment):
    return committing(
        services.comments_approve, comments=Comment.objects.filter(pk=comment.pk), moderator=None
    )


def premoderate():
    ModerationPolicy.objects.update_or_create(
        pk=1, defaults={"mode": ModerationPolicy.Mode.PREMODERATE}
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def one_click_url(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    return re.search(r"<(https://[^>]+)>", header).group(1)


def path_of(url: str) -> str:
    return url.removeprefix("https://news.example.org")


# Opting in


def test_a_signed_in_reader_is_offered_reply_mail_and_a_guest_is_not(client):
    article = make_article()
    reader = make_reader()

    guest_page = client.get(article.get_absolute_url()).content.decode()
    client.force_login(reader)
    reader_page = client.get(article.get_absolute_url()).content.decode()

    assert 'name="notify_replies"' not in guest_page
    assert 'name="notify_replies" id="id_notify_replies">' in reader_page
    assert '<label for="id_notify_replies">Email me when someone replies</label>' in reader_page


def test_an_account_that_subscribes_by_default_finds_the_box_ticked(client):
    article = make_article()
    reader = make_reader()
    reply_mail_preference_save(
        commenter=reader.commenter, subscribe_by_default=True, frequency="batched"
    )
    client.force_login(reader)

    page = client.get(article.get_absolute_url()).content.decode()

    assert 'name="notify_replies" id="id_notify_replies" checked>' in page


@pytest.mark.parametrize("ticked", [True, False])
def test_a_reader_who_ticks_the_box_is_subscribed_to_their_comment(client, ticked):
    article = make_article()
    reader = make_reader()
    client.force_login(reader)
    data = {"body": "Tell me when someone answers.", "parent": ""}
    if ticked:
        data["notify_replies"] = "on"

    response = client.post(reverse("comments:post", args=[article.slug]), data)

    assert response.status_code == 302
    comment = Comment.objects.get(body="Tell me when someone answers.")
    assert ReplySubscription.objects.filter(
        comment=comment, commenter=reader.commenter
    ).exists() is ticked


def test_a_guest_without_a_verified_address_cannot_subscribe(client):
    article = make_article()

    client.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Hello.", "notify_replies": "on"},
    )

    assert Comment.objects.filter(body="Hello.").exists()
    assert not ReplySubscription.objects.exists()


def verified_guest(email: str, *, remembered: str | None = None) -> Client:
    """A guest's browser that confirmed `email` (the cookie the confirmation link sets) and
    remembers `remembered` (by default that address) for the form."""
    browser = Client()
    browser.cookies[VERIFIED_COOKIE] = signing.dumps([email], salt=VERIFIED_SALT)
    browser.cookies[AUTHOR_COOKIE] = remember_cookie_value("Ann")
    browser.cookies[EMAIL_COOKIE] = remember_cookie_value(remembered or email)
    return browser


def test_a_guest_whose_remembered_address_is_confirmed_is_offered_reply_mail():
    article = make_article()

    page = verified_guest("ann@example.com").get(article.get_absolute_url()).content.decode()

    assert 'name="notify_replies" id="id_notify_replies">' in page
    assert '<label for="id_notify_replies">Email me when someone replies</label>' in page


@pytest.mark.parametrize(
    "browser",
    [
        pytest.param(lambda: verified_guest("ann@example.com", remembered="bob@example.com"),
                     id="another address confirmed"),
        pytest.param(Client, id="nothing confirmed"),
    ],
)
def test_a_guest_whose_address_is_not_confirmed_here_is_not_offered_reply_mail(browser):
    article = make_article()
    guest = browser()
    guest.cookies[EMAIL_COOKIE] = remember_cookie_value("bob@example.com")

    page = guest.get(article.get_absolute_url()).content.decode()

    assert 'value="bob@example.com"' in page
    assert 'name="notify_replies"' not in page


def test_the_form_sent_back_with_an_error_keeps_the_offer_for_a_confirmed_address():
    article = make_article()
    guest = verified_guest("ann@example.com")

    response = guest.post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "Ann@Example.com", "body": " ", "notify_replies": "on"},
    )

    assert response.status_code == 400
    assert 'name="notify_replies" id="id_notify_replies" checked>' in response.content.decode()


def test_the_offer_to_a_confirmed_guest_never_reaches_the_shared_page_copy(settings):
    settings.ARTICLE_PAGE_CACHE_SECONDS = 3600
    article = make_article()
    Client().get(article.get_absolute_url())
    guest = verified_guest("ann@example.com")

    assert 'name="notify_replies"' in guest.get(article.get_absolute_url()).content.decode()
    for _ in range(2):
        html = Client().get(article.get_absolute_url()).content.decode()
        assert 'name="notify_replies"' not in html and "ann@example.com" not in html


@pytest.mark.parametrize("ticked", [True, False])
def test_a_confirmed_guest_who_ticks_the_box_is_subscribed(ticked):
    article = make_article()
    data = {"name": "Ann", "email": "ann@example.com", "body": "A guest asks.", "parent": ""}
    if ticked:
        data["notify_replies"] = "on"

    response = verified_guest("ann@example.com").post(
        reverse("comments:post", args=[article.slug]), data
    )

    assert response.status_code == 302
    comment = Comment.objects.get(body="A guest asks.")
    assert comment.commenter is not None and comment.commenter.email == "ann@example.com"
    assert ReplySubscription.objects.filter(
        comment=comment, commenter=comment.commenter
    ).exists() is ticked


def test_the_settings_page_sets_the_default_and_the_daily_digest(client):
    reader = make_reader(display_name="Ann Reader")
    client.force_login(reader)

    page = client.get(reverse("comments:settings")).content.decode()
    assert "Tick “Email me when someone replies” on my new comments" in page
    assert "at most one every 10 minutes" in page
    response = client.post(
        reverse("comments:settings"),
        {
            "display_name": "Ann Reader",
            "profile_public": "on",
            "subscribe_by_default": "on",
            "reply_mail_frequency": "daily",
        },
    )

    assert response.status_code == 302
    preference = ReplyMailPreference.objects.get(commenter=reader.commenter)
    assert preference.subscribe_by_default
    assert preference.frequency == ReplyMailPreference.Frequency.DAILY
    page = client.get(reverse("comments:settings")).content.decode()
    assert re.search(r'value="daily"[^>]*checked', page)


def test_an_unknown_frequency_is_refused_on_the_settings_page(client):
    reader = make_reader(display_name="Ann Reader")
    client.force_login(reader)

    response = client.post(
        reverse("comments:settings"),
        {"display_name": "Ann Reader", "reply_mail_frequency": "hourly"},
    )

    assert response.status_code == 400
    assert not ReplyMailPreference.objects.exists()


# Who gets mail


def test_a_published_reply_mails_the_subscriber_with_both_parts_and_the_unsubscribe_headers(
    committing,
):
    article = make_article(title="The harbour reopens")
    reader = make_reader(display_name="Ann")
    parent = subscribed(article, reader=reader)

    answer = reply(committing, article, parent, body="I agree with <you> & more.")

    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.subject == "Guest Replier replied to your comment on “The harbour reopens”"
    permalink = f"https://news.example.org/articles/{article.slug}/comments/{answer.pk}/"
    assert permalink in message.body
    assert "I agree with <you> & more." in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{permalink}"' in html
    assert "I agree with &lt;you&gt; &amp; more." in html
    headers = message.message()
    mailto, https = [part.strip(" <>") for part in headers["List-Unsubscribe"].split(",")]
    assert mailto.startswith("mailto:news@example.org?subject=unsubscribe%20")
    assert https.startswith("https://news.example.org/comments/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The page linked from the body offers this thread or everything.
    page_url = re.search(r"all reply mail: (\S+)", message.body).group(1)
    assert page_url.startswith("https://news.example.org/comments/unsubscribe/")
    assert f'href="{page_url}"' in html


def test_the_authors_of_the_ancestors_are_mailed_not_sibling_branches_nor_the_replier(
    committing,
):
    article = make_article()
    root_author, middle_author, sibling_author, replier = (make_reader() for _ in range(4))
    root = subscribed(article, reader=root_author)
    middle = subscribed(article, root, reader=middle_author)
    subscribed(article, root, reader=sibling_author)
    # The replier's own comment above the reply: they get no mail about their own words.
    own = subscribed(article, middle, reader=replier)
    unsubscribed_parent = make_comment(article, parent=own)

    reply(committing, article, unsubscribed_parent, reader=replier)
    assert recipients() == sorted([root_author.email, middle_author.email])


def test_a_guest_replier_with_the_subscribers_address_is_not_mailed(committing):
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)

    reply(committing, article, parent, email=reader.email.upper())

    assert mail.outbox == []


def test_one_recipient_gets_a_reply_once_whatever_the_number_of_their_comments_above(
    committing,
):
    article = make_article()
    reader = make_reader()
    root = subscribed(article, reader=reader)
    mine_again = subscribed(article, make_comment(article, parent=root), reader=reader)

    answer = reply(committing, article, mine_again)
    # A moderator approving it again (reports dismissed) mails nothing more.
    approve(committing, answer)

    [message] = mail.outbox
    assert message.body.count(f"/comments/{answer.pk}/") == 1
    assert ReplyNotice.objects.count() == 1


def test_a_held_reply_mails_nothing_until_a_moderator_approves_it(committing):
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    premoderate()

    held = reply(committing, article, parent)
    assert held.status == Comment.Status.PENDING
    assert mail.outbox == []

    approve(committing, held)
    assert recipients() == [reader.email]


@pytest.mark.parametrize("decision", ["comments_remove", "comments_mark_spam"])
def test_a_removed_or_spam_reply_mails_nothing(committing, decision):
    article = make_article()
    parent = subscribed(article)
    premoderate()
    held = reply(committing, article, parent)

    committing(
        getattr(services, decision), comments=Comment.objects.filter(pk=held.pk), moderator=None
    )

    assert mail.outbox == []
    assert not ReplyNotice.objects.exists()


def test_a_moderators_edit_that_publishes_a_held_reply_mails_it(committing):
    article = make_article()
    parent = subscribed(article)
    premoderate()
    held = reply(committing, article, parent)

    held.status = Comment.Status.PUBLISHED
    committing(services.comment_update, comment=held, changed=["status"], moderator=None)

    assert len(mail.outbox) == 1


def test_a_reply_hidden_before_its_mail_goes_out_is_left_out(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    parent = subscribed(article)
    answer = reply(committing, article, parent)
    run_tasks(limit=1)  # collects the notice and queues its delivery
    Comment.objects.filter(pk=answer.pk).update(status=Comment.Status.REMOVED)

    run_tasks()

    assert mail.outbox == []


# Batches


def run_tasks(*, until=None, limit=None) -> int:
    """Run the queued tasks whose time has come (by `until`, now by default), in order, as the
    worker does, `limit` of them at most; return how many ran."""
    until = until or timezone.now()
    ran = 0
    while limit is None or ran < limit:
        ready = DBTaskResult.objects.filter(status="READY").filter(
            Q(run_after=get_date_max()) | Q(run_after__lte=until)
        )
        result = ready.order_by("run_after", "enqueued_at").first()
        if result is None:
            return ran
        DBTaskResult.objects.filter(pk=result.pk).update(status="SUCCESSFUL")
        task_result = result.task_result
        result.task.call(*task_result.args, **task_result.kwargs)
        ran += 1
    return ran


def test_replies_within_the_window_go_out_together_after_it(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article(title="Tides")
    reader = make_reader()
    parent = subscribed(article, reader=reader)

    first = reply(committing, article, parent, body="First answer.")
    run_tasks()
    [first_mail] = mail.outbox
    assert "First answer." in first_mail.body

    second = reply(committing, article, parent, body="Second answer.")
    third = reply(committing, article, make_comment(article, parent=parent), body="Third.")
    run_tasks()
    # Both wait for the window that the first mail opened.
    assert len(mail.outbox) == 1
    sent = ReplyNotice.objects.get(reply=first).sent
    due = {notice.due for notice in ReplyNotice.objects.filter(sent=None)}
    assert due == {sent + timedelta(minutes=10)}
    waiting = DBTaskResult.objects.filter(status="READY", task_path__endswith="replies_deliver")
    assert {result.run_after for result in waiting} == due

    assert run_tasks(until=sent + timedelta(minutes=10)) >= 1
    assert len(mail.outbox) == 2
    batch = mail.outbox[1]
    assert batch.subject == "2 new replies to your comment on “Tides”"
    assert f"/comments/{second.pk}/" in batch.body and f"/comments/{third.pk}/" in batch.body
    assert "First answer." not in batch.body


def test_a_second_delivery_of_the_same_batch_sends_nothing(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    reply(committing, article, parent)
    run_tasks()
    assert len(mail.outbox) == 1

    # Another worker running the same delivery again, later.
    notice = ReplyNotice.objects.get()
    assert not notices_deliver(
        recipient_id=reader.commenter.pk, thread_id=notice.thread_id, now=timezone.now()
    )
    run_tasks()
    assert len(mail.outbox) == 1


def test_a_readers_next_mail_deletes_their_notices_sent_long_ago(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    old = reply(committing, article, parent)
    run_tasks()
    recent = reply(committing, article, parent)
    run_tasks(until=timezone.now() + timedelta(hours=1))
    ReplyNotice.objects.filter(reply=old).update(sent=timezone.now() - timedelta(days=31))
    ReplyNotice.objects.filter(reply=recent).update(sent=timezone.now() - timedelta(days=29))

    reply(committing, article, parent)
    run_tasks()

    assert len(mail.outbox) == 3
    assert not ReplyNotice.objects.filter(reply=old).exists()
    assert ReplyNotice.objects.filter(reply=recent).exists()


def test_collecting_the_same_reply_twice_notices_it_once(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    parent = subscribed(article)
    answer = reply(committing, article, parent)
    replies_collect.enqueue(comment_ids=[answer.pk])

    run_tasks()

    assert ReplyNotice.objects.count() == 1
    assert len(mail.outbox) == 1


def test_threads_are_batched_apart(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    reader = make_reader()
    one, other = subscribed(article, reader=reader), subscribed(article, reader=reader)

    reply(committing, article, one)
    reply(committing, article, other)
    run_tasks()

    assert len(mail.outbox) == 2


def test_without_a_window_every_reply_goes_out_at_once(committing, settings):
    settings.TASKS = DATABASE_QUEUE
    settings.NOTIFY_BATCH_MINUTES = 0
    article = make_article()
    parent = subscribed(article)

    reply(committing, article, parent)
    run_tasks()
    reply(committing, article, parent)
    run_tasks()

    assert len(mail.outbox) == 2


def test_a_daily_digest_collects_a_days_replies_of_every_thread_in_one_mail(
    committing, settings
):
    settings.TASKS = DATABASE_QUEUE
    reader = make_reader()
    reply_mail_preference_save(
        commenter=reader.commenter, subscribe_by_default=False, frequency="daily"
    )
    first_article, second_article = make_article(title="Rain"), make_article(title="Snow")
    one = subscribed(first_article, reader=reader)
    other = subscribed(second_article, reader=reader)

    replies = [
        reply(committing, first_article, one),
        reply(committing, first_article, one),
        reply(committing, second_article, other),
    ]
    start = timezone.now()
    run_tasks()
    assert mail.outbox == []
    assert run_tasks(until=start + timedelta(hours=23)) == 0

    run_tasks(until=start + timedelta(days=1, minutes=1))
    [digest] = mail.outbox
    assert digest.subject == "3 replies to your comments today"
    assert "== Rain ==" in digest.body and "== Snow ==" in digest.body
    for answer in replies:
        assert f"/comments/{answer.pk}/" in digest.body
    # One link per thread, and one for everything.
    assert digest.body.count("Stop mail about this thread:") == 2


# Unsubscribing


def token_for(comment: Comment, *, thread: bool = True) -> str:
    commenter_id = comment.commenter_id
    thread_id = comment.get_root().pk if thread else None
    return unsubscribe_token(Unsubscribe(commenter_id=commenter_id, thread_id=thread_id))


def unsubscribe_url(token: str) -> str:
    return reverse("comments:unsubscribe", args=[token])


def test_the_page_from_the_mail_offers_this_thread_or_everything(committing, client):
    article = make_article(title="Harbour")
    parent = subscribed(article)
    reply(committing, article, parent)
    [message] = mail.outbox
    page_url = re.search(r"all reply mail: (\S+)", message.body).group(1)

    response = client.get(path_of(page_url))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<button type="submit" name="scope" value="thread">' in page
    assert '<button type="submit" name="scope" value="all">' in page
    assert "“<a href=\"/articles/" in page and "Harbour" in page


def test_stopping_one_thread_keeps_the_others(committing, client):
    article = make_article()
    reader = make_reader()
    one, other = subscribed(article, reader=reader), subscribed(article, reader=reader)
    deeper = subscribed(article, one, reader=reader)

    response = client.post(unsubscribe_url(token_for(deeper)), {"scope": "thread"})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert list(ReplySubscription.objects.values_list("comment", flat=True)) == [other.pk]
    reply(committing, article, deeper)
    reply(committing, article, other)
    assert len(mail.outbox) == 1


def test_stopping_everything_ends_every_subscription_and_the_default(client):
    article = make_article()
    reader = make_reader()
    reply_mail_preference_save(
        commenter=reader.commenter, subscribe_by_default=True, frequency="batched"
    )
    comment = subscribed(article, reader=reader)
    subscribed(make_article(), reader=reader)

    response = client.post(unsubscribe_url(token_for(comment)), {"scope": "all"})

    assert response.status_code == 200
    assert "no more mail about replies to your comments" in response.content.decode()
    assert not ReplySubscription.objects.exists()
    assert not ReplyMailPreference.objects.get().subscribe_by_default


def test_a_link_used_twice_says_already_unsubscribed(client):
    comment = subscribed(make_article())
    url = unsubscribe_url(token_for(comment))
    client.post(url, {"scope": "thread"})

    again = client.post(url, {"scope": "thread"})
    page = client.get(url)

    assert again.status_code == 200
    assert "Already unsubscribed" in again.content.decode()
    assert page.status_code == 200
    # Everything is still there to stop (a default, other threads) only if it was subscribed.
    assert "You are already unsubscribed" in page.content.decode()
    assert client.post(url, {"scope": "all"}).status_code == 200


def test_a_page_post_without_a_choice_asks_for_one(client):
    comment = subscribed(make_article())

    response = client.post(unsubscribe_url(token_for(comment)), {})

    assert response.status_code == 400
    assert "Choose one of the buttons below." in response.content.decode()
    assert ReplySubscription.objects.exists()


def test_one_click_unsubscribes_with_no_page_and_no_csrf_token(committing):
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    reply(committing, article, parent)
    [message] = mail.outbox
    browserless = Client(enforce_csrf_checks=True)

    response = browserless.post(
        path_of(one_click_url(message)), "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 204
    assert response.content == b""
    assert not ReplySubscription.objects.exists()
    reply(committing, article, parent)
    assert len(mail.outbox) == 1
    # Twice is harmless.
    again = browserless.post(
        path_of(one_click_url(message)), "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert again.status_code == 204


def test_csrf_is_still_enforced_on_the_other_comment_urls():
    article = make_article()
    response = Client(enforce_csrf_checks=True).post(
        reverse("comments:post", args=[article.slug]),
        {"name": "Ann", "email": "ann@example.com", "body": "Hello."},
    )
    assert response.status_code == 403


def test_unsubscribing_drops_the_replies_waiting_for_their_mail(committing, client, settings):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    parent = subscribed(article)
    reply(committing, article, parent)
    run_tasks()
    reply(committing, article, parent)
    run_tasks()
    assert ReplyNotice.objects.filter(sent=None).count() == 1

    client.post(unsubscribe_url(token_for(parent)), {"scope": "thread"})

    run_tasks(until=timezone.now() + timedelta(hours=1))
    assert len(mail.outbox) == 1
    assert not ReplyNotice.objects.filter(sent=None).exists()


def tampered(token: str) -> str:
    head, _, signature = token.rpartition(":")
    return f"{head}:{signature[::-1]}"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda comment: tampered(token_for(comment)),
        lambda comment: token_for(comment)[:-5],
        lambda comment: signing.dumps({"c": comment.commenter_id, "t": None}, salt="other"),
        lambda comment: "not-a-token",
    ],
    ids=["altered", "cut short", "another salt", "garbage"],
)
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, make_token):
    comment = subscribed(make_article())
    url = unsubscribe_url(make_token(comment))

    page = client.get(url)
    posted = client.post(url, {"scope": "all"})
    one_click = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert page.status_code == 400
    assert "The link is incomplete or has been changed" in page.content.decode()
    assert posted.status_code == 400
    assert one_click.status_code == 400
    assert one_click.content == b"This unsubscribe link is not valid."
    assert ReplySubscription.objects.count() == 1


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, monkeypatch):
    comment = subscribed(make_article())
    long_ago = timezone.now() - UNSUBSCRIBE_MAX_AGE - timedelta(days=1)
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(
            int(long_ago.timestamp())
        )
    )
    token = token_for(comment)
    monkeypatch.undo()
    assert signing.loads(token, salt=UNSUBSCRIBE_SALT)  # well signed, only old

    response = client.post(unsubscribe_url(token), {"scope": "all"})

    assert response.status_code == 400
    assert "The link has expired" in response.content.decode()
    assert ReplySubscription.objects.count() == 1


def test_a_token_for_a_commenter_that_is_gone_says_already_unsubscribed(client):
    comment = subscribed(make_article())
    token = token_for(comment)
    comment.commenter.delete()

    response = client.post(unsubscribe_url(token), {"scope": "all"})

    assert response.status_code == 200
    assert "Already unsubscribed" in response.content.decode()


# Faults


@pytest.mark.parametrize("fault", ["refusal", "stalling"])
def test_an_smtp_server_that_refuses_or_stalls_fails_neither_the_reply_nor_the_request(
    client, settings, smtp_server, caplog, django_capture_on_commit_callbacks, fault
):
    settings.MAILERS = smtp_server.mailers(timeout=1)
    settings.EMAIL_RETRY_DELAYS = [0]
    if fault == "refusal":
        smtp_server.refusal = "451 4.3.2 Try again later"
    else:
        smtp_server.stalling = True
    article = make_article()
    parent = subscribed(article)

    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Bo", "email": "bo@example.com", "body": "Answer.", "parent": parent.pk},
        )

    assert response.status_code == 302
    assert Comment.objects.get(body="Answer.").status == Comment.Status.PUBLISHED
    assert smtp_server.attempts == 2
    assert smtp_server.messages == []
    logged = [r for r in caplog.records if r.name == "newsroom.mail"]
    assert [r.levelname for r in logged] == ["WARNING", "ERROR"]
    assert "not sent after 2 attempts" in logged[-1].getMessage()
    # The notice counts as sent: the mail's own retries are the mail queue's.
    assert ReplyNotice.objects.get().sent is not None


def test_a_queue_that_fails_loses_the_notification_not_the_reply(
    client, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    parent = subscribed(article)

    def broken(*args, **kwargs):
        raise ConnectionError("queue is gone")

    monkeypatch.setattr(DBTaskResult.objects, "create", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("comments:post", args=[article.slug]),
            {"name": "Bo", "email": "bo@example.com", "body": "Answer.", "parent": parent.pk},
        )

    assert response.status_code == 302
    assert Comment.objects.filter(body="Answer.").exists()
    [record] = [r for r in caplog.records if r.name == "comments.notifications"]
    assert record.levelname == "ERROR"
    assert "not queued: queue is gone" in record.getMessage()


def test_posting_a_reply_does_no_ancestor_lookup_in_the_request(
    client, settings, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    root = subscribed(article)
    parent = subscribed(article, root)
    url = reverse("comments:post", args=[article.slug])
    client.post(url, {"name": "Bo", "email": "bo@example.com", "body": "Warm-up", "parent": ""})

    with (
        django_assert_max_num_queries(20) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(url, {"name": "Bo", "email": "bo@example.com", "body": "Counted",
                          "parent": parent.pk})

    assert not any("comments_replysubscription" in q["sql"] for q in queries.captured_queries)
    [queued] = DBTaskResult.objects.filter(task_path__endswith="replies_collect")
    assert queued.args_kwargs["kwargs"] == {
        "comment_ids": [Comment.objects.get(body="Counted").pk]
    }


# The real queue: the worker process and an SMTP server of the test's own.


def queue_settles(env: dict[str, str], *, timeout: float = 60) -> list[str]:
    """Wait until the worker has run every task that is due; their statuses."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = task_statuses(env)
        if not {"READY", "RUNNING"} & set(statuses):
            return statuses
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)


def post_reply(env: dict[str, str], parent_id: int, body: str) -> None:
    in_child(
        env,
        f"""
        from comments import services
        from comments.models import Comment
        parent = Comment.objects.select_related("article").get(pk={parent_id})
        result = services.comment_post(
            article=parent.article, parent_id=parent.pk, author_name="Bo",
            author_email="bo@example.com", body={body!r}, ip_address="192.0.2.1",
            user_agent="test",
        )
        print(result.comment.status)
        """,
    )


def test_with_the_worker_a_reply_published_on_approval_is_mailed_once_and_one_click_stops_it(
    queue_database, smtp_server, tmp_path
):
    env = {
        **queue_database,
        **smtp_server.environment(),
        "SITE_URL": "https://news.example.org",
        "DEFAULT_FROM_EMAIL": "Newsroom <news@example.org>",
        "NOTIFY_BATCH_MINUTES": "0",
        "COMMENT_RATE_LIMIT": "off",
        # No moderation alert: only the reply mail's tasks are counted.
        "MODERATION_ALERT_QUEUE": "0",
        "MODERATION_ALERT_MINUTES": "0",
    }
    parent_id, address = in_child(
        env,
        """
        from comments.models import ModerationPolicy
        from comments.subscriptions import reply_subscription_create
        from tests.factories import make_article, make_comment, make_reader
        reader = make_reader(display_name="Ann")
        article = make_article(title="The harbour reopens")
        comment = make_comment(article, commenter=reader.commenter, author_email=reader.email)
        reply_subscription_create(comment=comment, commenter=reader.commenter)
        ModerationPolicy.objects.create(pk=1, mode=ModerationPolicy.Mode.PREMODERATE)
        print(comment.pk, reader.email)
        """,
    ).split()

    with db_worker(env, tmp_path / "worker.log"), gunicorn_server({**SECRET, **env}) as port:
        post_reply(env, int(parent_id), "Held first.")
        # Nothing is queued for a held reply.
        assert queue_settles(env) == []
        held_id = in_child(env, "from comments.models import Comment; "
                                "print(Comment.objects.get(body='Held first.').pk)")

        in_child(
            env,
            f"""
            from comments import services
            from comments.models import Comment
            services.comments_approve(comments=Comment.objects.filter(pk={held_id}), moderator=None)
            """,
        )
        [(recipients, message)] = smtp_server.wait_for_messages(1)
        statuses = queue_settles(env)

        unsubscribe = message["List-Unsubscribe"]
        https = re.search(r"<https://news\.example\.org(/[^>]+)>", unsubscribe).group(1)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST", https, body="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        one_click = connection.getresponse()
        one_click_body = one_click.read()
        connection.close()

        in_child(env, "from comments.models import ModerationPolicy; "
                      "ModerationPolicy.objects.filter(pk=1).update(mode='open')")
        post_reply(env, int(parent_id), "After the unsubscribe.")
        final = queue_settles(env)

    assert recipients == [address]
    assert message["Subject"] == "Bo replied to your comment on “The harbour reopens”"
    assert "<mailto:news@example.org?subject=unsubscribe%20" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = message.iter_parts()
    permalink = f"https://news.example.org/articles/{{}}/comments/{held_id}/"
    assert re.search(re.escape(permalink).replace(r"\{\}", "[^/]+"), plain.get_content())
    assert f"/comments/{held_id}/" in html.get_content()
    # The collection, the delivery and the mail: each once.
    assert statuses == ["SUCCESSFUL"] * 3
    assert one_click.status == 204 and one_click_body == b""
    # The reply after the one-click is collected, and finds nobody to mail.
    assert final == ["SUCCESSFUL"] * 4
    assert len(smtp_server.messages) == 1


# Several workers at once


def _in_threads(calls) -> list[str]:
    """Run each call in a thread of its own, on its own database connection, all at once; the
    errors they raised."""
    errors, start = [], threading.Barrier(len(calls))

    def run(call):
        try:
            start.wait(timeout=30)
            call()
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_collecting_and_delivering_at_once_send_each_reply_once_in_one_mail(settings):
    # SQLite runs one writing transaction at a time (BEGIN IMMEDIATE): nothing to race there.
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    replies = [make_comment(article, parent=parent) for _ in range(10)]
    now = timezone.now()

    errors = _in_threads(
        [
            partial(notices_collect, comment_ids=[first.pk, second.pk], now=now)
            for first, second in zip(replies[::2], replies[1::2], strict=True)
        ]
    )
    assert errors == []
    notices = ReplyNotice.objects.all()
    assert sorted(notices.values_list("reply_id", flat=True)) == [r.pk for r in replies]
    # One batch: the replies after the first joined it.
    assert len({notice.due for notice in notices}) == 1
    deliveries = DBTaskResult.objects.filter(task_path__endswith="replies_deliver")
    assert deliveries.count() == 5

    thread_id = parent.pk
    errors = _in_threads(
        [
            partial(notices_deliver, recipient_id=reader.commenter.pk, thread_id=thread_id,
                    now=now)
            for _ in range(5)
        ]
    )
    assert errors == []
    [sent] = DBTaskResult.objects.filter(task_path="newsroom.mail.mail_send")
    text = sent.args_kwargs["kwargs"]["text"]
    for answer in replies:
        assert text.count(f"/comments/{answer.pk}/") == 1
    assert not ReplyNotice.objects.filter(sent=None).exists()


def test_three_workers_mail_every_reply_exactly_once(queue_database, smtp_server, tmp_path):
    env = {
        **queue_database,
        **smtp_server.environment(),
        "NOTIFY_BATCH_MINUTES": "0",
        "COMMENT_RATE_LIMIT": "off",
    }
    parent_id = in_child(
        env,
        """
        from comments.subscriptions import reply_subscription_create
        from tests.factories import make_article, make_comment, make_reader
        reader = make_reader()
        comment = make_comment(make_article(), commenter=reader.commenter,
                               author_email=reader.email)
        reply_subscription_create(comment=comment, commenter=reader.commenter)
        print(comment.pk)
        """,
    )

    with contextlib.ExitStack() as workers:
        for n in range(3):
            workers.enter_context(db_worker(env, tmp_path / f"worker{n}.log"))
        reply_ids = in_child(
            env,
            f"""
            from comments import services
            from comments.models import Comment
            parent = Comment.objects.select_related("article").get(pk={parent_id})
            for n in range(12):
                result = services.comment_post(
                    article=parent.article, parent_id=parent.pk, author_name=f"Replier {{n}}",
                    author_email=f"replier{{n}}@example.com", body=f"Reply {{n}}.",
                    ip_address="192.0.2.1", user_agent="test",
                )
                print(result.comment.pk)
            """,
        ).split()
        statuses = queue_settles(env)

    assert "FAILED" not in statuses
    texts = [message.get_body(("plain",)).get_content() for _, message in smtp_server.messages]
    assert 1 <= len(texts) <= 12
    for reply_id in reply_ids:
        assert sum(text.count(f"/comments/{reply_id}/") for text in texts) == 1, reply_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unsubscribe_committed_while_replies_are_collected_stops_their_mail(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.TASKS = DATABASE_QUEUE
    article = make_article()
    reader = make_reader()
    parent = subscribed(article, reader=reader)
    answer = make_comment(article, parent=parent)
    made = []

    def stop():
        reply_mail_stop(commenter_id=reader.commenter.pk, thread_id=None)

    def collect():
        try:
            made.append(notices_collect(comment_ids=[answer.pk], now=timezone.now()))
        finally:
            connection.close()

    with held_elsewhere(stop):
        # The collection reads the subscriber, then waits for the reader's lock.
        collecting = threading.Thread(target=collect)
        collecting.start()
        time.sleep(1)
        assert collecting.is_alive()
    collecting.join(timeout=30)

    assert made == [0]
    assert not ReplyNotice.objects.exists()
