import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from comments.models import BannedPhrase, BlockedCommenter, Comment, ModerationPolicy
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db



def test_the_migration_creates_the_moderators_group_with_exactly_its_permissions():
    group = Group.objects.get(name="Moderators")

    permissions = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }

    rules = {
        f"comments.{action}_{model}"
        for model in ("bannedphrase", "blockedcommenter", "moderationpolicy", "reservedname")
        for action in ("add", "change", "delete", "view")
    }
    assert permissions == rules | {
        "comments.view_commenter",
        "comments.change_commenter",
        "comments.view_comment",
        "comments.change_comment",
        "comments.view_commentqueue",
        "comments.change_commentqueue",
        "comments.view_report",
        "comments.change_report",
        "comments.view_decision",
        "comments.view_holdreason",
        "comments.view_commentrevision",
        "articles.view_article",
    }


def test_a_moderator_can_moderate_comments(mod_client):
    comment = make_comment(make_article(), status="pending")

    response = mod_client.post(
        reverse("admin:comments_comment_changelist"),
        {"action": "approve_comments", "_selected_action": [comment.pk]},
    )

    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert mod_client.get(reverse("admin:comments_commentqueue_changelist")).status_code == 200


def test_a_moderator_cannot_delete_comments(mod_client):
    comment = make_comment(make_article())

    changelist = mod_client.get(reverse("admin:comments_comment_changelist"))
    delete = mod_client.post(
        reverse("admin:comments_comment_delete", args=[comment.pk]), {"post": "yes"}
    )

    actions = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert {"approve_comments", "remove_comments", "mark_spam", "remove_threads",
            "block_commenters"} <= set(actions)
    assert delete.status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_moderator_can_edit_the_policy_rules(mod_client):
    phrase = mod_client.post(
        reverse("admin:comments_bannedphrase_add"), {"phrase": "scum", "action": "refuse"}
    )
    blocked = mod_client.post(
        reverse("admin:comments_blockedcommenter_add"), {"kind": "ip", "value": "192.0.2.1"}
    )
    policy = ModerationPolicy.current()
    mode = mod_client.post(
        reverse("admin:comments_moderationpolicy_change", args=[policy.pk]),
        {
            "mode": "first_comment",
            "auto_premoderation_share": 50,
            "auto_premoderation_window": 10,
            "auto_premoderation_days": 30,
        },
    )

    assert phrase.status_code == blocked.status_code == mode.status_code == 302
    assert BannedPhrase.objects.get().action == "refuse"
    assert BlockedCommenter.objects.get().value == "192.0.2.1"
    policy.refresh_from_db()
    assert policy.mode == "first_comment"


def test_a_moderator_can_read_but_not_edit_articles(mod_client):
    article = make_article(title="Original title")
    url = reverse("admin:articles_article_change", args=[article.pk])

    view = mod_client.get(url)
    edit = mod_client.post(url, {"title": "Changed", "slug": article.slug})

    assert view.status_code == 200
    assert edit.status_code == 403
    article.refresh_from_db()
    assert article.title == "Original title"
    assert mod_client.get(reverse("admin:articles_article_add")).status_code == 403
    mod_client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "close_comments", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert article.comments_open


def test_a_moderator_cannot_edit_users(mod_client, moderator):
    url = reverse("admin:auth_user_change", args=[moderator.pk])

    assert mod_client.get(url).status_code == 403
    assert mod_client.post(url, {"username": "boss", "is_superuser": "on"}).status_code == 403
    assert mod_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    moderator.refresh_from_db()
    assert not moderator.is_superuser


def test_a_signed_in_reader_cannot_reach_the_admin(client, django_user_model):
    reader = django_user_model.objects.create_user("reader", password="x")
    client.force_login(reader)
    comment = make_comment(make_article(), status="pending")

    for url in [
        reverse("admin:index"),
        reverse("admin:comments_comment_changelist"),
        reverse("admin:comments_commentqueue_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    response = client.post(
        reverse("admin:comments_comment_changelist"),
        {"action": "approve_comments", "_selected_action": [comment.pk]},
    )
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING


def test_a_moderator_looks_after_commenters_and_reserved_names(mod_client):
    reader = make_reader()
    url = reverse("admin:comments_commenter_change", args=[reader.commenter.pk])
    assert mod_client.get(url).status_code == 200
    assert mod_client.get(reverse("admin:comments_commenter_add")).status_code == 403
    response = mod_client.post(reverse("admin:comments_reservedname_add"), {"name": "Desk"})
    assert response.status_code == 302
