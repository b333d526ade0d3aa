"""Readers' public profiles and their own settings page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comments.models import Comment, ReservedName
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db


def profile_url(user, **query):
    url = reverse("comments:profile", args=[user.commenter.handle])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_profile_lists_published_comments_newest_first_with_links(client):
    reader = make_reader(display_name="Paula Profile")
    article = make_article(title="The Harbour Bridge")
    now = timezone.now()
    old = make_comment(article, commenter=reader.commenter, body="Older words",
                       created=now - timedelta(days=2))
    new = make_comment(article, commenter=reader.commenter, body="Newer words", created=now)
    make_comment(article, commenter=reader.commenter, body="Hidden words",
                 status=Comment.Status.REMOVED, created=now)
    make_comment(article, body="Someone else's words", created=now)
    html = client.get(profile_url(reader)).content.decode()
    assert "<h1>Paula Profile</h1>" in html
    assert html.index("Newer words") < html.index("Older words")
    assert "Hidden words" not in html
    assert "Someone else" not in html
    assert f'href="{new.get_absolute_url()}">The Harbour Bridge</a>' in html
    assert f'href="{old.get_absolute_url()}"' in html


def test_a_profile_pages_twenty_at_a_time_in_fixed_queries(
    client, django_assert_max_num_queries
):
    reader = make_reader()
    article = make_article()
    for n in range(45):
        make_comment(article, commenter=reader.commenter, body=f"Number {n}.",
                     created=timezone.now() - timedelta(minutes=n))
    with django_assert_max_num_queries(3):
        first = client.get(profile_url(reader)).content.decode()
    assert first.count('class="profile-comment"') == 20
    assert "Number 0." in first and "Number 20." not in first
    last = client.get(profile_url(reader, page=3)).content.decode()
    assert last.count('class="profile-comment"') == 5
    assert client.get(profile_url(reader, page=9)).status_code == 404


def test_unknown_or_hidden_profiles_are_404(client):
    assert client.get(reverse("comments:profile", args=["nobody-here"])).status_code == 404
    reader = make_reader()
    reader.commenter.profile_public = False
    reader.commenter.save()
    assert client.get(profile_url(reader)).status_code == 404


def test_a_staff_profile_shows_the_badge(client, django_user_model):
    from comments.services import commenter_create

    staff = django_user_model.objects.create_user("editor", is_staff=True)
    commenter = commenter_create(user=staff, display_name="Ed Itor")
    commenter.badge = "Editor"
    commenter.save()
    html = client.get(reverse("comments:profile", args=[commenter.handle])).content.decode()
    assert '<span class="comment-badge">Editor</span>' in html


def test_handles_are_unique_slugs():
    a = make_reader(display_name="Same Name")
    b = make_reader(display_name="Same Name")
    c = make_reader(display_name="Ωμέγα")
    assert a.commenter.handle == "same-name"
    assert b.commenter.handle == "same-name-2"
    assert c.commenter.handle == "reader"


class TestSettings:
    def test_needs_signing_in(self, client):
        response = client.get(reverse("comments:settings"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_changing_the_display_name_renames_the_comments(self, client):
        reader = make_reader(display_name="Old Name")
        article = make_article()
        make_comment(article, commenter=reader.commenter, author_name="Old Name")
        client.force_login(reader)
        response = client.post(
            reverse("comments:settings"), {"display_name": "New  Name", "profile_public": "on"}
        )
        assert response.status_code == 302
        reader.commenter.refresh_from_db()
        assert reader.commenter.display_name == "New Name"
        assert reader.commenter.handle == "old-name"
        assert Comment.objects.get().author_name == "New Name"
        assert "New Name" in client.get(article.get_absolute_url()).content.decode()

    @pytest.mark.parametrize("name", ["Moderator", "MODÉRATOR", "M\u043ederator", "x", "A\x07b"])
    def test_a_reserved_or_bad_name_is_refused(self, client, name):
        ReservedName.objects.create(name="moderator")
        reader = make_reader(display_name="Kept Name")
        client.force_login(reader)
        response = client.post(
            reverse("comments:settings"), {"display_name": name, "profile_public": "on"}
        )
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
        reader.commenter.refresh_from_db()
        assert reader.commenter.display_name == "Kept Name"

    def test_turning_the_profile_off_removes_the_link(
        self, client, django_capture_on_commit_callbacks
    ):
        reader = make_reader(display_name="Shy Reader")
        article = make_article()
        make_comment(article, commenter=reader.commenter, author_name="Shy Reader")
        assert "comment-author-link" in client.get(article.get_absolute_url()).content.decode()
        client.force_login(reader)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("comments:settings"), {"display_name": "Shy Reader"})
        client.logout()
        assert client.get(profile_url(reader)).status_code == 404
        html = client.get(article.get_absolute_url()).content.decode()
        assert "Shy Reader" in html
        assert "comment-author-link" not in html
