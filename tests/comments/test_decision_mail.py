import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from comments import services
from comments.decision_mail import (
    ALERT_KEY,
    PUBLISHED_MAIL_SALT,
    moderation_alert_send,
    published_mail_url,
    reporters_thank,
)
from comments.models import Comment, DecisionMailPreference, Report
from comments.subscriptions import Unsubscribe, unsubscribe_token
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import moderators_group
from tests.processes import db_worker, in_child

pytestmark = pytest.mark.django_db

POLICY = "Argue with ideas, not people.\n\nNo advertising."


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://news.example.org"
    settings.DEFAULT_FROM_EMAIL = "Newsroom <news@example.org>"
    settings.COMMENT_RATE_LIMIT = "off"
    # Alerts are tested on their own below.
    settings.MODERATION_ALERT_QUEUE = 0
    settings.MODERATION_ALERT_MINUTES = 0


def account_comment(article, *, status=Comment.Status.PENDING, **fields):
    reader = make_reader(display_name="Ann Reader")
    comment = make_comment(
        article,
        commenter=reader.commenter,
        author_name="Ann Reader",
        author_email=reader.email,
        status=status,
        body="The harbour needs a second pier.",
        **fields,
    )
    return reader, comment


def confirmed_guest_comment(article, *, status=Comment.Status.PENDING):
    commenter = services.commenter_for_email(email="guest@example.net", display_name="Gus")
    return make_comment(
        article,
        commenter=commenter,
        author_name="Gus",
        author_email="guest@example.net",
        status=status,
        body="Guest words.",
    )


def parts(message):
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return message.body, html


def only(queryset):
    return Comment.objects.filter(pk__in=[c.pk for c in queryset])


# A held comment published


def test_an_approved_held_comment_is_mailed_to_its_account(committing):
    article = make_article(title="The harbour reopens", discussion_policy=POLICY)
    reader, comment = account_comment(article)

    committing(services.comments_approve, comments=only([comment]), moderator=None)

    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.subject == "Your comment on “The harbour reopens” is published"
    text, html = parts(message)
    permalink = f"https://news.example.org/articles/{article.slug}/comments/{comment.pk}/"
    assert "Hello Ann Reader" in text and "The harbour needs a second pier." in text
    assert permalink in text and f'href="{permalink}"' in html
    assert "https://news.example.org/accounts/profile/" in text
    stop = re.search(r"Stop this mail: (\S+)", text).group(1)
    assert stop.startswith("https://news.example.org/comments/published-mail/")
    token = stop.rstrip("/").rpartition("/")[2]
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<mailto:news@example.org?subject=unsubscribe%20{token}>, <{stop}>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_confirmed_guest_is_told_and_an_unconfirmed_one_never(committing):
    article = make_article()
    confirmed = confirmed_guest_comment(article)
    # A guest's typed address proves nothing: the comment has no commenter.
    unconfirmed = make_comment(
        article, author_email="typed@example.com", status=Comment.Status.PENDING
    )

    committing(services.comments_approve, comments=only([confirmed, unconfirmed]), moderator=None)

    assert [message.to for message in mail.outbox] == [["guest@example.net"]]
    text, _ = parts(mail.outbox[0])
    assert "/accounts/profile/" not in text
    assert "Stop this mail: https://news.example.org/comments/published-mail/" in text


def test_no_mail_for_a_comment_that_was_published_already(committing):
    article = make_article()
    _, comment = account_comment(article, status=Comment.Status.PUBLISHED)
    Report.objects.create(comment=comment, reason="spam", reporter="ip:192.0.2.9")

    # Dismissing the reports on a published comment does not tell its author anything.
    changed = committing(services.comments_approve, comments=only([comment]), moderator=None)

    assert changed and mail.outbox == []


def test_the_settings_page_turns_the_published_mail_off(client, committing):
    article = make_article()
    reader, comment = account_comment(article)
    client.force_login(reader)
    page = client.get(reverse("comments:settings")).content.decode()
    assert re.search(r'name="published_mail"[^>]*checked', page)

    response = client.post(
        reverse("comments:settings"),
        {"display_name": "Ann Reader", "profile_public": "on", "reply_mail_frequency": "batched"},
    )

    assert response.status_code == 302
    assert not DecisionMailPreference.objects.get(commenter=reader.commenter).published
    page = client.get(reverse("comments:settings")).content.decode()
    assert not re.search(r'name="published_mail"[^>]*checked', page)
    committing(services.comments_approve, comments=only([comment]), moderator=None)
    assert mail.outbox == []
    # A removal still explains itself.
    _, other = account_comment(article)
    other.commenter = reader.commenter
    other.save(update_fields=["commenter"])
    committing(services.comments_remove, comments=only([other]), moderator=None, reason="off_topic")
    assert [m.subject for m in mail.outbox] == [
        f"Your comment on “{article}” will not be published"
    ]


