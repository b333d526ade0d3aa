"""A hidden comment's permalink: 404 for readers, the comment in its thread for moderators,
never from or into the page cache."""

import pytest
from django.test import Client
from django.urls import reverse

from articles.page_cache import local_pages
from comments.models import Comment
from comments.services import comments_remove
from tests.factories import make_article, make_comment
from tests.helpers import moderators_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator_client(django_user_model):
    user = django_user_model.objects.create_user("moderator", password="x", is_staff=True)
    user.groups.add(moderators_group())
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def thread():
    article = make_article()
    root = make_comment(article, author_name="Ann", body="The opening comment.")
    pending = make_comment(
        article, parent=root, author_name="Bo", body="A held reply.", status="pending"
    )
    removed = make_comment(article, parent=root, author_name="Cy", body="A rude reply.")
    comments_remove(
        comments=Comment.objects.filter(pk=removed.pk), moderator=None, reason="abusive"
    )
    return article, root, pending, removed


def permalink(comment):
    return reverse("articles:comment_permalink", args=[comment.article.slug, comment.pk])


def test_readers_get_404_for_hidden_comments(client, django_user_model, thread):
    article, root, pending, removed = thread
    staff_without_permission = django_user_model.objects.create_user(
        "editor", password="x", is_staff=True
    )
    signed_in = Client()
    signed_in.force_login(staff_without_permission)
    for reader in (client, signed_in):
        assert reader.get(permalink(pending)).status_code == 404
        assert reader.get(permalink(removed)).status_code == 404
        assert reader.get(permalink(root)).status_code == 302


def test_a_moderator_sees_a_pending_comment_in_its_thread(moderator_client, thread):
    article, root, pending, removed = thread

    response = moderator_client.get(permalink(pending))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only moderators see this page" in html
    assert "awaiting moderation" in html
    # In place, in its thread, as the discussion renders it, without reader actions.
    start = html.index(f'id="comment-{root.pk}"')
    assert start < html.index("A held reply.")
    comment_html = html[html.index(f'id="comment-{pending.pk}"') :].split("</article>")[0]
    assert f'<article class="comment comment--hidden" id="comment-{pending.pk}"' in html
    assert '<strong class="comment-status comment-status--moderation">awaiting moderation' in (
        comment_html
    )
    assert "reply-link" not in comment_html
    # The other hidden reply stays hidden: only the one asked for is shown.
    assert "A rude reply." not in html
    assert reverse("admin:comments_comment_change", args=[pending.pk]) in html
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_moderator_sees_a_removed_comment_with_its_reason(moderator_client, thread):
    article, root, pending, removed = thread

    html = moderator_client.get(permalink(removed)).content.decode()

    assert "A rude reply." in html
    assert "removed (abusive or a personal attack)" in html
    assert "A held reply." not in html


def test_a_moderator_is_sent_to_a_published_comment_as_readers_are(moderator_client, thread):
    article, root, pending, removed = thread
    response = moderator_client.get(permalink(root))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{root.pk}")


def test_the_moderator_s_view_is_never_cached(moderator_client, thread):
    article, root, pending, removed = thread
    local_pages.clear()
    Client().get(article.get_absolute_url())
    stored = set(local_pages.copies)

    moderator_client.get(permalink(pending))

    assert set(local_pages.copies) == stored
    assert not any("A held reply." in str(copy) for _, copy in local_pages.copies.values())
    # A reader asking right after still gets 404, and the article page keeps it hidden.
    assert Client().get(permalink(pending)).status_code == 404
    assert "A held reply." not in Client().get(article.get_absolute_url()).content.decode()


def test_a_comment_of_another_article_or_missing_is_404_for_moderators(
    moderator_client, thread
):
    article, root, pending, removed = thread
    other = make_article()
    url = reverse("articles:comment_permalink", args=[other.slug, pending.pk])
    assert moderator_client.get(url).status_code == 404
    assert moderator_client.get(
        reverse("articles:comment_permalink", args=[article.slug, 999999])
    ).status_code == 404


def test_the_queue_s_view_link_leads_to_the_permalink(moderator_client, thread):
    article, root, pending, removed = thread
    queue = moderator_client.get(reverse("admin:comments_commentqueue_changelist"))
    assert f'href="{permalink(pending)}">view</a>' in queue.content.decode()
