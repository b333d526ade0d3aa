"""The review screen: one comment of the queue at a time, with and without JavaScript."""

import itertools
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments import queue, services
from comments.models import BlockedCommenter, Comment, Decision, HoldReason, Report
from newsroom.locking import LockTimeout
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db

REPORTERS = itertools.count(1)
REVIEW = reverse("admin:comments_commentqueue_review")


def held(article, *reasons, **fields):
    comment = make_comment(article, status="pending", **fields)
    for code, detail in reasons:
        HoldReason.objects.create(comment=comment, code=code, detail=detail)
    return comment


def decide(client, comment, action, *, fragment=False, following=None, **data):
    payload = {"comment": comment.pk if comment else "", "action": action, "apply": "1", **data}
    if following is not None:
        payload["next"] = following.pk
    if fragment:
        payload["fragment"] = "1"
    return client.post(REVIEW, payload)


@pytest.fixture
def queue_of_three():
    article = make_article(title="The harbour bridge")
    return [held(article, ("phrase", f"word{n}")) for n in range(3)]


# Showing a comment


def test_the_screen_shows_the_first_comment_of_the_queue_with_its_context(mod_client):
    article = make_article(title="The harbour bridge")
    parent = make_comment(article, author_name="Ada", body="The bridge was late.")
    before = make_comment(article, parent=parent, author_name="Bea", body="Sibling before.")
    comment = held(
        article, ("phrase", "rubbish"), ("links", "3"), parent=parent, author_name="Cy",
        body="A long answer\nwith two lines.",
    )
    make_comment(article, parent=parent, author_name="Dan", body="Sibling after.")
    make_comment(article, parent=comment, author_name="Eve", body="A reply to Cy.")
    Report.objects.create(comment=comment, reason="abuse", detail="Rude to Ada",
                          reporter="ip:198.51.100.1")
    del before

    response = mod_client.get(REVIEW)

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["review"].comment == comment
    assert "Comment by Cy" in page
    assert "A long answer<br>with two lines." in page
    assert "The harbour bridge" in page and article.get_absolute_url() in page
    for text in ("The bridge was late.", "Sibling before.", "Sibling after.", "A reply to Cy."):
        assert text in page
    assert "Held by the rules: Held phrase: rubbish" in page
    assert "Held by the rules: Links: 3" in page
    assert "1 open report" in page and "Abuse or personal attack: “Rude to Ada”" in page
    assert 'data-key="a"' in page and 'data-key="s"' in page
    assert "<kbd>0</kbd> Other" in page


def test_the_screen_shows_the_commenters_record(mod_client):
    user = make_reader(display_name="Frequent Writer")
    commenter = user.commenter
    article = make_article()
    first = held(article, commenter=commenter, body="First waiting.")
    held(article, commenter=commenter, body="Second waiting.")
    make_comment(article, commenter=commenter, body="Published one.")
    gone = make_comment(article, commenter=commenter, status="removed", body="Gone one.")
    Decision.objects.create(comment=gone, status="removed", reason="off_topic")

    response = mod_client.get(REVIEW, {"comment": first.pk})

    page = response.content.decode()
    assert "Frequent Writer" in page and "Active" in page
    record = response.context["review"].commenter
    assert (record.published_count, record.pending_count, record.removed_count) == (1, 2, 1)
    assert "Removed (off-topic)" in page
    assert "Second waiting." in page


def test_a_guests_other_comments_in_the_queue_are_found_by_email(mod_client):
    article = make_article()
    first = held(article, author_email="guest@example.com")
    other = held(article, author_email="Guest@Example.com", body="Also from the guest.")
    held(article, author_email="someone@example.com", body="Someone else.")

    response = mod_client.get(REVIEW, {"comment": first.pk})

    assert response.context["review"].others == [other]
    assert "no commenter record" in response.content.decode()


def test_next_and_previous_follow_the_queue_order(mod_client, queue_of_three):
    first, second, third = queue_of_three
    report(third)

    response = mod_client.get(REVIEW, {"comment": first.pk})

    review_ = response.context["review"]
    # The reported comment comes first, then the oldest.
    assert (review_.position, review_.total) == (2, 3)
    assert (review_.previous_id, review_.next_id) == (third.pk, second.pk)


def report(comment):
    return Report.objects.create(
        comment=comment, reason="spam", reporter=f"ip:198.51.100.{next(REPORTERS)}"
    )


