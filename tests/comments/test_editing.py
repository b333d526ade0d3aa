"""Readers edit and delete their own comments: who may, for how long, and what the page,
the feeds, the API and the moderators see afterwards."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments.editing import NOT_YOURS
from comments.locks import lock_article
from comments.models import BannedPhrase, Comment, CommentRevision, HoldReason, Report
from comments.moderation import REFUSED_MESSAGE
from comments.ownership import OWN_COOKIE, OWN_SALT, own_entries
from comments.services import comment_edit
from newsroom.locking import LockTimeout
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import held_elsewhere

pytestmark = pytest.mark.django_db


def edit_url(comment):
    return reverse("comments:edit", args=[comment.article.slug, comment.pk])


def delete_url(comment):
    return reverse("comments:delete", args=[comment.article.slug, comment.pk])


def guest_post(client, article, body="First version.", **fields):
    """Post as a guest through the form; the new comment (this browser's own)."""
    values = {"name": "Ada Reader", "email": "ada@example.com", "body": body, "parent": ""}
    values.update(fields)
    response = client.post(reverse("comments:post", args=[article.slug]), values)
    assert response.status_code == 302, response.content
    return Comment.objects.latest("pk")


class TestOwnership:
    def test_posting_gives_the_browser_a_signed_cookie_naming_the_comment(self, client):
        comment = guest_post(client, make_article())
        raw = client.cookies[OWN_COOKIE].value
        entries = dict(
            entry.split("-") for entry in signing.Signer(salt=OWN_SALT).unsign(raw).split(".")
        )
        deadline = comment.created + timedelta(minutes=15)
        assert entries == {str(comment.pk): str(int(deadline.timestamp()))}
        assert not client.cookies[OWN_COOKIE]["httponly"]

    def test_a_forged_cookie_names_nothing(self, rf):
        request = rf.get("/")
        request.COOKIES[OWN_COOKIE] = "1-99999999999:forged"
        assert own_entries(request) == {}

    def test_the_confirmation_links_to_the_edit_page(self, client):
        comment = guest_post(client, make_article())
        page = client.get(comment.get_absolute_url(), follow=True)
        assert f'<a href="{edit_url(comment)}">Edit it</a> (for 15 minutes).' in page.text


class TestEdit:
    def test_the_author_edits_within_the_window_and_the_earlier_text_is_kept(self, client):
        comment = guest_post(client, make_article())
        assert client.get(edit_url(comment)).status_code == 200

        response = client.post(edit_url(comment), {"body": "Second version."})

        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.body == "Second version."
        assert comment.edited is not None
        [revision] = CommentRevision.objects.filter(comment=comment)
        assert revision.body == "First version."
        assert revision.editor is None
        page = client.get(comment.article.get_absolute_url())
        assert "Second version." in page.text
        assert 'class="comment-edited">edited <time datetime=' in page.text

    def test_an_account_edits_from_its_session(self, client):
        reader = make_reader()
        comment = make_comment(
            make_article(), commenter=reader.commenter, created=timezone.now()
        )
        client.force_login(reader)
        assert client.post(edit_url(comment), {"body": "Better."}).status_code == 302
        comment.refresh_from_db()
        assert comment.body == "Better."
        assert comment.revisions.get().editor == reader

    def test_an_edit_after_the_window_answers_403(self, client, settings):
        settings.COMMENTS_EDIT_MINUTES = 15
        comment = guest_post(client, make_article())
        Comment.objects.filter(pk=comment.pk).update(
            created=timezone.now() - timedelta(minutes=16)
        )
        response = client.post(edit_url(comment), {"body": "Too late."})
        assert response.status_code == 403
        assert "The time to edit this comment is over" in response.text
        assert delete_url(comment) in response.text
        comment.refresh_from_db()
        assert comment.body == "First version."
        assert not comment.revisions.exists()

    def test_editing_turned_off_answers_403(self, client, settings):
        comment = guest_post(client, make_article())
        settings.COMMENTS_EDIT_MINUTES = 0
        assert client.get(edit_url(comment)).status_code == 403

    def test_someone_else_gets_403(self, client, django_user_model):
        article = make_article()
        guest_comment = make_comment(article, created=timezone.now())
        account_comment = make_comment(
            article, commenter=make_reader().commenter, created=timezone.now()
        )
        client.force_login(make_reader())
        for comment in (guest_comment, account_comment):
            response = client.post(edit_url(comment), {"body": "Not mine."})
            assert response.status_code == 403
            assert NOT_YOURS in response.text
            comment.refresh_from_db()
            assert comment.body != "Not mine."

    def test_a_guest_cookie_does_not_open_an_accounts_comment(self, client):
        comment = make_comment(
            make_article(), commenter=make_reader().commenter, created=timezone.now()
        )
        value = signing.Signer(salt=OWN_SALT).sign(f"{comment.pk}-9999999999")
        client.cookies[OWN_COOKIE] = value
        assert client.post(edit_url(comment), {"body": "Mine?"}).status_code == 403

    @pytest.mark.parametrize(
        ("body", "message"),
        [("   ", "Write something before posting."), ("x" * 5001, "Keep your comment to 5,000")],
    )
    def test_an_empty_or_overlong_body_comes_back_with_the_error(self, client, body, message):
        comment = guest_post(client, make_article())
        response = client.post(edit_url(comment), {"body": body})
        assert response.status_code == 400
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        comment.refresh_from_db()
        assert comment.body == "First version."

    def test_an_edit_the_rules_hold_leaves_the_page_with_its_reasons(self, client):
        comment = guest_post(client, make_article())
        BannedPhrase.objects.create(phrase="casino", action=BannedPhrase.Action.HOLD)

        response = client.post(edit_url(comment), {"body": "Visit the casino."})

        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.status == Comment.Status.PENDING
        assert list(HoldReason.objects.filter(comment=comment).values_list("code", "detail")) == [
            ("phrase", "casino")
        ]
        assert comment.revisions.get().body == "First version."
        page = client.get(comment.get_absolute_url(), follow=True)
        assert "awaiting moderation" in page.text
        assert "Visit the casino." in page.text  # to its author, in their own block
        other = Client().get(comment.article.get_absolute_url())
        assert "Visit the casino." not in other.text

    def test_an_edit_the_rules_refuse_changes_nothing(self, client):
        comment = guest_post(client, make_article())
        BannedPhrase.objects.create(phrase="casino", action=BannedPhrase.Action.REFUSE)
        response = client.post(edit_url(comment), {"body": "Visit the casino."})
        assert response.status_code == 400
        assert REFUSED_MESSAGE in response.text
        comment.refresh_from_db()
        assert comment.body == "First version."
        assert not comment.revisions.exists()

    def test_a_removed_comment_cannot_be_edited(self, client):
        comment = guest_post(client, make_article())
        Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.REMOVED)
        response = client.post(edit_url(comment), {"body": "Back again."})
        assert response.status_code == 403
        assert "A moderator has removed this comment" in response.text

    def test_a_lock_timeout_answers_503_and_keeps_the_text(self, client, monkeypatch):
        comment = guest_post(client, make_article())

        def busy(**kwargs):
            raise LockTimeout

        monkeypatch.setattr("comments.services.comment_edit", busy)
        response = client.post(edit_url(comment), {"body": "Kept in the form."})
        assert response.status_code == 503
        assert "Kept in the form." in response.text
        assert response["Retry-After"]

    def test_edits_made_one_after_the_other_keep_every_earlier_text(self):
        comment = make_comment(make_article(), body="one", created=timezone.now())
        # Two edits from two tabs that both loaded "one": each keeps what it replaced.
        comment_edit(comment_id=comment.pk, body="two", editor=None, ip_address=None)
        comment_edit(comment_id=comment.pk, body="three", editor=None, ip_address=None)
        comment.refresh_from_db()
        assert comment.body == "three"
        assert list(comment.revisions.values_list("body", flat=True)) == ["one", "two"]

    def test_moderators_see_every_revision_on_the_comment_page(self, mod_client):
        comment = make_comment(make_article(), body="one", created=timezone.now())
        comment_edit(comment_id=comment.pk, body="two", editor=None, ip_address=None)
        comment_edit(comment_id=comment.pk, body="three", editor=None, ip_address=None)
        page = mod_client.get(reverse("admin:comments_comment_change", args=[comment.pk]))
        assert page.status_code == 200
        assert "Earlier texts (edits by the author)" in page.text
        assert "<p>one</p>" in page.text or ">one<" in page.text
        assert ">two<" in page.text or "<p>two</p>" in page.text


