"""A commenter's status when they post (suspended, banned, pre-moderated, each timed status
ending by itself), and the automatic pre-moderation rule."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.models import Comment, Commenter, ModerationPolicy
from comments.sanctions import (
    BANNED_MESSAGE,
    posting_refusal,
    premoderation_detail,
    premoderation_rule_matches,
)
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db


def post_comment(client, article, body="My view on this."):
    return client.post(reverse("comments:post", args=[article.slug]), {"body": body})


def set_status(user, status, *, until=None, reason=""):
    Commenter.objects.filter(user=user).update(
        status=status, status_until=until, status_reason=reason
    )


def soon(**delta):
    return timezone.now() + timedelta(**delta)


class TestSuspension:
    def test_a_suspended_commenter_cannot_post_and_is_told_until_when(self, client):
        article = make_article()
        reader = make_reader()
        until = datetime(2099, 3, 14, 18, 30, tzinfo=UTC)
        set_status(reader, Commenter.Status.SUSPENDED, until=until, reason="Repeated abuse.")
        client.force_login(reader)

        response = post_comment(client, article, body="Let me say this <again>.")

        assert response.status_code == 403
        page = html.unescape(response.content.decode())
        assert "Your commenting is suspended until 14 March 2099, 18:30 UTC" in page
        assert "The moderators’ reason: Repeated abuse." in page
        assert "Your comment was not posted" in page
        assert "Please correct" not in page
        # The form is kept, with what was typed, for when the suspension ends.
        assert "Let me say this <again>.</textarea>" in page
        assert not Comment.objects.exists()

    def test_a_suspension_ends_by_itself(self, client):
        article = make_article()
        reader = make_reader()
        set_status(reader, Commenter.Status.SUSPENDED, until=soon(seconds=-1))
        client.force_login(reader)

        response = post_comment(client, article)

        assert response.status_code == 302
        assert Comment.objects.get().status == Comment.Status.PUBLISHED

    def test_a_banned_commenter_cannot_post(self, client):
        article = make_article()
        reader = make_reader()
        set_status(reader, Commenter.Status.BANNED)
        client.force_login(reader)

        response = post_comment(client, article)

        assert response.status_code == 403
        assert html.unescape(response.content.decode()).count(BANNED_MESSAGE) == 1
        assert not Comment.objects.exists()

    def test_a_suspended_reply_keeps_the_comment_replied_to_on_the_page(self, client):
        article = make_article()
        parent = make_comment(article, body="The comment answered.")
        reader = make_reader()
        set_status(reader, Commenter.Status.SUSPENDED, until=soon(days=2))
        client.force_login(reader)

        response = client.post(
            reverse("comments:post", args=[article.slug]),
            {"body": "A reply.", "parent": parent.pk},
        )

        assert response.status_code == 403
        page = response.content.decode()
        assert "The comment answered." in page
        assert f'name="parent" value="{parent.pk}"' in page
        assert Comment.objects.count() == 1


class TestPremoderation:
    @pytest.mark.parametrize(
        ("until", "held"), [(None, True), ("future", True), ("past", False)]
    )
    def test_a_pre_moderated_commenter_is_held_until_it_ends(self, client, until, held):
        article = make_article()
        reader = make_reader()
        ends = {None: None, "future": soon(days=3), "past": soon(minutes=-1)}[until]
        set_status(reader, Commenter.Status.PREMODERATED, until=ends)
        client.force_login(reader)

        response = post_comment(client, article)

        assert response.status_code == 302
        expected = Comment.Status.PENDING if held else Comment.Status.PUBLISHED
        assert Comment.objects.get().status == expected

    def test_the_hold_reason_says_until_when(self):
        commenter = Commenter(
            status=Commenter.Status.PREMODERATED,
            status_until=datetime(2099, 1, 2, 3, 4, tzinfo=UTC),
        )
        assert premoderation_detail(commenter) == "until 2 January 2099, 03:04 UTC"
        assert premoderation_detail(Commenter(status=Commenter.Status.PREMODERATED)) == ""
        assert premoderation_detail(Commenter()) is None
        assert premoderation_detail(None) is None


def test_a_status_costs_the_post_no_query(client, settings):
    """The status is read with the commenter the post reads anyway: a pre-moderated
    commenter's post costs what an active one's held by its article costs, and an ended
    suspension what an active one's costs."""
    settings.COMMENT_RATE_LIMIT = "off"

    def queries_of_a_post(status, *, until=None, article):
        reader = make_reader()
        set_status(reader, status, until=until)
        client.force_login(reader)
        post_comment(client, article, body="Warm-up")
        with CaptureQueriesContext(connection) as queries:
            response = post_comment(client, article, body=f"Counted {status}")
        assert response.status_code == 302
        return len(queries)

    open_article, held_article = make_article(), make_article(premoderated=True)
    active = queries_of_a_post(Commenter.Status.ACTIVE, article=open_article)
    active_held = queries_of_a_post(Commenter.Status.ACTIVE, article=held_article)
    premoderated = queries_of_a_post(
        Commenter.Status.PREMODERATED, until=soon(days=1), article=open_article
    )
    ended = queries_of_a_post(Commenter.Status.SUSPENDED, until=soon(seconds=-1),
                              article=open_article)
    assert premoderated <= active_held
    assert ended <= active
    assert Comment.objects.filter(body__startswith="Counted premoderated").get().status == (
        Comment.Status.PENDING
    )