def test_a_comment_no_longer_in_the_queue_shows_the_first_one_with_a_note(
    mod_client, queue_of_three
):
    decided = make_comment(make_article())

    response = mod_client.get(REVIEW, {"comment": decided.pk})
    fragment = mod_client.get(REVIEW, {"comment": "nonsense", "fragment": "1"})

    assert response.context["review"].comment == queue_of_three[0]
    assert "That comment no longer waits for review." in response.content.decode()
    assert fragment.json()["comment"] == queue_of_three[0].pk


def test_an_empty_queue_says_so(mod_client):
    response = mod_client.get(REVIEW)

    assert response.status_code == 200
    assert "The queue is empty" in response.content.decode()


def test_the_fragment_is_the_main_part_with_its_address(mod_client, queue_of_three):
    response = mod_client.get(REVIEW, {"comment": queue_of_three[1].pk, "fragment": "1"})

    data = response.json()
    assert data["url"] == f"{REVIEW}?comment={queue_of_three[1].pk}"
    assert data["comment"] == queue_of_three[1].pk
    assert "Comment by" in data["html"] and "<html" not in data["html"]


def test_the_screen_does_a_fixed_number_of_queries(mod_client, django_assert_max_num_queries):
    user = make_reader()
    article = make_article()
    parent = make_comment(article)
    make_comment(article, parent=parent)
    comment = held(article, ("phrase", "x"), parent=parent, commenter=user.commenter)
    make_comment(article, parent=comment)
    report(comment)
    with CaptureQueriesContext(connection) as few:
        mod_client.get(REVIEW, {"comment": comment.pk})

    for _ in range(30):
        make_comment(article, parent=parent)
        make_comment(article, parent=comment)
        held(make_article(), ("links", "2"), commenter=user.commenter)
        report(comment)
    with django_assert_max_num_queries(14):
        response = mod_client.get(REVIEW, {"comment": comment.pk})
    with CaptureQueriesContext(connection) as fragment:
        mod_client.get(REVIEW, {"comment": comment.pk, "fragment": "1"})

    assert response.status_code == 200
    assert len(response.context["review"].others) == queue.OTHERS_SHOWN
    assert len(fragment) == len(few)


# Deciding


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_approve_publishes_and_moves_to_the_next(mod_client, moderator, queue_of_three, fragment):
    first, second, third = queue_of_three

    response = decide(mod_client, first, "approve", following=second, fragment=fragment)

    first.refresh_from_db()
    assert first.status == Comment.Status.PUBLISHED
    assert first.moderated_by == moderator
    entry = LogEntry.objects.get(object_id=str(first.pk))
    assert entry.change_message == "Approved." and entry.user == moderator
    if fragment:
        assert response.status_code == 200
        assert response.json()["comment"] == second.pk
        assert response.json()["announce"] == "1 comment approved."
    else:
        assert response.status_code == 302
        assert response["Location"] == f"{REVIEW}?comment={second.pk}"


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_remove_records_the_reason_and_note(mod_client, queue_of_three, fragment):
    first, second, _ = queue_of_three

    response = decide(mod_client, first, "remove", following=second, fragment=fragment,
                      reason="off_topic", note="About the ferry")

    first.refresh_from_db()
    assert (first.status, first.removal_reason) == ("removed", "off_topic")
    decision = Decision.objects.get(comment=first)
    assert (decision.reason, decision.note) == ("off_topic", "About the ferry")
    assert LogEntry.objects.get(object_id=str(first.pk)).change_message == "Removed (off-topic)."
    assert response.status_code == (200 if fragment else 302)


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_spam_marks_it_with_the_spam_reason(mod_client, queue_of_three, fragment):
    first = queue_of_three[0]

    response = decide(mod_client, first, "spam", fragment=fragment, reason="spam")

    first.refresh_from_db()
    assert (first.status, first.removal_reason) == ("spam", "spam")
    assert response.status_code == (200 if fragment else 302)


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_a_removal_without_a_reason_changes_nothing(mod_client, queue_of_three, fragment):
    first = queue_of_three[0]

    response = decide(mod_client, first, "remove", fragment=fragment)

    assert response.status_code == 400
    first.refresh_from_db()
    assert first.status == "pending"
    text = response.json()["announce"] if fragment else response.content.decode()
    assert "Choose the reason for this decision." in text


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_a_tampered_reason_is_refused_with_a_message(mod_client, queue_of_three, fragment):
    first = queue_of_three[0]

    response = decide(mod_client, first, "remove", fragment=fragment, reason="because")
    spam = decide(mod_client, first, "spam", fragment=fragment, reason="<script>")

    assert response.status_code == spam.status_code == 400
    first.refresh_from_db()
    assert first.status == "pending"
    assert not Decision.objects.exists()
    text = response.json()["announce"] if fragment else response.content.decode()
    assert "Choose a reason from the list." in text