def test_the_link_in_the_mail_stops_it_without_signing_in(client, committing):
    article = make_article()
    commenter = confirmed_guest_comment(article).commenter
    url = published_mail_url(commenter)
    path = url.removeprefix("https://news.example.org")

    page = client.get(path)
    assert page.status_code == 200 and "Stop this mail" in page.content.decode()
    # A GET (a mail scanner) changes nothing.
    assert not DecisionMailPreference.objects.exists()

    done = client.post(path)
    assert done.status_code == 200 and "Mail stopped" in done.content.decode()
    assert not DecisionMailPreference.objects.get(commenter=commenter).published
    again = client.post(path)
    assert "Already stopped" in again.content.decode()
    committing(
        services.comments_approve,
        comments=only([confirmed_guest_comment(article)]),
        moderator=None,
    )
    assert mail.outbox == []


def test_a_one_click_post_stops_it_with_no_page(client):
    commenter = confirmed_guest_comment(make_article()).commenter
    path = published_mail_url(commenter).removeprefix("https://news.example.org")

    response = client.post(path, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 204 and response.content == b""
    assert not DecisionMailPreference.objects.get(commenter=commenter).published


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        # A reply mail's token names the same commenter, but is not for this mail.
        unsubscribe_token(Unsubscribe(commenter_id=1)),
    ],
)
def test_a_forged_or_foreign_link_changes_nothing(client, token):
    path = reverse("comments:decision_mail_stop", args=[token])

    page = client.post(path)
    one_click = client.post(path, {"List-Unsubscribe": "One-Click"})

    assert page.status_code == 400 and "This link does not work" in page.content.decode()
    assert one_click.status_code == 400
    assert not DecisionMailPreference.objects.exists()


def test_an_expired_link_says_so(client, settings):
    commenter = confirmed_guest_comment(make_article()).commenter
    token = unsubscribe_token(Unsubscribe(commenter_id=commenter.pk), salt=PUBLISHED_MAIL_SALT)
    path = reverse("comments:decision_mail_stop", args=[token])
    later = timezone.now() + timedelta(days=181)

    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        response = client.post(path)

    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not DecisionMailPreference.objects.exists()


# A comment removed or marked as spam


def test_a_removed_held_comment_is_explained_with_the_reason_and_the_policy(committing):
    article = make_article(title="The harbour reopens", discussion_policy=POLICY)
    reader, comment = account_comment(article)

    committing(services.comments_remove, comments=only([comment]), moderator=None, reason="abusive")

    [message] = mail.outbox
    assert message.to == [reader.email]
    assert message.subject == "Your comment on “The harbour reopens” will not be published"
    text, html = parts(message)
    for body in (text, html):
        assert "will not be published" in body
        assert "Abusive or a personal attack" in body
        assert "Argue with ideas, not people." in body and "No advertising." in body
        assert "The harbour needs a second pier." in body
        assert f"https://news.example.org/articles/{article.slug}/" in body
    # No way to turn the statement of reasons off, and no unsubscribe header.
    assert "List-Unsubscribe" not in message.extra_headers


def test_a_published_comment_marked_as_spam_was_removed(committing):
    article = make_article(title="Tides")
    _, comment = account_comment(article, status=Comment.Status.PUBLISHED)

    committing(services.comments_mark_spam, comments=only([comment]), moderator=None)

    [message] = mail.outbox
    assert message.subject == "Your comment on “Tides” was removed"
    text, _ = parts(message)
    assert "no longer shown" in text and "Spam (marked as spam)" in text


def test_marking_a_removed_comment_as_spam_tells_nothing_more(committing):
    _, comment = account_comment(make_article(), status=Comment.Status.REMOVED)

    changed = committing(services.comments_mark_spam, comments=only([comment]), moderator=None)

    assert changed and mail.outbox == []