@pytest.mark.parametrize(
    ("status", "until", "current"),
    [
        ("active", None, "active"),
        ("suspended", "future", "suspended"),
        ("suspended", "past", "active"),
        ("premoderated", None, "premoderated"),
        ("premoderated", "future", "premoderated"),
        ("premoderated", "past", "active"),
        ("banned", None, "banned"),
    ],
)
def test_the_current_status_in_python_and_in_sql_agree(status, until, current):
    reader = make_reader()
    ends = {None: None, "future": soon(hours=1), "past": soon(seconds=-1)}[until]
    set_status(reader, status, until=ends)
    assert Commenter.objects.with_current_status().get(user=reader).status_now == current
    assert Commenter.objects.get(user=reader).current_status == current


@pytest.mark.parametrize(
    ("status", "until", "field"),
    [("suspended", None, "status_until"), ("banned", "future", "status_until")],
)
def test_a_suspension_needs_an_end_and_a_ban_has_none(status, until, field):
    commenter = Commenter(status=status, status_until=soon(days=1) if until else None)
    with pytest.raises(ValidationError) as error:
        commenter.clean()
    assert field in error.value.message_dict


def test_refusals_and_holds_for_guests_and_active_commenters_are_empty():
    assert posting_refusal(None) == ""
    assert posting_refusal(Commenter()) == ""
    assert posting_refusal(Commenter(status="premoderated")) == ""


# The automatic pre-moderation rule


@pytest.fixture
def rule():
    policy = ModerationPolicy.current()
    policy.auto_premoderation = True
    policy.auto_premoderation_window = 10
    policy.auto_premoderation_share = 50
    policy.auto_premoderation_days = 30
    policy.save()
    return policy


def decided_comments(commenter, *, rejected, approved, article=None):
    """`approved` comments of `commenter` (a moderator published some, others went out
    without moderation), and `rejected` published ones, returned, for a moderator to reject."""
    article = article or make_article()
    made = [
        make_comment(article, commenter=commenter, created=timezone.now(),
                     status="pending" if n % 2 else "published")
        for n in range(approved)
    ]
    services.comments_approve(
        comments=Comment.objects.filter(pk__in=[c.pk for c in made]), moderator=None
    )
    to_reject = [
        make_comment(article, commenter=commenter, created=timezone.now())
        for _ in range(rejected)
    ]
    return Comment.objects.filter(pk__in=[c.pk for c in to_reject])


