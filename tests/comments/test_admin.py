import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.cache import article_page_version
from articles.importer import article_parse
from articles.services import article_import
from comments.identity import is_reserved
from comments.models import (
    BlockedCommenter,
    Comment,
    Commenter,
    Decision,
    HoldReason,
    ModerationPolicy,
    Report,
)
from comments.moderation import comment_screen
from comments.services import commenter_create, duplicates_mark
from tests.factories import make_article, make_comment, make_reader
from tests.helpers import COMMENT_ADMIN_INLINES, article_admin_data, held_elsewhere

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:comments_comment_changelist")
QUEUE = reverse("admin:comments_commentqueue_changelist")
# The automatic pre-moderation rule's fields, as the policy form posts them when it is off.
RULE_OFF = {
    "auto_premoderation_share": 50,
    "auto_premoderation_window": 10,
    "auto_premoderation_days": 30,
}
BLOCK_EMAIL_AND_IP = {"targets": ["email", "ip"], "duration": "permanent", "reason": "abusive"}



def act(client, action, comments, url=CHANGELIST, **dialog):
    """Run an admin action; `dialog` answers its intermediate form (sent with "apply")."""
    data = {"action": action, "_selected_action": [c.pk for c in comments]}
    if dialog:
        data.update(apply="1", **dialog)
    return client.post(url, data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def report(comment, n=1):
    return [
        Report.objects.create(comment=comment, reason="abuse", reporter=f"ip:198.51.100.{i}")
        for i in range(n)
    ]


def tree_is_valid(comment):
    """Every node's lft/rght nests inside its parent's and no two nodes share a number."""
    numbers = []
    for node in Comment.objects.filter(tree_id=comment.tree_id):
        numbers += [node.lft, node.rght]
        if node.parent_id:
            parent = Comment.objects.get(pk=node.parent_id)
            if not (parent.lft < node.lft < node.rght < parent.rght):
                return False
    return sorted(numbers) == list(range(1, len(numbers) + 1))


# The change list


def test_changelist_lists_every_comment_indented_by_level(mod_client):
    article = make_article()
    root = make_comment(article, body="The root comment")
    reply = make_comment(article, parent=root, body="A reply to it")
    make_comment(article, parent=reply, body="A reply to the reply")

    response = mod_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert [c.pk for c in response.context["cl"].result_list] == [root.pk, reply.pk, reply.pk + 1]
    assert 'style="padding-left:8px"' in html
    assert 'style="padding-left:18px"' in html
    assert 'style="padding-left:28px"' in html
    assert "A reply to the reply" in html
    assert "?parent__" not in html


def test_changelist_shows_the_columns_and_a_link_to_the_comment_on_the_site(mod_client):
    article = make_article(title="Summit in Yerevan")
    comment = make_comment(
        article,
        author_name="Ararat",
        author_email="ararat@example.com",
        ip_address="203.0.113.7",
        created=timezone.now(),
    )
    first, _ = report(comment, 2)
    Report.objects.filter(pk=first.pk).update(resolved=True)

    html = mod_client.get(CHANGELIST).content.decode()

    for text in ["Ararat", "ararat@example.com", "203.0.113.7", "Summit in Yerevan", "Published"]:
        assert text in html
    assert "2 (1 open)" in html
    assert f'href="{comment.get_absolute_url()}"' in html


def test_changelist_does_a_fixed_number_of_queries_and_pages_by_100(mod_client):
    articles = [make_article(), make_article()]
    make_comment(articles[0])
    with CaptureQueriesContext(connection) as few:
        assert mod_client.get(CHANGELIST).status_code == 200

    for n in range(130):
        comment = make_comment(articles[n % 2], status="pending" if n % 3 else "published")
        if n % 4 == 0:
            report(comment)
    with CaptureQueriesContext(connection) as many:
        response = mod_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 100
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("Boghossian", "author_name", "ohannes Boghossian"),
        ("BOGHOSSIAN@EXAMPLE.ORG", "author_email", "boghossian@example.org"),
        ("never ever trust", "body", "I will never ever trust them"),
        ("198.51.100.23", "ip_address", "198.51.100.23"),
    ],
)
def test_search_by_author_email_body_and_ip(mod_client, query, field, value):
    article = make_article()
    wanted = make_comment(article, **{field: value})
    make_comment(article, ip_address="192.0.2.1")

    response = mod_client.get(CHANGELIST, {"q": query})

    assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk]


def test_filters_by_status_article_reported_duplicate_and_date(mod_client):
    first, second = make_article(), make_article()
    pending = make_comment(first, status="pending", created=timezone.now())
    reported = make_comment(first, created=timezone.now() - timedelta(days=30))
    report(reported)
    resolved = make_comment(second)
    Report.objects.create(comment=resolved, reason="spam", reporter="ip:k", resolved=True)
    duplicate = make_comment(second, is_duplicate=True)

    def listed(**params):
        response = mod_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {c.pk for c in response.context["cl"].result_list}

    assert listed(status__exact="pending") == {pending.pk}
    assert listed(article__id__exact=second.pk) == {resolved.pk, duplicate.pk}
    assert listed(reported="yes") == {reported.pk, resolved.pk}
    assert listed(reported="open") == {reported.pk}
    assert listed(reported="no") == {pending.pk, duplicate.pk}
    assert listed(is_duplicate__exact="1") == {duplicate.pk}
    now = timezone.now()
    past_week = {"created__gte": str(now - timedelta(days=7)), "created__lt": str(now)}
    assert listed(**past_week) == {pending.pk}
    assert listed(created__isnull="True") == {resolved.pk, duplicate.pk}