def test_a_thread_removal_tells_each_author_once(committing):
    article = make_article()
    reader, root = account_comment(article, status=Comment.Status.PUBLISHED)
    own_reply = make_comment(article, root, commenter=reader.commenter, status="published")
    guest = confirmed_guest_comment(article, status=Comment.Status.PUBLISHED)
    guest.move_to(own_reply, "last-child")
    make_comment(article, root, author_email="anon@example.com")

    committing(services.threads_remove, comments=only([root]), moderator=None, reason="off_topic")

    assert sorted(m.to[0] for m in mail.outbox) == sorted([reader.email, "guest@example.net"])
    [to_reader] = [m for m in mail.outbox if m.to == [reader.email]]
    assert to_reader.subject.endswith("were removed")
    text, _ = parts(to_reader)
    assert "Off-topic" in text and text.count("You wrote:") == 2


def test_a_status_changed_on_the_comment_page_is_explained(committing):
    article = make_article(discussion_policy=POLICY)
    reader, comment = account_comment(article)
    comment.status = Comment.Status.REMOVED
    comment.removal_reason = "advertising"

    committing(
        services.comment_update,
        comment=comment,
        changed=["status", "removal_reason"],
        moderator=None,
    )

    [message] = mail.outbox
    assert message.to == [reader.email] and "Advertising" in message.body
    assert "No advertising." in message.body


def test_an_admin_action_mails_the_author(mod_client, django_capture_on_commit_callbacks):
    article = make_article(discussion_policy=POLICY)
    reader, comment = account_comment(article)

    with django_capture_on_commit_callbacks(execute=True):
        response = mod_client.post(
            reverse("admin:comments_comment_changelist"),
            {
                "action": "remove_comments",
                "_selected_action": [comment.pk],
                "apply": "1",
                "reason": "hate_speech",
                "note": "",
            },
            follow=True,
        )

    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == [reader.email] and "Hate speech" in message.body


# Reporters thanked


def report_form(client, comment, **data):
    url = reverse("comments:report", args=[comment.article.slug, comment.pk])
    return client.post(url, {"reason": "abuse", "detail": "", **data})


def test_a_reporter_who_left_an_address_is_thanked_once_when_decided(client, committing):
    article = make_article(title="Tides")
    comment = make_comment(article, body="Rude words.")
    response = report_form(client, comment, email="reporter@example.org")
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.email == "reporter@example.org"

    committing(services.comments_remove, comments=only([comment]), moderator=None, reason="abusive")

    [message] = mail.outbox
    assert message.to == ["reporter@example.org"]
    assert message.subject == "Your report has been decided — thank you"
    text, html = parts(message)
    for body in (text, html):
        assert "Tides" in body and "Rude words." in body
        assert "It has been removed (abusive or a personal attack)." in body
    report.refresh_from_db()
    assert report.email == "" and report.resolved
    # Thanked once: another decision finds no address.
    assert reporters_thank() == 0


def test_a_report_left_up_thanks_the_reporter_and_one_without_address_sends_nothing(
    committing,
):
    comment = make_comment(make_article())
    Report.objects.create(
        comment=comment, reason="spam", reporter="ip:192.0.2.1", email="a@example.org"
    )
    Report.objects.create(comment=comment, reason="spam", reporter="ip:192.0.2.2")

    committing(services.comments_approve, comments=only([comment]), moderator=None)

    [message] = mail.outbox
    assert message.to == ["a@example.org"] and "left it in the discussion" in message.body


def test_a_signed_in_reporter_ticks_a_box_for_their_address(client):
    reader = make_reader()
    client.force_login(reader)
    comment = make_comment(make_article())
    page = client.get(reverse("comments:report", args=[comment.article.slug, comment.pk]))
    assert f"Email me at {reader.email} when this is decided" in page.content.decode()
    assert 'name="email"' not in page.content.decode()

    report_form(client, comment, notify="on")

    assert Report.objects.get().email == reader.email


def test_an_unticked_box_or_an_empty_field_stores_no_address(client):
    comment = make_comment(make_article())
    report_form(client, comment)
    assert Report.objects.get().email == ""


def test_a_bad_address_comes_back_with_a_message_and_nothing_stored(client):
    comment = make_comment(make_article())

    response = report_form(client, comment, email="not an address", detail="Kept text")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address, or leave this empty." in page
    assert "Kept text" in page
    assert not Report.objects.exists()


def test_the_address_is_never_shown_to_moderators(mod_client):
    comment = make_comment(make_article())
    report = Report.objects.create(
        comment=comment, reason="spam", reporter="ip:x", email="secret@example.org"
    )

    page = mod_client.get(reverse("admin:comments_report_change", args=[report.pk]))

    assert page.status_code == 200 and "secret@example.org" not in page.content.decode()


# Faults


