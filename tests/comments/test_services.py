"""The moderation services: hold reasons kept, decisions recorded, blocks and sanctions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comments import services
from comments.models import (
    BannedPhrase,
    BlockedCommenter,
    Comment,
    Commenter,
    Decision,
    HoldReason,
    ModerationPolicy,
    Report,
)
from comments.moderation import comment_screen
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db


def post(article, **fields):
    values = {
        "parent_id": None,
        "author_name": "Ada Reader",
        "author_email": "ada@example.com",
        "body": "A fair point.",
        "ip_address": "192.0.2.10",
        "user_agent": "test",
    }
    values.update(fields)
    return services.comment_post(article=article, **values)


def screen(**fields):
    values = {
        "article": make_article(),
        "author_name": "Someone",
        "author_email": "someone@example.com",
        "ip_address": "192.0.2.99",
        "body": "Hello.",
    }
    values.update(fields)
    return comment_screen(**values)


# Why a comment is held


def test_a_held_comment_keeps_each_reason_with_its_detail(settings):
    settings.COMMENTS_HOLD_LINKS = 2
    BannedPhrase.objects.create(phrase="rubbish")
    policy = ModerationPolicy.current()
    policy.mode = ModerationPolicy.Mode.PREMODERATE
    policy.save()

    result = post(
        make_article(premoderated=True),
        body="Rubbish, see http://a.example http://b.example http://c.example",
    )

    assert result.comment.status == Comment.Status.PENDING
    assert list(result.comment.hold_reasons.values_list("code", "detail")) == [
        ("phrase", "rubbish"),
        ("links", "3"),
        ("article_premoderated", ""),
        ("site_premoderated", ""),
    ]


def test_a_published_comment_keeps_no_reason():
    result = post(make_article())

    assert result.comment.status == Comment.Status.PUBLISHED
    assert not HoldReason.objects.exists()


def test_a_premoderated_commenter_is_held_with_that_reason():
    user = make_reader()
    commenter = user.commenter
    commenter.status = Commenter.Status.PREMODERATED
    commenter.save()

    result = post(make_article(), commenter=commenter)

    assert result.comment.status == Comment.Status.PENDING
    assert list(result.comment.hold_reasons.values_list("code", flat=True)) == [
        "commenter_premoderated"
    ]


def test_first_comment_moderation_is_kept_as_a_reason():
    policy = ModerationPolicy.current()
    policy.mode = ModerationPolicy.Mode.FIRST_COMMENT
    policy.save()

    result = post(make_article(), author_email="new@example.com")

    assert list(result.comment.hold_reasons.values_list("code", flat=True)) == ["first_comment"]


# Decisions


def test_each_decision_is_recorded_with_its_reason_note_and_moderator(admin_user):
    article = make_article()
    comment = make_comment(article, status="pending")
    selection = Comment.objects.filter(pk=comment.pk)

    services.comments_approve(comments=selection, moderator=admin_user)
    services.comments_remove(
        comments=selection, moderator=admin_user, reason="abusive", note="Called names."
    )
    services.comments_mark_spam(comments=selection, moderator=admin_user)

    decisions = list(
        comment.decisions.order_by("created", "pk").values_list(
            "status", "reason", "note", "moderator"
        )
    )
    assert decisions == [
        ("published", "", "", admin_user.pk),
        ("removed", "abusive", "Called names.", admin_user.pk),
        ("spam", "spam", "", admin_user.pk),
    ]
    comment.refresh_from_db()
    assert comment.removal_reason == "spam"


def test_approving_again_clears_the_removal_reason(admin_user):
    comment = make_comment(make_article())
    selection = Comment.objects.filter(pk=comment.pk)
    services.comments_remove(comments=selection, moderator=admin_user, reason="off_topic")

    services.comments_approve(comments=selection, moderator=admin_user)

    comment.refresh_from_db()
    assert (comment.status, comment.removal_reason) == ("published", "")


def test_a_decision_that_changes_nothing_is_not_recorded(admin_user):
    comment = make_comment(make_article(), status="removed")

    changed = services.comments_remove(
        comments=Comment.objects.filter(pk=comment.pk), moderator=admin_user, reason="spam"
    )

    assert changed == []
    assert not Decision.objects.exists()


def test_a_removal_without_a_known_reason_writes_nothing(admin_user):
    comment = make_comment(make_article())

    with pytest.raises(ValueError, match="reason"):
        services.comments_remove(
            comments=Comment.objects.filter(pk=comment.pk), moderator=admin_user, reason="bored"
        )

    comment.refresh_from_db()
    assert comment.status == "published"
    assert not Decision.objects.exists()


def test_removing_a_thread_records_a_decision_for_every_comment_it_hides(admin_user):
    article = make_article()
    root = make_comment(article)
    reply = make_comment(article, parent=root)
    already = make_comment(article, parent=reply, status="spam")

    services.threads_remove(
        comments=Comment.objects.filter(pk=root.pk), moderator=admin_user, reason="harassment"
    )

    assert sorted(Decision.objects.values_list("comment", "reason")) == [
        (root.pk, "harassment"),
        (reply.pk, "harassment"),
    ]
    assert Comment.objects.get(pk=already.pk).removal_reason == ""


def test_a_status_edited_on_the_comment_is_a_decision(admin_user):
    comment = make_comment(make_article())
    Report.objects.create(comment=comment, reason="abuse", reporter="ip:192.0.2.1")
    comment.status = Comment.Status.REMOVED
    comment.removal_reason = Decision.Reason.HATE_SPEECH

    services.comment_update(comment=comment, changed=["status"], moderator=admin_user, note="Slur.")

    decision = Decision.objects.get()
    assert (decision.status, decision.reason, decision.note) == ("removed", "hate_speech", "Slur.")
    assert not Report.objects.filter(resolved=False).exists()


# Blocks and sanctions


def test_a_timed_block_ends_by_itself(admin_user):
    comment = make_comment(make_article(), author_email="troll@example.com")

    services.commenters_block(
        comments=Comment.objects.filter(pk=comment.pk),
        moderator=admin_user,
        targets=["email"],
        duration=timedelta(days=7),
    )

    block = BlockedCommenter.objects.get()
    assert block.kind == "email"
    assert timedelta(days=6) < block.expires - timezone.now() <= timedelta(days=7)
    assert screen(author_email="troll@example.com").refused
    BlockedCommenter.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert not screen(author_email="troll@example.com").refused


def test_a_block_only_holds_on_to_what_was_chosen(admin_user):
    comment = make_comment(
        make_article(),
        author_name="Troll",
        author_email="troll@example.com",
        ip_address="198.51.100.7",
    )

    services.commenters_block(
        comments=Comment.objects.filter(pk=comment.pk), moderator=admin_user, targets=["name"]
    )

    assert list(BlockedCommenter.objects.values_list("kind", "value", "expires")) == [
        ("name", "troll", None)
    ]
    assert screen(author_name="TROLL").refused
    assert not screen(author_email="troll@example.com", ip_address="198.51.100.7").refused


def test_blocking_again_lengthens_a_block_and_never_shortens_it(admin_user):
    comment = make_comment(make_article(), ip_address="198.51.100.7")
    selection = Comment.objects.filter(pk=comment.pk)

    def block(duration):
        services.commenters_block(
            comments=selection, moderator=admin_user, targets=["ip"], duration=duration
        )
        return BlockedCommenter.objects.get().expires

    first = block(timedelta(hours=24))
    assert block(timedelta(days=30)) > first
    assert block(None) is None
    assert block(timedelta(hours=24)) is None


def test_blocking_an_account_suspends_or_bans_it_with_the_note(admin_user):
    article = make_article()
    suspended = make_reader().commenter
    banned = make_reader().commenter
    one = make_comment(article, commenter=suspended)
    two = make_comment(article, commenter=banned)

    services.commenters_block(
        comments=Comment.objects.filter(pk=one.pk),
        moderator=admin_user,
        targets=["account"],
        duration=timedelta(days=30),
        note="Repeated insults.",
    )
    services.commenters_block(
        comments=Comment.objects.filter(pk=two.pk), moderator=admin_user, targets=["account"]
    )

    suspended.refresh_from_db()
    banned.refresh_from_db()
    assert suspended.status == "suspended"
    assert suspended.status_reason == "Repeated insults."
    assert timedelta(days=29) < suspended.status_until - timezone.now() <= timedelta(days=30)
    assert (banned.status, banned.status_until) == ("banned", None)
    assert not BlockedCommenter.objects.exists()


def test_a_block_can_remove_the_authors_published_comments_too(admin_user):
    article = make_article()
    picked = make_comment(article, author_email="troll@example.com")
    published = make_comment(article, author_email="TROLL@example.com")
    pending = make_comment(article, author_email="troll@example.com", status="pending")
    bystander = make_comment(article, author_email="other@example.com", status="pending")

    blocking = services.commenters_block(
        comments=Comment.objects.filter(pk=picked.pk),
        moderator=admin_user,
        targets=["email"],
        remove_published=True,
        reason="harassment",
        note="Campaign against another reader.",
    )

    assert sorted(comment.pk for comment in blocking.removed) == sorted(
        [picked.pk, published.pk, pending.pk]
    )
    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses[bystander.pk] == "pending"
    assert set(Decision.objects.values_list("reason", "note")) == {
        ("harassment", "Campaign against another reader.")
    }


def test_without_remove_published_only_pending_comments_go(admin_user):
    article = make_article()
    published = make_comment(article, author_email="troll@example.com")
    pending = make_comment(article, author_email="troll@example.com", status="pending")

    blocking = services.commenters_block(
        comments=Comment.objects.filter(pk=published.pk), moderator=admin_user, targets=["email"]
    )

    assert [comment.pk for comment in blocking.removed] == [pending.pk]


def test_a_block_with_nothing_chosen_is_refused(admin_user):
    comment = make_comment(make_article())

    with pytest.raises(ValueError):
        services.commenters_block(
            comments=Comment.objects.filter(pk=comment.pk), moderator=admin_user, targets=[]
        )
    assert not BlockedCommenter.objects.exists()