def test_the_imported_seed_pair_shows_as_a_duplicate(mod_client):
    seed = Path(__file__).resolve().parents[2] / "fixtures" / "seeds" / "000_d0250cf769dc7508.txt"
    article = article_import(parsed=article_parse(seed.read_bytes()), source_key=seed.stem).article

    response = mod_client.get(
        CHANGELIST, {"is_duplicate__exact": "1", "article__id__exact": article.pk}
    )

    flagged = response.context["cl"].result_list
    assert [(c.author_name, c.import_key) for c in flagged] == [("ohannes boghossian", "4")]
    assert Comment.objects.get(article=article, import_key="2").is_duplicate is False


def test_the_duplicate_of_the_seed_pair_is_flagged_and_filtered(mod_client):
    article = make_article()
    text = "MR. President i will never ever trust Russia or Putin"
    first = make_comment(article, author_name="ohannes boghossian", body=text)
    make_comment(article, author_name="Ararat", body="Another view.")
    second = make_comment(
        article, author_name="ohannes boghossian", body=text + "\nsurvive there is no outer way"
    )
    duplicates_mark(article=article)

    response = mod_client.get(CHANGELIST, {"is_duplicate__exact": "1"})

    assert [c.pk for c in response.context["cl"].result_list] == [second.pk]
    assert first.pk not in {c.pk for c in response.context["cl"].result_list}


# Actions


def test_approve_comments_publishes_resolves_reports_logs_and_refreshes_the_page(
    mod_client, moderator, django_capture_on_commit_callbacks
):
    article = make_article()
    pending = make_comment(article, status="pending")
    reported = make_comment(article, status="pending")
    report(reported, 3)
    published = make_comment(article)
    version = article_page_version(article.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = act(mod_client, "approve_comments", [pending, reported, published])

    assert messages_of(response) == ["2 comments approved."]
    for comment in (pending, reported):
        comment.refresh_from_db()
        assert comment.status == "published"
        assert comment.moderated_by == moderator
        assert comment.moderated_at is not None
    published.refresh_from_db()
    assert published.moderated_at is None
    assert not Report.objects.filter(resolved=False).exists()
    assert article_page_version(article.pk) > version
    entries = LogEntry.objects.filter(action_flag=CHANGE, user=moderator)
    assert sorted(int(e.object_id) for e in entries) == sorted([pending.pk, reported.pk])
    assert {e.change_message for e in entries} == {"Approved."}


def test_approve_dismisses_the_reports_on_a_published_comment(mod_client):
    comment = make_comment(make_article())
    report(comment, 2)

    response = act(mod_client, "approve_comments", [comment])

    assert messages_of(response) == ["1 comment approved."]
    assert Report.objects.filter(comment=comment, resolved=True).count() == 2


def test_remove_comments_keeps_the_row_and_the_replies(mod_client):
    article = make_article()
    root = make_comment(article)
    reply = make_comment(article, parent=root)
    report(root)

    response = act(mod_client, "remove_comments", [root], reason="abusive", note="Insults.")

    assert messages_of(response) == ["1 comment removed."]
    root.refresh_from_db()
    reply.refresh_from_db()
    assert root.status == "removed"
    assert reply.status == "published"
    assert reply.parent_id == root.pk
    assert Report.objects.get(comment=root).resolved
    assert LogEntry.objects.get(object_id=str(root.pk)).change_message == (
        "Removed (abusive or a personal attack)."
    )
    assert (root.removal_reason, root.decisions.get().note) == ("abusive", "Insults.")


def test_mark_spam(mod_client):
    article = make_article()
    comment = make_comment(article, status="pending")
    spam_already = make_comment(article, status="spam")

    response = act(mod_client, "mark_spam", [comment, spam_already], reason="spam")

    assert messages_of(response) == ["1 comment marked as spam."]
    comment.refresh_from_db()
    assert comment.status == "spam"
    assert LogEntry.objects.count() == 1


def test_an_action_that_changes_nothing_says_so(mod_client):
    comment = make_comment(make_article())

    response = act(mod_client, "approve_comments", [comment])

    assert messages_of(response) == ["0 comments approved."]
    assert not LogEntry.objects.exists()


def test_remove_threads_removes_the_replies_in_one_update_over_the_tree(mod_client):
    article = make_article()
    root = make_comment(article)
    reply = make_comment(article, parent=root)
    deeper = make_comment(article, parent=reply)
    spam = make_comment(article, parent=reply, status="spam")
    sibling = make_comment(article, parent=root)
    other_thread = make_comment(article)
    other_reply = make_comment(article, parent=other_thread)
    report(deeper)

    with CaptureQueriesContext(connection) as queries:
        response = act(mod_client, "remove_threads", [reply], reason="off_topic")

    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses[reply.pk] == statuses[deeper.pk] == "removed"
    assert statuses[spam.pk] == "spam"
    assert statuses[root.pk] == statuses[sibling.pk] == "published"
    assert statuses[other_thread.pk] == statuses[other_reply.pk] == "published"
    assert messages_of(response) == ["2 comments removed with the threads."]
    assert Report.objects.get(comment=deeper).resolved
    updates = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "comments_comment"')
    ]
    assert len(updates) == 1
    assert '"lft"' in updates[0] and '"tree_id"' in updates[0]
    assert tree_is_valid(root)