def test_an_smtp_server_that_refuses_fails_no_decision(settings, smtp_server, caplog, committing):
    settings.MAILERS = smtp_server.mailers(timeout=1)
    settings.EMAIL_RETRY_DELAYS = [0]
    smtp_server.refusal = "550 5.1.1 No such user"
    _, comment = account_comment(make_article())
    Report.objects.create(
        comment=comment, reason="spam", reporter="ip:192.0.2.1", email="a@example.org"
    )

    with caplog.at_level(logging.INFO):
        changed = committing(
            services.comments_remove, comments=only([comment]), moderator=None, reason="spam"
        )

    assert [c.pk for c in changed] == [comment.pk]
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REMOVED and comment.decisions.count() == 1
    assert smtp_server.messages == []
    # Both mails (the author's, the reporter's) were tried twice, then logged as lost.
    assert smtp_server.attempts == 4
    lost = [r for r in caplog.records if r.name == "newsroom.mail" and r.levelname == "ERROR"]
    assert len(lost) == 2


def test_a_queue_that_fails_loses_the_mail_not_the_decision(
    settings, monkeypatch, caplog, committing
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    def broken(*args, **kwargs):
        raise ConnectionError("queue is gone")

    monkeypatch.setattr(DBTaskResult.objects, "create", broken)
    _, comment = account_comment(make_article())

    with caplog.at_level(logging.ERROR):
        committing(services.comments_approve, comments=only([comment]), moderator=None)

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED and mail.outbox == []
    [record] = [r for r in caplog.records if r.name == "comments.decision_mail"]
    assert "not queued: queue is gone" in record.getMessage()


# Moderation alerts


@pytest.fixture
def moderators(django_user_model):
    group = moderators_group()
    active = django_user_model.objects.create_user("mod1", email="mod1@example.org", is_staff=True)
    quiet = django_user_model.objects.create_user("mod2", email="", is_staff=True)
    gone = django_user_model.objects.create_user(
        "mod3", email="mod3@example.org", is_staff=True, is_active=False
    )
    not_staff = django_user_model.objects.create_user("mod4", email="mod4@example.org")
    for user in (active, quiet, gone, not_staff):
        user.groups.add(group)
    django_user_model.objects.create_user("staff", email="staff@example.org", is_staff=True)
    return [active]


def test_an_alert_when_too_many_comments_wait_goes_to_the_moderators_once_an_hour(
    settings, moderators, committing
):
    settings.MODERATION_ALERT_QUEUE = 2
    article = make_article()
    for _ in range(3):
        make_comment(article, status=Comment.Status.PENDING, created=timezone.now())

    first = committing(moderation_alert_send, now=timezone.now())
    second = committing(moderation_alert_send, now=timezone.now())

    assert (first, second) == (True, False)
    [message] = mail.outbox
    assert message.to == ["mod1@example.org"]
    assert message.subject == "3 comments wait for moderation"
    text, html = parts(message)
    assert "more than the 2 the alert is set for (MODERATION_ALERT_QUEUE)" in text
    queue = "https://news.example.org/admin/comments/commentqueue/"
    assert queue in text and f'href="{queue}"' in html
    # An hour later (the key has expired), the next check alerts again.
    caches["counters"].delete(ALERT_KEY)
    assert committing(moderation_alert_send, now=timezone.now())


def test_an_alert_when_the_oldest_has_waited_too_long(settings, moderators, committing):
    settings.MODERATION_ALERT_MINUTES = 30
    now = timezone.now()
    make_comment(make_article(), status=Comment.Status.PENDING, created=now)
    assert not committing(moderation_alert_send, now=now + timedelta(minutes=30))

    assert committing(moderation_alert_send, now=now + timedelta(minutes=31))
    assert "the oldest has waited 31 minutes" in mail.outbox[0].body


def test_a_report_counts_from_its_time_not_the_comments(settings, moderators, committing):
    settings.MODERATION_ALERT_MINUTES = 30
    now = timezone.now()
    comment = make_comment(make_article(), created=now - timedelta(days=3))
    Report.objects.create(comment=comment, reason="spam", reporter="ip:x")

    assert not committing(moderation_alert_send, now=now + timedelta(minutes=5))


def test_no_alert_below_the_limits_or_without_moderators(settings, committing):
    settings.MODERATION_ALERT_QUEUE = 1
    article = make_article()
    make_comment(article, status=Comment.Status.PENDING)
    make_comment(article, status=Comment.Status.PENDING)

    # Nobody to tell: the hour is not spent.
    assert not committing(moderation_alert_send, now=timezone.now())
    assert caches["counters"].get(ALERT_KEY) is None


def test_two_checks_at_once_claim_the_hour_once(settings, moderators, committing):
    settings.MODERATION_ALERT_QUEUE = 1
    article = make_article()
    make_comment(article, status=Comment.Status.PENDING)
    make_comment(article, status=Comment.Status.PENDING)
    claims = []

    def claim():
        # A second process claimed it between this check and ours.
        claims.append(caches["counters"].add(ALERT_KEY, "other", timeout=3600))
        return caches["counters"].add(ALERT_KEY, "ours", timeout=3600)

    assert not committing(moderation_alert_send, now=timezone.now(), claim=claim)
    assert claims == [True] and mail.outbox == []


def test_a_held_post_and_a_report_run_the_check(
    client, settings, moderators, django_capture_on_commit_callbacks
):
    settings.MODERATION_ALERT_QUEUE = 1
    article = make_article(premoderated=True)
    comment = make_comment(article)

    with django_capture_on_commit_callbacks(execute=True):
        held = services.comment_post(
            article=article,
            parent_id=None,
            author_name="Bo",
            author_email="bo@example.com",
            body="Held.",
            ip_address="192.0.2.1",
            user_agent="test",
        )
    assert held.comment.status == Comment.Status.PENDING
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        report_form(client, comment)

    [message] = mail.outbox
    assert message.to == ["mod1@example.org"]
    assert message.subject == "2 comments wait for moderation"


# The real queue: the worker process and an SMTP server of the test's own.


def test_with_the_worker_an_approval_mails_the_author_and_thanks_the_reporter(
    queue_database, smtp_server, tmp_path
):
    env = {
        **queue_database,
        **smtp_server.environment(),
        "SITE_URL": "https://news.example.org",
        "DEFAULT_FROM_EMAIL": "Newsroom <news@example.org>",
        "MODERATION_ALERT_QUEUE": "0",
        "MODERATION_ALERT_MINUTES": "0",
    }
    comment_id, address = in_child(
        env,
        """
        from comments.models import Report
        from tests.factories import make_article, make_comment, make_reader
        reader = make_reader(display_name="Ann")
        comment = make_comment(
            make_article(title="Tides"), commenter=reader.commenter, author_email=reader.email,
            status="pending",
        )
        Report.objects.create(
            comment=comment, reason="spam", reporter="ip:192.0.2.1", email="rep@example.org"
        )
        print(comment.pk, reader.email)
        """,
    ).split()

    with db_worker(env, tmp_path / "worker.log"):
        in_child(
            env,
            f"""
            from comments import services
            from comments.models import Comment
            services.comments_approve(comments=Comment.objects.filter(pk={comment_id}),
                                      moderator=None)
            """,
        )
        messages = smtp_server.wait_for_messages(2)

    by_recipient = {tuple(recipients): message for recipients, message in messages}
    assert set(by_recipient) == {(address,), ("rep@example.org",)}
    published = by_recipient[(address,)]
    assert published["Subject"] == "Your comment on “Tides” is published"
    assert published["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain, html = published.iter_parts()
    assert f"/comments/{comment_id}/" in plain.get_content()
    assert f"/comments/{comment_id}/" in html.get_content()
    thanks = by_recipient[("rep@example.org",)]
    assert "left it in the discussion" in thanks.get_body(("plain",)).get_content()


def test_two_processes_send_one_alert_an_hour(queue_database, redis_url):
    """The hour is claimed in the counters' Redis, which every worker shares."""
    env = {**queue_database, "REDIS_URL": redis_url, "MODERATION_ALERT_QUEUE": "1"}
    in_child(
        env,
        """
        from django.contrib.auth.models import Group, User
        from tests.factories import make_article, make_comment
        user = User.objects.create_user("mod", email="mod@example.org", is_staff=True)
        # get_or_create: an earlier test's flush of the shared database took the migration's.
        user.groups.add(Group.objects.get_or_create(name="Moderators")[0])
        article = make_article()
        make_comment(article, status="pending")
        make_comment(article, status="pending")
        """,
    )
    check = """
        from django.utils import timezone
        from comments.decision_mail import moderation_alert_send
        print(moderation_alert_send(now=timezone.now()))
        """

    sent = [in_child(env, check), in_child(env, check)]

    assert sent == ["True", "False"]
    queued = in_child(
        env,
        """
        from django_tasks_db.models import DBTaskResult
        print(DBTaskResult.objects.filter(task_path="newsroom.mail.mail_send").count())
        """,
    )
    assert queued == "1"