def test_the_rule_is_off_by_default():
    policy = ModerationPolicy.current()
    assert policy.auto_premoderation is False
    commenter = make_reader().commenter
    services.comments_remove(comments=decided_comments(commenter, rejected=10, approved=0),
                             moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.ACTIVE


@pytest.mark.parametrize(("rejected", "caught"), [(5, False), (6, True)])
def test_the_rule_catches_a_commenter_just_past_the_share(rule, rejected, caught):
    """More than 50 % of the last 10: five rejections are not enough, six are."""
    commenter = make_reader().commenter
    services.comments_remove(
        comments=decided_comments(commenter, rejected=rejected, approved=10 - rejected),
        moderator=None,
    )
    commenter.refresh_from_db()
    if caught:
        assert commenter.status == Commenter.Status.PREMODERATED
        assert commenter.status_reason == (
            "Automatic: moderators rejected 6 of this commenter’s last 10 comments "
            "(more than 50%)."
        )
        assert abs(commenter.status_until - soon(days=30)) < timedelta(minutes=1)
    else:
        assert commenter.status == Commenter.Status.ACTIVE
        assert commenter.status_reason == ""


def test_only_the_last_n_comments_count(rule):
    """Six old rejections followed by ten published comments: the window holds none of them."""
    commenter = make_reader().commenter
    old = decided_comments(commenter, rejected=6, approved=0)
    services.comments_mark_spam(comments=old, moderator=None)
    Commenter.objects.filter(pk=commenter.pk).update(status="active", status_until=None)
    decided_comments(commenter, rejected=0, approved=10)
    services.comments_remove(comments=decided_comments(commenter, rejected=1, approved=0),
                             moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.ACTIVE


def test_comments_awaiting_review_do_not_count(rule):
    commenter = make_reader().commenter
    to_reject = decided_comments(commenter, rejected=6, approved=0)
    article = make_article()
    for _ in range(10):
        make_comment(article, commenter=commenter, created=timezone.now(), status="pending")
    services.comments_remove(comments=to_reject, moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.PREMODERATED


def test_a_newcomer_is_judged_against_the_whole_window(rule):
    """Fewer than N comments count as if the missing ones were published."""
    commenter = make_reader().commenter
    services.comments_remove(comments=decided_comments(commenter, rejected=5, approved=0),
                             moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.ACTIVE
    services.comments_mark_spam(comments=decided_comments(commenter, rejected=1, approved=0),
                                moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.PREMODERATED


def test_the_rule_leaves_a_suspended_or_banned_commenter_as_they_are(rule):
    reader = make_reader()
    set_status(reader, Commenter.Status.BANNED, reason="Spam account.")
    services.comments_remove(comments=decided_comments(reader.commenter, rejected=8, approved=0),
                             moderator=None)
    commenter = Commenter.objects.get(user=reader)
    assert commenter.status == Commenter.Status.BANNED
    assert commenter.status_reason == "Spam account."


def test_the_rule_with_no_duration_holds_until_a_moderator_lifts_it(rule):
    rule.auto_premoderation_days = 0
    rule.save()
    commenter = make_reader().commenter
    services.threads_remove(comments=decided_comments(commenter, rejected=6, approved=0),
                            moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.PREMODERATED
    assert commenter.status_until is None


def test_the_rule_runs_when_a_moderator_edits_a_comment_s_status(rule):
    commenter = make_reader().commenter
    rejected = list(decided_comments(commenter, rejected=6, approved=0))
    services.comments_remove(comments=Comment.objects.filter(pk__in=[c.pk for c in rejected[:5]]),
                             moderator=None)
    last = rejected[5]
    last.status = Comment.Status.SPAM
    last.removal_reason = "spam"
    services.comment_update(comment=last, changed=["status"], moderator=None)
    commenter.refresh_from_db()
    assert commenter.status == Commenter.Status.PREMODERATED


def test_a_caught_commenter_s_next_comment_is_held(rule, client):
    reader = make_reader()
    article = make_article()
    services.comments_remove(
        comments=decided_comments(reader.commenter, rejected=6, approved=0, article=article),
        moderator=None,
    )
    client.force_login(reader)
    post_comment(client, article, body="After the rule caught me.")
    assert Comment.objects.get(body="After the rule caught me.").status == Comment.Status.PENDING


def test_the_rule_reads_a_fixed_number_of_queries(rule, django_assert_max_num_queries):
    commenters = [make_reader().commenter for _ in range(5)]
    article = make_article()
    for commenter in commenters:
        decided_comments(commenter, rejected=6, approved=4, article=article).update(
            status=Comment.Status.REMOVED, moderated_at=timezone.now()
        )
    with django_assert_max_num_queries(3):
        matches = premoderation_rule_matches({c.pk for c in commenters})
    assert sorted(match.commenter_id for match in matches) == sorted(c.pk for c in commenters)