def test_remove_threads_on_a_root_and_a_reply_of_another_thread(mod_client):
    article = make_article()
    first = make_comment(article)
    first_reply = make_comment(article, parent=first)
    second = make_comment(article)
    second_reply = make_comment(article, parent=second)
    second_reply_reply = make_comment(article, parent=second_reply)

    act(mod_client, "remove_threads", [first, second_reply], reason="off_topic")

    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[first_reply.pk] == "removed"
    assert statuses[second.pk] == "published"
    assert statuses[second_reply.pk] == statuses[second_reply_reply.pk] == "removed"


def test_block_commenters_blocks_emails_and_ips_and_removes_their_pending_comments(
    mod_client, moderator
):
    article, elsewhere = make_article(), make_article()
    troll = make_comment(article, author_email="Troll@Example.com", ip_address="198.51.100.9")
    waiting_same_email = make_comment(elsewhere, author_email="troll@example.COM", status="pending")
    waiting_same_ip = make_comment(elsewhere, ip_address="198.51.100.9", status="pending")
    published_same_email = make_comment(elsewhere, author_email="troll@example.com")
    bystander = make_comment(elsewhere, status="pending")

    response = act(mod_client, "block_commenters", [troll], **BLOCK_EMAIL_AND_IP)

    assert messages_of(response) == [
        "2 emails, IP addresses or names blocked; 0 accounts suspended or banned; "
        "2 comments removed."
    ]
    assert set(BlockedCommenter.objects.values_list("kind", "value", "created_by")) == {
        ("email", "troll@example.com", moderator.pk),
        ("ip", "198.51.100.9", moderator.pk),
    }
    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses[waiting_same_email.pk] == statuses[waiting_same_ip.pk] == "removed"
    assert statuses[troll.pk] == statuses[published_same_email.pk] == "published"
    assert statuses[bystander.pk] == "pending"
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 2
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 2

    verdict = comment_screen(
        article=article,
        author_name="Someone else",
        author_email="TROLL@example.com",
        ip_address=None,
        body="Hello again.",
    )
    assert verdict.refused


def test_blocking_twice_adds_nothing_new(mod_client):
    troll = make_comment(make_article(), author_email="troll@example.com", ip_address=None)
    act(mod_client, "block_commenters", [troll], **BLOCK_EMAIL_AND_IP)

    response = act(mod_client, "block_commenters", [troll], **BLOCK_EMAIL_AND_IP)

    assert messages_of(response) == [
        "0 emails, IP addresses or names blocked; 0 accounts suspended or banned; "
        "0 comments removed."
    ]
    assert BlockedCommenter.objects.count() == 1


def test_select_across_applies_the_action_to_every_filtered_comment(mod_client):
    article = make_article()
    waiting = [make_comment(article, status="pending") for _ in range(3)]
    make_comment(make_article(), status="pending")

    response = mod_client.post(
        CHANGELIST + f"?article__id__exact={article.pk}",
        {"action": "approve_comments", "select_across": "1", "_selected_action": [waiting[0].pk]},
        follow=True,
    )

    assert messages_of(response) == ["3 comments approved."]
    assert Comment.objects.filter(status="pending").count() == 1


# Change form and delete: the same lock as posting


def test_saving_a_comment_takes_the_article_lock_and_records_the_decision(
    mod_client, moderator, mocker_lock
):
    article = make_article()
    comment = make_comment(article, status="pending")
    report(comment)
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    # A reply arrives after the moderator opened the form: the save must not undo its shift.
    form = mod_client.get(url)
    assert form.status_code == 200
    make_comment(article, parent=comment)

    response = mod_client.post(url, {"status": "published", "body": comment.body, **INLINE})

    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == "published"
    assert comment.moderated_by == moderator
    assert Report.objects.get(comment=comment).resolved
    assert mocker_lock == [article.pk]
    assert tree_is_valid(comment)


def test_editing_only_the_body_is_not_a_moderation_decision(mod_client):
    comment = make_comment(make_article())
    url = reverse("admin:comments_comment_change", args=[comment.pk])

    mod_client.post(url, {"status": "published", "body": "Edited.", **INLINE})

    comment.refresh_from_db()
    assert comment.body == "Edited."
    assert comment.moderated_at is None


def test_comments_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:comments_comment_add")).status_code == 403


def test_deleting_selected_comments_takes_the_lock_and_keeps_the_tree_valid(
    admin_client, mocker_lock
):
    article = make_article()
    root = make_comment(article)
    reply = make_comment(article, parent=root)
    reply_reply = make_comment(article, parent=reply)
    kept = make_comment(article, parent=root)

    selected = {"action": "delete_selected", "_selected_action": [reply.pk, reply_reply.pk]}
    confirm = admin_client.post(CHANGELIST, selected)
    assert confirm.status_code == 200
    assert Comment.objects.count() == 4
    response = admin_client.post(CHANGELIST, {**selected, "post": "yes"}, follow=True)

    assert messages_of(response) == ["2 comments deleted."]
    assert set(Comment.objects.values_list("pk", flat=True)) == {root.pk, kept.pk}
    assert mocker_lock == [article.pk]
    assert tree_is_valid(root)
    assert LogEntry.objects.filter(action_flag=3).count() == 2