def test_a_tampered_action_or_comment_is_refused(mod_client, queue_of_three):
    first = queue_of_three[0]

    action = decide(mod_client, first, "delete")
    missing = mod_client.post(REVIEW, {"comment": "abc", "action": "approve"})

    assert action.status_code == missing.status_code == 400
    assert "That is not a decision this screen makes." in action.content.decode()
    assert Comment.objects.filter(status="pending").count() == 3


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_a_comment_decided_meanwhile_is_not_decided_again(
    mod_client, queue_of_three, fragment
):
    first, second, _ = queue_of_three
    services.comments_approve(comments=Comment.objects.filter(pk=first.pk), moderator=None)

    response = decide(mod_client, first, "remove", following=second, fragment=fragment,
                      reason="offensive")

    first.refresh_from_db()
    assert first.status == "published"
    assert response.status_code == 400
    text = response.json()["announce"] if fragment else response.content.decode()
    assert "That comment no longer waits for review." in text


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_feature_publishes_a_waiting_comment_as_an_editors_pick(
    mod_client, queue_of_three, fragment
):
    first, second = queue_of_three[:2]

    page = mod_client.get(REVIEW).content.decode()
    response = decide(mod_client, first, "feature", following=second, fragment=fragment)

    assert 'value="feature" data-key="f"' in page
    assert response.status_code in (200, 302)
    first.refresh_from_db()
    assert (first.status, first.featured) == ("published", True)
    second.refresh_from_db()
    assert (second.status, second.featured) == ("pending", False)


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_block_blocks_the_author_and_removes_their_waiting_comments(
    mod_client, queue_of_three, fragment
):
    first = queue_of_three[0]

    response = decide(mod_client, first, "block", fragment=fragment, targets=["email"],
                      duration="7d", reason="abusive", note="Repeated insults")

    assert BlockedCommenter.objects.get().value == first.author_email
    first.refresh_from_db()
    assert (first.status, first.removal_reason) == ("removed", "abusive")
    assert response.status_code == (200 if fragment else 302)


def test_a_bad_block_form_comes_back_open_with_its_errors(mod_client, queue_of_three):
    first = queue_of_three[0]

    response = decide(mod_client, first, "block", duration="7d", reason="abusive")

    assert response.status_code == 400
    assert "Choose at least one thing to block." in response.content.decode()
    assert response.context["blocking"] is True
    assert not BlockedCommenter.objects.exists()


def test_a_moderator_without_the_right_to_change_commenters_cannot_ban_accounts(
    mod_client, moderator
):
    moderator.groups.clear()
    moderator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_commentqueue", "change_commentqueue",
                                                 "change_comment"])
    )
    user = make_reader()
    comment = held(make_article(), commenter=user.commenter)

    response = decide(mod_client, comment, "block", targets=["account"], duration="7d",
                      reason="abusive")

    assert response.status_code == 400
    assert "You may not suspend or ban accounts." in response.content.decode()
    user.commenter.refresh_from_db()
    assert user.commenter.status == "active"


def test_a_lock_timeout_answers_a_retryable_503(mod_client, queue_of_three):
    first = queue_of_three[0]
    with mock.patch(
        "comments.services.comments_approve", side_effect=LockTimeout("lock timeout")
    ):
        response = decide(mod_client, first, "approve", fragment=True)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    first.refresh_from_db()
    assert first.status == "pending"


# Undo


@pytest.mark.parametrize("fragment", [False, True], ids=["without-js", "with-js"])
def test_undo_within_30_seconds_restores_the_status_and_the_reports(
    mod_client, moderator, queue_of_three, fragment
):
    first, second, _ = queue_of_three
    report(first)
    decide(mod_client, first, "remove", following=second, reason="offensive")
    assert "Undo my last decision" in mod_client.get(REVIEW).content.decode()

    response = decide(mod_client, None, "undo", fragment=fragment)

    first.refresh_from_db()
    assert (first.status, first.removal_reason) == ("pending", "")
    assert Report.objects.get(comment=first).resolved is False
    latest = Decision.objects.filter(comment=first).first()
    assert (latest.status, latest.moderator) == ("pending", moderator)
    assert latest.note.startswith("Undid the decision of ")
    assert Decision.objects.filter(comment=first).count() == 2
    assert LogEntry.objects.filter(object_id=str(first.pk)).count() == 2
    if fragment:
        assert response.json()["comment"] == first.pk
        assert "Undone" in response.json()["announce"]
    else:
        assert response["Location"] == f"{REVIEW}?comment={first.pk}"
    # Once undone, there is nothing more to undo.
    again = decide(mod_client, None, "undo", fragment=True)
    assert again.status_code == 400
    assert again.json()["announce"].startswith("There is no decision to undo.")


