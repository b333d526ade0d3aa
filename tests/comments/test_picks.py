"""Editors' picks: the services, the admin's actions and the comment's page."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from articles.cache import article_page_version
from comments.layout import comment_items, page_layout
from comments.models import Comment
from comments.rendering import discussion_html
from comments.selectors import editors_picks
from comments.services import PICK_NOTE_MAX_LENGTH, comments_feature, comments_unfeature
from tests.factories import make_article, make_comment
from tests.helpers import COMMENT_ADMIN_INLINES

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:comments_comment_changelist")


def picked(*comments):
    return Comment.objects.filter(pk__in=[comment.pk for comment in comments])


def test_featuring_marks_published_comments_with_the_note_and_logs_it(moderator):
    article = make_article()
    comment = make_comment(article)
    pending = make_comment(article, status=Comment.Status.PENDING)

    changed = comments_feature(
        comments=picked(comment, pending), moderator=moderator, note="  A reader  who was there "
    )

    assert [c.pk for c in changed] == [comment.pk]
    comment.refresh_from_db()
    pending.refresh_from_db()
    assert comment.featured and comment.featured_at is not None
    assert comment.featured_note == "A reader who was there"
    assert not pending.featured
    entry = LogEntry.objects.get(object_id=str(comment.pk))
    assert entry.user == moderator
    assert entry.change_message == "Featured as an editors’ pick: A reader who was there."


def test_featuring_again_keeps_the_time_and_takes_the_new_note(moderator):
    comment = make_comment(make_article())
    comments_feature(comments=picked(comment), moderator=moderator)
    comment.refresh_from_db()
    first_time = comment.featured_at

    assert comments_feature(comments=picked(comment), moderator=moderator) == []
    assert len(comments_feature(comments=picked(comment), moderator=moderator, note="New")) == 1
    comment.refresh_from_db()
    assert comment.featured_at == first_time
    assert comment.featured_note == "New"


def test_a_note_too_long_is_refused_and_nothing_changes(moderator):
    comment = make_comment(make_article())
    with pytest.raises(ValueError, match="at most"):
        comments_feature(
            comments=picked(comment), moderator=moderator, note="x" * (PICK_NOTE_MAX_LENGTH + 1)
        )
    comment.refresh_from_db()
    assert not comment.featured


def test_unfeaturing_clears_the_pick(moderator):
    comment = make_comment(make_article())
    comments_feature(comments=picked(comment), moderator=moderator, note="Note")

    changed = comments_unfeature(comments=picked(comment), moderator=moderator)

    assert [c.pk for c in changed] == [comment.pk]
    comment.refresh_from_db()
    assert (comment.featured, comment.featured_at, comment.featured_note) == (False, None, "")
    assert comments_unfeature(comments=picked(comment), moderator=moderator) == []


def test_featuring_and_unfeaturing_change_the_page_version(
    moderator, django_capture_on_commit_callbacks
):
    article = make_article()
    comment = make_comment(article)
    other = make_article()
    before, other_before = article_page_version(article.pk), article_page_version(other.pk)
    with django_capture_on_commit_callbacks(execute=True):
        comments_feature(comments=picked(comment), moderator=moderator)
    featured = article_page_version(article.pk)
    with django_capture_on_commit_callbacks(execute=True):
        comments_unfeature(comments=picked(comment), moderator=moderator)

    assert before != featured != article_page_version(article.pk)
    assert article_page_version(other.pk) == other_before


def test_the_picks_are_the_published_ones_latest_first(moderator):
    article = make_article()
    first, second, later_removed = (make_comment(article) for _ in range(3))
    for comment in (first, second, later_removed):
        comments_feature(comments=picked(comment), moderator=moderator, note=f"n{comment.pk}")
    Comment.objects.filter(pk=later_removed.pk).update(status=Comment.Status.REMOVED)
    make_comment(make_article(), featured=True)

    picks = editors_picks(article=article)

    assert [pick.pk for pick in picks] == [second.pk, first.pk]
    assert picks[0].note == f"n{second.pk}"


def test_a_pick_carries_its_badge_and_note_in_the_discussion():
    article = make_article()
    comment = make_comment(article, featured=True, featured_note="Was <there>")
    rows = [
        (comment.pk, None, 0, "Ann", "Hello", "published", None, "", "", "", None, 0, True,
         "Was <there>")
    ]
    html = discussion_html(page_layout(comment_items(rows)), article=article)

    assert '<span class="comment-badge comment-badge--pick">Editors’ pick</span>' in html
    assert '<p class="comment-pick-note">Was &lt;there&gt;</p>' in html
    assert "comment--pick" in html


class TestAdmin:
    def test_the_feature_action_asks_for_the_note_then_features(self, mod_client):
        comment = make_comment(make_article())
        data = {"action": "feature_comments", "_selected_action": [comment.pk]}

        dialog = mod_client.post(CHANGELIST, data)
        assert dialog.status_code == 200
        assert "Note shown with the pick" in dialog.content.decode()
        comment.refresh_from_db()
        assert not comment.featured

        done = mod_client.post(CHANGELIST, {**data, "apply": "1", "note": "First-hand"})
        assert done.status_code == 302
        comment.refresh_from_db()
        assert comment.featured and comment.featured_note == "First-hand"

    def test_a_note_too_long_comes_back_with_a_message(self, mod_client):
        comment = make_comment(make_article())
        data = {"action": "feature_comments", "_selected_action": [comment.pk], "apply": "1"}
        response = mod_client.post(CHANGELIST, {**data, "note": "x" * 201})
        assert response.status_code == 200
        assert "Ensure this value has at most 200 characters" in response.content.decode()
        comment.refresh_from_db()
        assert not comment.featured

    def test_a_pending_comment_is_not_featured_and_the_moderator_is_told(self, mod_client):
        comment = make_comment(make_article(), status=Comment.Status.PENDING)
        data = {"action": "feature_comments", "_selected_action": [comment.pk], "apply": "1"}
        response = mod_client.post(CHANGELIST, data, follow=True)
        assert "is not published and cannot be a pick" in response.content.decode()
        comment.refresh_from_db()
        assert not comment.featured

    def test_the_unfeature_action(self, mod_client, moderator):
        comment = make_comment(make_article())
        comments_feature(comments=picked(comment), moderator=moderator)
        mod_client.post(
            CHANGELIST, {"action": "unfeature_comments", "_selected_action": [comment.pk]}
        )
        comment.refresh_from_db()
        assert not comment.featured

    def test_the_comment_page_features_with_a_note(self, mod_client):
        comment = make_comment(make_article())
        url = reverse("admin:comments_comment_change", args=[comment.pk])
        form = {"status": "published", "removal_reason": "", "body": comment.body}
        form |= COMMENT_ADMIN_INLINES
        response = mod_client.post(url, {**form, "featured": "on", "featured_note": "Local"})
        assert response.status_code == 302
        comment.refresh_from_db()
        assert comment.featured and comment.featured_at and comment.featured_note == "Local"

        mod_client.post(url, {**form, "featured_note": "Local"})
        comment.refresh_from_db()
        assert (comment.featured, comment.featured_at, comment.featured_note) == (False, None, "")

    def test_the_comment_page_refuses_to_feature_a_pending_comment(self, mod_client):
        comment = make_comment(make_article(), status=Comment.Status.PENDING)
        url = reverse("admin:comments_comment_change", args=[comment.pk])
        form = {"status": "pending", "removal_reason": "", "body": comment.body, "featured": "on"}
        form |= COMMENT_ADMIN_INLINES
        response = mod_client.post(url, form)
        assert response.status_code == 200
        assert "Only a published comment can be an editors’ pick" in response.content.decode()
        comment.refresh_from_db()
        assert not comment.featured