def test_deleting_one_comment_takes_the_lock(admin_client, mocker_lock):
    article = make_article()
    root = make_comment(article)
    reply = make_comment(article, parent=root)

    response = admin_client.post(
        reverse("admin:comments_comment_delete", args=[reply.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert list(Comment.objects.values_list("pk", flat=True)) == [root.pk]
    assert mocker_lock == [article.pk]
    assert tree_is_valid(root)


INLINE = COMMENT_ADMIN_INLINES


@pytest.fixture
def mocker_lock(monkeypatch):
    """The article ids the services lock, in order."""
    import comments.services

    taken = []
    original = comments.services.lock_article

    def lock_article(article_id):
        taken.append(article_id)
        original(article_id)

    monkeypatch.setattr(comments.services, "lock_article", lock_article)
    return taken


# The queue


def test_queue_lists_the_most_reported_then_the_oldest_comments_first(mod_client):
    article = make_article()
    now = timezone.now()
    newer_pending = make_comment(article, status="pending", created=now - timedelta(hours=1))
    older_reported = make_comment(article, created=now - timedelta(days=2))
    report(older_reported)
    imported_pending = make_comment(article, status="pending", created=None)
    decided = make_comment(article, created=now - timedelta(days=3))
    Report.objects.create(comment=decided, reason="spam", reporter="ip:x", resolved=True)
    make_comment(article, created=now - timedelta(days=4))

    response = mod_client.get(QUEUE)

    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [
        older_reported.pk,
        imported_pending.pk,
        newer_pending.pk,
    ]
    assert "the most open reports, then the oldest" in response.content.decode()


def test_approving_from_the_queue_empties_it(mod_client):
    comment = make_comment(make_article(), status="pending")

    response = act(mod_client, "approve_comments", [comment], url=QUEUE)

    assert messages_of(response) == ["1 comment approved."]
    assert list(mod_client.get(QUEUE).context["cl"].result_list) == []


def test_admin_index_shows_how_many_comments_wait(mod_client):
    article = make_article()
    make_comment(article, status="pending")
    report(make_comment(article))
    make_comment(article)

    html = mod_client.get(reverse("admin:index")).content.decode()

    assert "2 comments waiting for review" in html
    assert f'href="{QUEUE}"' in html


# Policy rules in the admin


def test_the_moderation_policy_list_opens_the_single_policy(mod_client):
    response = mod_client.get(reverse("admin:comments_moderationpolicy_changelist"))

    policy = ModerationPolicy.current()
    assert response.status_code == 302
    assert response.url == reverse("admin:comments_moderationpolicy_change", args=[policy.pk])
    assert ModerationPolicy.objects.count() == 1


def test_a_blocked_commenter_is_stored_normalized_and_duplicates_are_refused(mod_client):
    url = reverse("admin:comments_blockedcommenter_add")

    created = mod_client.post(url, {"kind": "email", "value": "  Troll@Example.COM "})
    again = mod_client.post(url, {"kind": "email", "value": "troll@example.com"})
    bad_ip = mod_client.post(url, {"kind": "ip", "value": "300.1.1.1"})
    bad_email = mod_client.post(url, {"kind": "email", "value": "not an email"})

    assert created.status_code == 302
    assert list(BlockedCommenter.objects.values_list("value", flat=True)) == ["troll@example.com"]
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    assert "Enter a valid IPv4 or IPv6 address." in bad_ip.content.decode()
    assert "Enter a valid email address." in bad_email.content.decode()
    assert BlockedCommenter.objects.count() == 1


@pytest.mark.parametrize(
    ("add_url", "data", "comment", "expected"),
    [
        (
            "admin:comments_bannedphrase_add",
            {"phrase": "Straße", "action": "hold"},
            {"body": "DIE STRASSE"},
            "pending",
        ),
        (
            "admin:comments_bannedphrase_add",
            {"phrase": "scum", "action": "refuse"},
            {"body": "You scum!"},
            "refused",
        ),
        (
            "admin:comments_blockedcommenter_add",
            {"kind": "email", "value": "Troll@Example.com"},
            {"author_email": "troll@EXAMPLE.com"},
            "refused",
        ),
        (
            "admin:comments_blockedcommenter_add",
            {"kind": "ip", "value": "198.51.100.9"},
            {"ip_address": "198.51.100.9"},
            "refused",
        ),
        (
            "admin:comments_blockedcommenter_add",
            {"kind": "name", "value": "Groß Troll"},
            {"author_name": "GROSS TROLL"},
            "refused",
        ),
    ],
)
def test_rules_added_in_the_admin_apply_to_new_comments(
    mod_client, add_url, data, comment, expected
):
    article = make_article()
    fields = {
        "author_name": "Reader",
        "author_email": "reader@example.com",
        "ip_address": "192.0.2.1",
        "body": "Hello.",
    }
    assert comment_screen(article=article, **fields).status == "published"

    assert mod_client.post(reverse(add_url), data).status_code == 302

    verdict = comment_screen(article=article, **{**fields, **comment})
    assert ("refused" if verdict.refused else verdict.status) == expected
    assert comment_screen(article=article, **fields).status == "published"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("open", "published"), ("premoderate", "pending"), ("first_comment", "pending")],
)
def test_the_policy_mode_set_in_the_admin_applies_to_new_comments(mod_client, mode, expected):
    policy = ModerationPolicy.current()
    url = reverse("admin:comments_moderationpolicy_change", args=[policy.pk])

    assert mod_client.post(url, {"mode": mode, **RULE_OFF}).status_code == 302

    verdict = comment_screen(
        article=make_article(),
        author_name="Reader",
        author_email="new@example.com",
        ip_address=None,
        body="Hello.",
    )
    assert verdict.status == expected


def test_premoderating_an_article_in_the_admin_holds_its_new_comments(admin_client):
    article = make_article()
    url = reverse("admin:articles_article_change", args=[article.pk])

    response = admin_client.post(
        url, article_admin_data(article, comments_open="on", premoderated="on")
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.premoderated
    verdict = comment_screen(
        article=article,
        author_name="Reader",
        author_email="reader@example.com",
        ip_address=None,
        body="Hello.",
    )
    assert verdict.status == "pending"
    assert [reason.code for reason in verdict.reasons] == ["article_premoderated"]


def test_the_report_count_links_to_the_comments_reports(mod_client):
    article = make_article()
    comment = make_comment(article)
    report(comment, 2)
    report(make_comment(article))
    url = reverse("admin:comments_report_changelist") + f"?comment__id__exact={comment.pk}"

    assert f'href="{url}"' in mod_client.get(CHANGELIST).content.decode()
    response = mod_client.get(url)

    assert response.status_code == 200
    assert {r.comment_id for r in response.context["cl"].result_list} == {comment.pk}
    assert len(response.context["cl"].result_list) == 2


def test_the_queue_filtered_by_article(mod_client):
    article = make_article()
    waiting = make_comment(article, status="pending")
    make_comment(make_article(), status="pending")

    response = mod_client.get(QUEUE, {"article__id__exact": article.pk})

    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [waiting.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_decision_waiting_past_the_lock_timeout_answers_503_and_changes_nothing(
    mod_client, settings
):
    from comments.locks import lock_article

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = 0.3
    article = make_article()
    comment = make_comment(article, status=Comment.Status.PENDING)
    with held_elsewhere(lambda: lock_article(article.pk)):
        response = mod_client.post(
            CHANGELIST, {"action": "approve_comments", "_selected_action": [comment.pk]}
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Busy for a moment, please try again" in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING


def test_a_commenter_s_badge_edited_in_the_admin_shows_on_the_cached_page(
    admin_client, client, django_user_model, django_capture_on_commit_callbacks
):
    staff = django_user_model.objects.create_user("desk", is_staff=True)
    commenter = commenter_create(user=staff, display_name="Desk Writer")
    article = make_article()
    make_comment(article, commenter=commenter, author_name="Desk Writer")
    assert "comment-badge\">Staff<" in client.get(article.get_absolute_url()).content.decode()
    url = reverse("admin:comments_commenter_change", args=[commenter.pk])
    assert admin_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                "display_name": "Desk Writer",
                "handle": commenter.handle,
                "badge": "Reporter",
                "profile_public": "on",
                "status": Commenter.Status.ACTIVE,
                "status_reason": "",
                "notes": "",
            },
        )
    assert response.status_code == 302
    html = client.get(article.get_absolute_url()).content.decode()
    assert "comment-badge\">Reporter<" in html


def test_the_comment_list_links_to_the_commenter(admin_client):
    reader = make_reader(display_name="Listed Reader")
    make_comment(make_article(), commenter=reader.commenter, author_name="Listed Reader")
    html = admin_client.get(reverse("admin:comments_comment_changelist")).content.decode()
    assert reverse("admin:comments_commenter_change", args=[reader.commenter.pk]) in html


def test_reserved_names_are_kept_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:comments_reservedname_add"), {"name": "The Editor", "note": "masthead"}
    )
    assert response.status_code == 302
    assert is_reserved("THE EDITOR")


# The commenter's record


def commenter_url(commenter):
    return reverse("admin:comments_commenter_change", args=[commenter.pk])


def a_record():
    """A reader with comments in every status, two reports, a status and notes."""
    reader = make_reader(display_name="Recorded Reader")
    commenter = reader.commenter
    article = make_article(title="The harbour story")
    for status, count in [("published", 3), ("pending", 2), ("removed", 1), ("spam", 4)]:
        for n in range(count):
            make_comment(article, commenter=commenter, status=status, created=timezone.now(),
                         body=f"{status} comment {n}")
    reported = Comment.objects.filter(commenter=commenter, status="published").first()
    report(reported, n=2)
    Commenter.objects.filter(pk=commenter.pk).update(
        status="premoderated",
        status_until=timezone.now() + timedelta(days=3),
        status_reason="Off-topic posts.",
        notes="Warned by mail on 1 December.",
    )
    return Commenter.objects.get(pk=commenter.pk)


def test_the_commenter_list_shows_each_record_s_counts_in_a_fixed_number_of_queries(
    mod_client, django_assert_max_num_queries
):
    commenter = a_record()
    for _ in range(10):
        other = make_reader().commenter
        make_comment(make_article(), commenter=other)
    url = reverse("admin:comments_commenter_changelist")
    mod_client.get(url)

    with django_assert_max_num_queries(9):
        response = mod_client.get(url)

    assert response.status_code == 200
    row = next(
        row for row in response.context["cl"].result_list if row.pk == commenter.pk
    )
    assert (row.published_count, row.pending_count, row.removed_count, row.spam_count) == (
        3, 2, 1, 4,
    )
    assert row.report_count == 2
    html = response.content.decode()
    link = CHANGELIST + f"?commenter__id__exact={commenter.pk}&amp;status__exact=spam"
    assert f'<a href="{link}">4&nbsp;spam</a>' in html
    assert ">3&nbsp;published</a>, " in html
    assert "Comments held for review until" in html


def test_the_commenter_record_shows_counts_status_notes_and_latest_comments(mod_client):
    commenter = a_record()
    response = mod_client.get(commenter_url(commenter))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Off-topic posts." in html
    assert "Warned by mail on 1 December." in html
    assert "Comments held for review until" in html
    spam = Comment.objects.filter(commenter=commenter, status="spam").first()
    published = Comment.objects.filter(commenter=commenter, status="published").first()
    assert reverse("admin:comments_comment_change", args=[spam.pk]) in html
    assert published.get_absolute_url() in html
    # A hidden comment has no place on the site to link to.
    assert spam.get_absolute_url() not in html
    assert f"?commenter__id__exact={commenter.pk}&amp;reported=yes" in html
    # The record's links list the comments they count: one comment with two reports, two held.
    for query, listed in (("reported=yes", 1), ("status__exact=pending", 2)):
        page = mod_client.get(CHANGELIST + f"?commenter__id__exact={commenter.pk}&{query}")
        assert page.status_code == 200
        assert len(page.context["cl"].result_list) == listed


def test_a_status_past_its_end_shows_as_ended_and_filters_as_active(mod_client):
    reader = make_reader(display_name="Lifted Reader")
    Commenter.objects.filter(user=reader).update(
        status="suspended", status_until=timezone.now() - timedelta(minutes=5)
    )
    html = mod_client.get(commenter_url(reader.commenter)).content.decode()
    assert "Active (the suspended status ended" in html

    changelist = reverse("admin:comments_commenter_changelist")
    active = mod_client.get(changelist + "?status_now=active").context["cl"].result_list
    suspended = mod_client.get(changelist + "?status_now=suspended").context["cl"].result_list
    assert reader.commenter.pk in [row.pk for row in active]
    assert reader.commenter.pk not in [row.pk for row in suspended]


def record_form(commenter, **changes):
    return {
        "display_name": commenter.display_name,
        "handle": commenter.handle,
        "badge": "",
        "profile_public": "on",
        "status": "active",
        "status_until_0": "",
        "status_until_1": "",
        "status_reason": "",
        "notes": "",
        **changes,
    }


def test_a_moderator_suspends_a_commenter_who_then_cannot_post(mod_client, client):
    reader = make_reader()
    form = record_form(
        reader.commenter,
        status="suspended",
        status_until_0="2099-05-01",
        status_until_1="12:00:00",
        status_reason="Personal attacks.",
    )
    assert mod_client.post(commenter_url(reader.commenter), form).status_code == 302

    client.force_login(reader)
    article = make_article()
    response = client.post(reverse("comments:post", args=[article.slug]), {"body": "Hi."})
    assert response.status_code == 403
    assert "suspended until 1 May 2099, 12:00 UTC" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("status", "until", "message"),
    [("suspended", "", "Give the end of the suspension"),
     ("banned", "2099-05-01", "A ban has no end")],
)
def test_a_suspension_without_an_end_or_a_ban_with_one_is_refused(
    mod_client, status, until, message
):
    reader = make_reader()
    form = record_form(
        reader.commenter, status=status, status_until_0=until,
        status_until_1="12:00:00" if until else "",
    )
    response = mod_client.post(commenter_url(reader.commenter), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Commenter.objects.get(user=reader).status == "active"


def test_a_comment_s_page_reaches_its_commenter_s_record_in_one_click(mod_client):
    reader = make_reader(display_name="Clicked Reader")
    comment = make_comment(make_article(), commenter=reader.commenter)
    html = mod_client.get(
        reverse("admin:comments_comment_change", args=[comment.pk])
    ).content.decode()
    assert f'href="{commenter_url(reader.commenter)}"' in html
    queue_html = mod_client.get(QUEUE if comment.status == "pending" else CHANGELIST)
    assert f'href="{commenter_url(reader.commenter)}"' in queue_html.content.decode()


def test_the_automatic_pre_moderation_rule_is_set_in_the_policy(mod_client):
    policy = ModerationPolicy.current()
    url = reverse("admin:comments_moderationpolicy_change", args=[policy.pk])
    html = mod_client.get(url).content.decode()
    assert "Automatic pre-moderation of a commenter" in html
    assert 'name="auto_premoderation_share"' in html

    form = {"mode": "open", "auto_premoderation": "on", "auto_premoderation_share": 30,
            "auto_premoderation_window": 20, "auto_premoderation_days": 7}
    assert mod_client.post(url, form).status_code == 302
    policy.refresh_from_db()
    assert (policy.auto_premoderation, policy.auto_premoderation_share,
            policy.auto_premoderation_window, policy.auto_premoderation_days) == (True, 30, 20, 7)

    refused = mod_client.post(url, {**form, "auto_premoderation_share": 100})
    assert refused.status_code == 200
    assert "auto_premoderation_share" in refused.context["adminform"].form.errors
# Why a comment waits, and the decisions' reasons


def held(article, *reasons, **fields):
    comment = make_comment(article, status="pending", **fields)
    for code, detail in reasons:
        HoldReason.objects.create(comment=comment, code=code, detail=detail)
    return comment


def test_the_queue_shows_each_reason_in_its_column(mod_client):
    article = make_article()
    phrase = held(article, ("phrase", "rubbish"), ("links", "3"))
    first = held(article, ("first_comment", ""))
    premoderated = held(article, ("article_premoderated", ""), ("site_premoderated", ""))
    reported = make_comment(article)
    report(reported, 3)
    Report.objects.create(comment=reported, reason="spam", reporter="ip:203.0.113.1")

    response = mod_client.get(QUEUE)

    rows = {
        comment.pk: row
        for comment, row in zip(
            response.context["cl"].result_list,
            re.findall(r"<tr[^>]*>.*?</tr>", response.content.decode().split("<tbody>")[1], re.S),
            strict=True,
        )
    }
    assert '<td class="field-reason_phrase">rubbish</td>' in rows[phrase.pk]
    assert '<td class="field-reason_links">3</td>' in rows[phrase.pk]
    assert '<td class="field-reason_first_comment">yes</td>' in rows[first.pk]
    assert '<td class="field-reason_premoderated">article, site</td>' in rows[premoderated.pk]
    assert ">4</a> (held): abuse, spam</td>" in rows[reported.pk]
    assert response.context["cl"].result_list[0].pk == reported.pk


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("held_because=phrase", ["phrase"]),
        ("held_because=links", ["phrase"]),
        ("held_because=first_comment", ["first"]),
        ("held_because=commenter_premoderated", []),
        ("held_because=site_premoderated", ["premoderated"]),
        ("reported_as=spam", ["reported"]),
        ("reported_as=off_topic", []),
    ],
)
def test_the_queue_filters_by_each_reason(mod_client, query, expected):
    article = make_article()
    comments = {
        "phrase": held(article, ("phrase", "rubbish"), ("links", "3")),
        "first": held(article, ("first_comment", "")),
        "premoderated": held(article, ("site_premoderated", "")),
        "reported": make_comment(article),
    }
    Report.objects.create(comment=comments["reported"], reason="spam", reporter="ip:x")

    response = mod_client.get(f"{QUEUE}?{query}")

    names = {comment.pk: name for name, comment in comments.items()}
    assert sorted(names[c.pk] for c in response.context["cl"].result_list) == expected