def test_undo_restores_a_published_comment_held_by_reports(mod_client):
    comment = make_comment(make_article())
    report(comment)
    decide(mod_client, comment, "spam", reason="spam")

    decide(mod_client, None, "undo")

    comment.refresh_from_db()
    assert comment.status == "published"
    assert Report.objects.get(comment=comment).resolved is False


def test_undo_after_30_seconds_is_refused(mod_client, queue_of_three):
    first = queue_of_three[0]
    decide(mod_client, first, "approve")
    Decision.objects.update(created=Decision.objects.get().created - timedelta(seconds=31))

    response = decide(mod_client, None, "undo", fragment=True)

    assert response.status_code == 400
    assert "Too late" in response.json()["announce"]
    first.refresh_from_db()
    assert first.status == "published"
    assert Decision.objects.count() == 1


def test_undo_after_another_decision_on_the_comment_is_refused(mod_client, queue_of_three):
    first = queue_of_three[0]
    decide(mod_client, first, "approve")
    services.comments_remove(
        comments=Comment.objects.filter(pk=first.pk), moderator=None, reason="offensive"
    )

    response = decide(mod_client, None, "undo")

    assert response.status_code == 400
    first.refresh_from_db()
    assert first.status == "removed"


def test_the_undo_service_refuses_another_moderators_decision(django_user_model):
    comment = make_comment(make_article(), status="pending")
    author = django_user_model.objects.create_user("one")
    other = django_user_model.objects.create_user("two")
    services.comments_approve(comments=Comment.objects.filter(pk=comment.pk), moderator=author)
    decision = Decision.objects.get()

    with pytest.raises(services.UndoRefused):
        services.decision_undo(decision_id=decision.pk, moderator=other, previous_status="pending")

    comment.refresh_from_db()
    assert comment.status == "published"


# Permissions


def test_a_moderator_reaches_the_screen_from_the_queue(mod_client):
    queue = mod_client.get(reverse("admin:comments_commentqueue_changelist"))

    assert REVIEW in queue.content.decode()
    assert mod_client.get(REVIEW).status_code == 200


def test_staff_without_comment_permissions_cannot_use_the_screen(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(staff)
    comment = make_comment(make_article(), status="pending")

    assert client.get(REVIEW).status_code == 403
    assert decide(client, comment, "approve").status_code == 403
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_a_moderator_who_may_only_view_the_queue_cannot_decide(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_commentqueue"))
    client.force_login(viewer)
    comment = make_comment(make_article(), status="pending")

    assert decide(client, comment, "approve").status_code == 403
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get(REVIEW)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_moderator_still_cannot_edit_articles_users_or_delete_comments(mod_client, moderator):
    article = make_article(title="Original")
    comment = make_comment(article)

    assert mod_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        {"title": "Changed", "slug": article.slug},
    ).status_code == 403
    assert mod_client.get(
        reverse("admin:auth_user_change", args=[moderator.pk])
    ).status_code == 403
    assert mod_client.post(
        reverse("admin:comments_comment_delete", args=[comment.pk]), {"post": "yes"}
    ).status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()
    article.refresh_from_db()
    assert article.title == "Original"


def test_an_account_commenter_record_is_shown_with_a_timed_status(mod_client):
    user = make_reader(display_name="Timed")
    commenter = user.commenter
    commenter.status = "premoderated"
    commenter.save()
    comment = held(make_article(), commenter=commenter)

    response = mod_client.get(REVIEW, {"comment": comment.pk})

    assert "Comments held for review" in response.content.decode()


def test_the_open_reports_are_grouped_by_reason_most_frequent_first(mod_client):
    comment = make_comment(make_article())
    for n, (reason, detail) in enumerate(
        [("spam", ""), ("abuse", "Insults"), ("abuse", ""), ("abuse", "Threat")]
    ):
        Report.objects.create(comment=comment, reason=reason, detail=detail,
                              reporter=f"ip:192.0.2.{n}")
    Report.objects.create(comment=comment, reason="off_topic", resolved=True, reporter="ip:x")

    response = mod_client.get(REVIEW, {"comment": comment.pk})

    assert response.context["review"].report_groups == [
        ("Abuse or personal attack", 3, ["Insults", "Threat"]),
        ("Spam", 1, []),
    ]
    page = response.content.decode()
    assert "4 open reports" in page
    assert "Abuse or personal attack ×3: “Insults”; “Threat”" in page