class TestDelete:
    def test_delete_asks_once_then_leaves_the_replies_under_the_placeholder(self, client):
        article = make_article()
        comment = guest_post(client, article, body="Regrettable words.")
        reply = make_comment(article, parent=comment, body="A reply that stays.")
        Report.objects.create(comment=comment, reason="abuse", reporter="ip:1.2.3.4")

        confirm = client.get(delete_url(comment))
        assert confirm.status_code == 200
        assert "Delete your comment?" in confirm.text
        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED

        response = client.post(delete_url(comment))

        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.status == Comment.Status.DELETED
        assert not comment.reports.filter(resolved=False).exists()
        page = client.get(article.get_absolute_url())
        assert "Regrettable words." not in page.text
        assert "[deleted by its author]" in page.text
        assert "A reply that stays." in page.text
        assert reply.pk in {c.pk for c in Comment.objects.visible()}

    def test_a_deleted_comment_without_replies_leaves_no_trace_on_the_page(self, client):
        article = make_article()
        comment = guest_post(client, article, body="Gone for good.")
        client.post(delete_url(comment))
        page = client.get(article.get_absolute_url())
        assert "Gone for good." not in page.text
        assert "[deleted by its author]" not in page.text

    def test_a_deleted_comment_leaves_the_feed_and_the_api(self, client):
        article = make_article()
        comment = guest_post(client, article, body="Not in the feed.")
        make_comment(article, parent=comment)
        feed_url = reverse("articles:comments_feed", args=[article.slug])
        api_url = reverse("articles:api_detail", args=[article.slug])
        assert "Not in the feed." in client.get(feed_url).text

        client.post(delete_url(comment))

        assert "Not in the feed." not in client.get(feed_url).text
        data = client.get(api_url).json()
        [root] = data["comments"]["results"]
        assert root["id"] == comment.pk
        assert (root["removed"], root["deleted"], root["body"], root["author"]) == (
            True, True, "", ""
        )
        assert data["comment_count"] == 1

    def test_delete_has_no_time_limit(self, client):
        comment = guest_post(client, make_article())
        Comment.objects.filter(pk=comment.pk).update(created=timezone.now() - timedelta(days=400))
        assert client.post(delete_url(comment)).status_code == 302
        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.DELETED

    def test_someone_else_cannot_delete(self, client):
        comment = make_comment(make_article(), created=timezone.now())
        assert client.get(delete_url(comment)).status_code == 403
        assert client.post(delete_url(comment)).status_code == 403
        assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PUBLISHED

    def test_moderators_see_it_marked_deleted_by_its_author(self, mod_client):
        comment = make_comment(make_article(), commenter=make_reader().commenter)
        author = Client()
        author.force_login(comment.commenter.user)
        assert author.post(delete_url(comment)).status_code == 302
        listing = mod_client.get(reverse("admin:comments_comment_changelist"))
        assert "Deleted by its author" in listing.text
        page = mod_client.get(reverse("admin:comments_comment_change", args=[comment.pk]))
        assert "Deleted by its author" in page.text
        assert comment.body in page.text