def test_the_queue_does_a_fixed_number_of_queries(mod_client):
    article = make_article()
    held(article, ("phrase", "rubbish"))
    with CaptureQueriesContext(connection) as few:
        assert mod_client.get(QUEUE).status_code == 200

    for n in range(60):
        comment = held(article, ("phrase", f"word{n}"), ("links", "2"))
        report(comment, n % 3)
    with CaptureQueriesContext(connection) as many:
        response = mod_client.get(QUEUE)

    assert len(response.context["cl"].result_list) == 61
    assert len(many) == len(few)


def test_removing_asks_why_first_and_changes_nothing_until_answered(mod_client):
    comment = make_comment(make_article(), body="Something <b>rude</b>.")

    response = act(mod_client, "remove_comments", [comment])

    html = response.content.decode()
    assert response.status_code == 200
    assert "Why are these comments removed?" in html
    assert "Something &lt;b&gt;rude&lt;/b&gt;." in html
    assert 'type="radio" name="reason" value="abusive"' in html
    assert f'name="_selected_action" value="{comment.pk}"' in html
    comment.refresh_from_db()
    assert comment.status == "published"


def test_a_removal_without_a_reason_comes_back_with_a_message(mod_client):
    comment = make_comment(make_article())

    response = act(mod_client, "remove_comments", [comment], note="No reason given.")

    assert "Choose the reason for this decision." in response.content.decode()
    assert 'value="No reason given."' not in response.content.decode()  # a textarea
    assert "No reason given." in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "published"
    assert not Decision.objects.exists()