def _edit_in_thread(comment_id, body, errors):
    try:
        comment_edit(comment_id=comment_id, body=body, editor=None, ip_address=None)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        errors.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_two_edits_racing_keep_every_text():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    comment = make_comment(make_article(), body="one", created=timezone.now())
    errors: list[str] = []
    threads = [
        threading.Thread(target=_edit_in_thread, args=(comment.pk, body, errors))
        for body in ("two", "three")
    ]
    # Both edits start while the article is locked, as when they arrive together; each
    # then waits its turn.
    with held_elsewhere(lambda: lock_article(comment.article_id)):
        for thread in threads:
            thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    comment.refresh_from_db()
    kept = list(comment.revisions.order_by("pk").values_list("body", flat=True))
    assert kept[0] == "one"
    assert sorted([*kept, comment.body]) == ["one", "three", "two"]


def test_too_many_edits_get_a_429_page_and_change_nothing(client, settings):
    settings.COMMENT_RATE_LIMIT = "2/3600"
    comment = guest_post(client, make_article())
    assert client.post(edit_url(comment), {"body": "Second."}).status_code == 302
    response = client.post(edit_url(comment), {"body": "Third."})
    assert response.status_code == 429
    assert "You have sent several edits in a short time" in response.text
    comment.refresh_from_db()
    assert comment.body == "Second."