def test_a_tampered_reason_is_refused_like_a_missing_one(mod_client):
    comment = make_comment(make_article())

    response = act(mod_client, "mark_spam", [comment], reason="because")

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == "published"


def test_the_block_dialog_lists_the_authors_and_blocks_what_was_chosen(mod_client, moderator):
    article = make_article()
    troll = make_comment(
        article, author_name="Troll", author_email="troll@example.com", ip_address="198.51.100.9"
    )
    published = make_comment(article, author_name="troll")

    dialog = act(mod_client, "block_commenters", [troll]).content.decode()
    assert "Block the authors of these comments" in dialog
    assert "<td>troll@example.com</td><td>198.51.100.9</td><td>guest</td>" in dialog
    assert 'name="targets" value="account"' in dialog

    response = act(
        mod_client,
        "block_commenters",
        [troll],
        targets=["name"],
        duration="24h",
        remove_published="on",
        reason="harassment",
        note="Following another reader around.",
    )

    assert messages_of(response) == [
        "1 email, IP address or name blocked; 0 accounts suspended or banned; "
        "2 comments removed."
    ]
    block = BlockedCommenter.objects.get()
    assert (block.kind, block.value, block.reason, block.created_by) == (
        "name",
        "troll",
        "Following another reader around.",
        moderator,
    )
    assert timedelta(hours=23) < block.expires - timezone.now() <= timedelta(hours=24)
    assert set(Comment.objects.values_list("pk", "status", "removal_reason")) == {
        (troll.pk, "removed", "harassment"),
        (published.pk, "removed", "harassment"),
    }
    assert LogEntry.objects.filter(action_flag=ADDITION).get().change_message.startswith(
        "Blocked, until "
    )


def test_the_block_dialog_suspends_an_account(mod_client):
    commenter = make_reader().commenter
    comment = make_comment(make_article(), commenter=commenter)

    act(
        mod_client,
        "block_commenters",
        [comment],
        targets=["account"],
        duration="30d",
        reason="abusive",
        note="Third warning.",
    )

    commenter.refresh_from_db()
    assert (commenter.status, commenter.status_reason) == ("suspended", "Third warning.")
    assert LogEntry.objects.get(object_id=str(commenter.pk)).change_message.startswith(
        "Account blocked, until "
    )


def test_the_block_dialog_with_nothing_chosen_blocks_nothing(mod_client):
    comment = make_comment(make_article())

    response = act(
        mod_client, "block_commenters", [comment], duration="permanent", reason="abusive"
    )

    assert "Choose at least one thing to block." in response.content.decode()
    assert not BlockedCommenter.objects.exists()


def test_only_who_may_change_commenters_may_block_an_account(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("junior", password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_comment", "change_comment"])
    )
    client.force_login(user)
    commenter = make_reader().commenter
    comment = make_comment(make_article(), commenter=commenter)

    response = act(
        client, "block_commenters", [comment], targets=["account"], duration="7d", reason="spam"
    )

    assert "You may not suspend or ban accounts." in response.content.decode()
    commenter.refresh_from_db()
    assert commenter.status == "active"


def test_the_comment_page_shows_why_it_was_held_and_its_decisions(mod_client, moderator):
    comment = held(make_article(), ("phrase", "rubbish"), ("links", "4"))
    Decision.objects.create(
        comment=comment, status="removed", reason="spam", note="Bot.", moderator=moderator
    )

    html = mod_client.get(reverse("admin:comments_comment_change", args=[comment.pk])).content
    html = html.decode()

    assert "Held phrase: rubbish; Links: 4" in html
    assert "Decision history" in html
    assert "Bot." in html


def test_removing_on_the_comment_page_needs_a_reason_and_records_the_note(mod_client):
    comment = make_comment(make_article())
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    form = {"status": "removed", "body": comment.body, **INLINE}

    response = mod_client.post(url, form)
    assert response.status_code == 200
    assert "Choose why the comment is removed or marked as spam." in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == "published"

    response = mod_client.post(
        url, {**form, "removal_reason": "misinformation", "decision_note": "Fake quote."}
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.status, decision.reason, decision.note) == (
        "removed",
        "misinformation",
        "Fake quote.",
    )


def test_the_commenter_record_shows_the_decisions_on_their_comments(mod_client, moderator):
    commenter = make_reader().commenter
    theirs = make_comment(make_article(), commenter=commenter, body="Their words.")
    other = make_comment(make_article(), body="Someone else's words.")
    for comment in (theirs, other):
        Decision.objects.create(
            comment=comment, status="removed", reason="off_topic", moderator=moderator
        )

    html = mod_client.get(
        reverse("admin:comments_commenter_change", args=[commenter.pk])
    ).content.decode()

    assert "Decision history" in html
    assert "Their words." in html and "Off-topic" in html
    assert "Someone else" not in html


@pytest.mark.parametrize(
    ("field", "value"), [("duration", "forever"), ("targets", "phone"), ("reason", "bored")]
)
def test_a_tampered_block_dialog_blocks_nothing(mod_client, field, value):
    comment = make_comment(make_article(), status="pending")
    dialog = {"targets": ["email"], "duration": "7d", "reason": "spam", field: value}

    response = act(mod_client, "block_commenters", [comment], **dialog)

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not BlockedCommenter.objects.exists()
    assert Comment.objects.get(pk=comment.pk).status == "pending"


def test_the_dialog_keeps_select_across_and_the_filters(mod_client):
    article, other = make_article(), make_article()
    waiting = [make_comment(article, status="pending") for _ in range(3)]
    elsewhere = make_comment(other, status="pending")
    url = f"{QUEUE}?article__id__exact={article.pk}"

    dialog = mod_client.post(
        url,
        {"action": "remove_comments", "select_across": "1", "_selected_action": [waiting[0].pk]},
    ).content.decode()
    assert "3 comments selected" in dialog
    assert 'name="select_across" value="1"' in dialog

    response = mod_client.post(
        url,
        {
            "action": "remove_comments",
            "select_across": "1",
            "_selected_action": [waiting[0].pk],
            "apply": "1",
            "reason": "spam",
        },
        follow=True,
    )

    assert messages_of(response) == ["3 comments removed."]
    assert Comment.objects.get(pk=elsewhere.pk).status == "pending"


def test_blocks_are_listed_with_their_end_and_filtered_by_whether_they_hold(mod_client):
    ended = BlockedCommenter.objects.create(
        kind="ip", value="192.0.2.1", expires=timezone.now() - timedelta(hours=1)
    )
    timed = BlockedCommenter.objects.create(
        kind="ip", value="192.0.2.2", expires=timezone.now() + timedelta(hours=1)
    )
    permanent = BlockedCommenter.objects.create(kind="ip", value="192.0.2.3")
    url = reverse("admin:comments_blockedcommenter_changelist")

    def listed(query):
        return {b.pk for b in mod_client.get(f"{url}?{query}").context["cl"].result_list}

    assert listed("in_force=yes") == {timed.pk, permanent.pk}
    assert listed("in_force=no") == {ended.pk}
    assert "field-expires" in mod_client.get(url).content.decode()
