"""Readers recommend comments: once each, counted on the comment and its thread, rate-limited,
refused to unverified guests, and shown on the cached page within RECOMMEND_REFRESH_SECONDS."""

import threading
import time

import pytest
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.tasks import task_backends
from django.test import Client
from django.urls import reverse

from articles.cache import article_page_version
from comments.guests import VERIFIED_COOKIE, VERIFIED_SALT
from comments.models import Comment, Commenter, Recommendation
from comments.recommendations import (
    discussion_refresh_due,
    recommendation_set,
    recommended_counts,
)
from comments.services import commenter_erase, commenter_for_email, comments_delete
from tests.factories import make_article, make_comment, make_reader

JSON = {"HTTP_ACCEPT": "application/json"}


def recommend_url(comment) -> str:
    return reverse("comments:recommend", kwargs={"slug": comment.article.slug, "pk": comment.pk})


def state_url(article) -> str:
    return reverse("comments:recommended", kwargs={"slug": article.slug})


def counts(comment) -> tuple[int, int]:
    """The comment's count and its thread's (on the thread's top-level comment)."""
    comment.refresh_from_db()
    root = Comment.objects.get(tree_id=comment.tree_id, parent=None)
    return comment.recommend_count, root.thread_recommend_count


def verified_guest_client(email="guest@example.com") -> tuple[Client, Commenter]:
    commenter = commenter_for_email(email=email, display_name="Guest")
    client = Client()
    client.cookies[VERIFIED_COOKIE] = signing.dumps([email], salt=VERIFIED_SALT)
    return client, commenter


def signed_in_client(**fields) -> tuple[Client, Commenter]:
    user = make_reader(**fields)
    client = Client()
    client.force_login(user)
    return client, user.commenter


@pytest.mark.django_db
class TestRecommendationSet:
    def test_a_recommendation_counts_on_the_comment_and_its_thread(self):
        article = make_article()
        root = make_comment(article)
        reply = make_comment(article, parent=root)
        _, ada = signed_in_client()
        _, bob = signed_in_client()
        recommendation_set(comment=reply, commenter=ada, recommended=True)
        result = recommendation_set(comment=reply, commenter=bob, recommended=True)
        recommendation_set(comment=root, commenter=ada, recommended=True)
        assert (result.recommended, result.count, result.changed) == (True, 2, True)
        assert counts(reply) == (2, 3)
        assert counts(root) == (1, 3)

    def test_a_second_recommendation_by_one_reader_is_not_counted(self):
        comment = make_comment(make_article())
        _, ada = signed_in_client()
        recommendation_set(comment=comment, commenter=ada, recommended=True)
        again = recommendation_set(comment=comment, commenter=ada, recommended=True)
        assert (again.recommended, again.count, again.changed) == (True, 1, False)
        assert Recommendation.objects.filter(comment=comment).count() == 1

    def test_taking_it_back_and_turning_it_over(self):
        comment = make_comment(make_article())
        _, ada = signed_in_client()
        assert recommendation_set(comment=comment, commenter=ada).recommended is True
        assert recommendation_set(comment=comment, commenter=ada).recommended is False
        assert counts(comment) == (0, 0)
        taken = recommendation_set(comment=comment, commenter=ada, recommended=False)
        assert (taken.count, taken.changed) == (0, False)
        assert not Recommendation.objects.exists()

    def test_the_database_admits_one_row_per_comment_and_reader(self):
        comment = make_comment(make_article())
        _, ada = signed_in_client()
        Recommendation.objects.create(comment=comment, commenter=ada)
        with pytest.raises(IntegrityError), transaction.atomic():
            Recommendation.objects.create(comment=comment, commenter=ada)

    def test_deleting_recommended_replies_takes_them_out_of_the_thread_count(self):
        article = make_article()
        root = make_comment(article)
        reply = make_comment(article, parent=root)
        nested = make_comment(article, parent=reply)
        kept = make_comment(article, parent=root)
        _, ada = signed_in_client()
        _, bob = signed_in_client()
        for comment in (reply, nested, kept, root):
            recommendation_set(comment=comment, commenter=ada, recommended=True)
        recommendation_set(comment=nested, commenter=bob, recommended=True)
        assert counts(root) == (1, 5)
        # The reply and its nested reply both selected: their recommendations go once.
        comments_delete(comments=Comment.objects.filter(pk__in=[reply.pk, nested.pk]))
        assert counts(root) == (1, 2)
        assert counts(kept) == (1, 2)

    def test_an_erased_readers_recommendations_leave_the_counts(self):
        article = make_article()
        root = make_comment(article)
        reply = make_comment(article, parent=root)
        _, ada = signed_in_client()
        guest_client, guest = verified_guest_client("guest@example.com")
        for commenter in (ada, guest):
            recommendation_set(comment=reply, commenter=commenter, recommended=True)
        recommendation_set(comment=root, commenter=guest, recommended=True)
        assert counts(reply) == (2, 3)
        commenter_erase(email="guest@example.com")
        assert counts(reply) == (1, 1)
        assert counts(root) == (0, 1)
        assert list(Recommendation.objects.values_list("commenter", flat=True)) == [ada.pk]

    @pytest.mark.parametrize("replies", [2, 5])
    def test_erasure_withdraws_many_recommendations_in_a_fixed_number_of_queries(
        self, replies, django_assert_num_queries
    ):
        article = make_article()
        first, second = make_comment(article), make_comment(article)
        first_replies = [make_comment(article, parent=first) for _ in range(replies)]
        nested = make_comment(article, parent=first_replies[0])
        second_replies = [make_comment(article, parent=second) for _ in range(replies)]
        user = make_reader()
        _, guest = verified_guest_client(user.email)
        _, bob = signed_in_client()
        for comment in (first, *first_replies, nested, *second_replies):
            recommendation_set(comment=comment, commenter=user.commenter, recommended=True)
        # The reader's guest record under the same address recommended a reply too.
        recommendation_set(comment=first_replies[0], commenter=guest, recommended=True)
        for comment in (nested, second):
            recommendation_set(comment=comment, commenter=bob, recommended=True)
        assert counts(first) == (1, replies + 4)
        assert counts(first_replies[0]) == (2, replies + 4)
        assert counts(nested) == (2, replies + 4)
        assert counts(second) == (1, replies + 1)

        with django_assert_num_queries(37):
            commenter_erase(commenter=user.commenter, email=user.email, user=user)

        assert counts(first) == (0, 1)
        assert [counts(reply) for reply in first_replies] == [(0, 1)] * replies
        assert counts(nested) == (1, 1)
        assert counts(second) == (1, 1)
        assert [counts(reply) for reply in second_replies] == [(0, 1)] * replies
        assert list(Recommendation.objects.values_list("commenter", flat=True)) == [bob.pk] * 2

    def test_the_readers_own_recommendations_with_their_counts(self, django_assert_num_queries):
        article = make_article()
        first, second, elsewhere = (
            make_comment(article),
            make_comment(article),
            make_comment(make_article()),
        )
        _, ada = signed_in_client()
        _, bob = signed_in_client()
        for comment in (first, elsewhere):
            recommendation_set(comment=comment, commenter=ada, recommended=True)
        recommendation_set(comment=first, commenter=bob, recommended=True)
        recommendation_set(comment=second, commenter=bob, recommended=True)
        with django_assert_num_queries(1):
            assert recommended_counts(article=article, commenter=ada) == {first.pk: 2}
        assert recommended_counts(article=article, commenter=None) == {}


@pytest.fixture
def recommend(django_capture_on_commit_callbacks):
    """recommendation_set() as a request runs it: the refresh follows its commit."""

    def run(comment, commenter):
        with django_capture_on_commit_callbacks(execute=True):
            return recommendation_set(comment=comment, commenter=commenter, recommended=True)

    return run


@pytest.fixture
def refresh_due(django_capture_on_commit_callbacks):
    """The queued refresh as the task worker runs it, outside any transaction."""

    def run(article):
        with django_capture_on_commit_callbacks(execute=True):
            discussion_refresh_due.call(article_id=article.pk)

    return run


@pytest.mark.django_db
class TestRefresh:
    def test_recommendations_refresh_the_page_once_in_a_window(self, recommend, settings):
        settings.RECOMMEND_REFRESH_SECONDS = 60
        article = make_article()
        comments = [make_comment(article) for _ in range(3)]
        readers = [signed_in_client()[1] for _ in range(4)]
        before = article_page_version(article.pk)
        for comment in comments:
            for reader in readers:
                recommend(comment, reader)
        # One refresh for the first; the others wait for the end of the window.
        assert article_page_version(article.pk) == before + 1

    def test_a_recommendation_inside_the_window_queues_one_refresh_at_its_end(
        self, recommend, settings
    ):
        settings.RECOMMEND_REFRESH_SECONDS = 60
        settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        article = make_article()
        comment = make_comment(article)
        readers = [signed_in_client()[1] for _ in range(5)]
        start = time.time()
        for reader in readers:
            recommend(comment, reader)
        queued = task_backends["default"].results
        assert len(queued) == 1
        run_after = queued[0].task.run_after
        assert start + 59 <= run_after.timestamp() <= time.time() + 60
        assert queued[0].args == [] and queued[0].kwargs == {"article_id": article.pk}

    def test_the_queued_refresh_shows_the_counts_and_opens_the_next_window(
        self, recommend, refresh_due, settings
    ):
        settings.RECOMMEND_REFRESH_SECONDS = 60
        article = make_article()
        before = article_page_version(article.pk)
        refresh_due(article)
        assert article_page_version(article.pk) == before + 1
        comment = make_comment(article)
        after_comment = article_page_version(article.pk)
        recommend(comment, signed_in_client()[1])
        # The due refresh opened a window: this recommendation waits for its end.
        assert article_page_version(article.pk) == after_comment

    def test_a_new_window_refreshes_at_once(self, recommend, settings):
        settings.RECOMMEND_REFRESH_SECONDS = 1
        article = make_article()
        comment = make_comment(article)
        before = article_page_version(article.pk)
        recommend(comment, signed_in_client()[1])
        time.sleep(1.1)
        recommend(comment, signed_in_client()[1])
        assert article_page_version(article.pk) == before + 2

    def test_with_the_counters_away_each_process_keeps_the_window(
        self, recommend, settings, monkeypatch
    ):
        from django.core.cache import caches

        def away(*args, **kwargs):
            raise ConnectionRefusedError("counters away")

        monkeypatch.setattr(caches["counters"], "add", away)
        settings.RECOMMEND_RATE_LIMIT = "off"
        article = make_article()
        comment = make_comment(article)
        before = article_page_version(article.pk)
        for _ in range(3):
            recommend(comment, signed_in_client()[1])
        assert counts(comment) == (3, 3)
        assert article_page_version(article.pk) == before + 1

    def test_the_cached_page_shows_the_count_after_the_refresh(
        self, recommend, refresh_due, client, settings
    ):
        settings.RECOMMEND_REFRESH_SECONDS = 60
        article = make_article()
        comment = make_comment(article)
        assert 'data-count="0"' in client.get(article.get_absolute_url()).content.decode()
        reader = signed_in_client()[1]
        recommend(comment, reader)
        recommend(comment, signed_in_client()[1])
        page = client.get(article.get_absolute_url()).content.decode()
        # Refreshed by the first recommendation; the second waits for the window's end.
        assert 'data-count="1"' in page
        refresh_due(article)
        assert 'data-count="2"' in client.get(article.get_absolute_url()).content.decode()


@pytest.mark.django_db
class TestRecommendView:
    def test_a_signed_in_reader_recommends_with_javascript(self):
        comment = make_comment(make_article())
        client, commenter = signed_in_client()
        response = client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
        assert response.status_code == 200
        assert response.json() == {"recommended": True, "count": 1}
        assert Recommendation.objects.filter(comment=comment, commenter=commenter).exists()
        response = client.post(recommend_url(comment), {"recommended": "0"}, **JSON)
        assert response.json() == {"recommended": False, "count": 0}

    def test_without_javascript_the_page_posts_and_comes_back_with_the_count(self):
        comment = make_comment(make_article(), author_name="Ararat")
        client, _ = signed_in_client()
        page = client.get(recommend_url(comment))
        assert page.status_code == 200
        assert b'name="recommended" value="1"' in page.content
        assert "Recommend Ararat’s comment" in page.content.decode()
        response = client.post(recommend_url(comment), {"recommended": "1"}, follow=True)
        assert response.redirect_chain[0][0] == comment.get_absolute_url()
        text = response.content.decode()
        assert "You recommended Ararat’s comment (1 recommendation)." in text
        assert f'data-feedback="recommended:{comment.pk}"' in text
        # The reader's own recommendation is in the count they see after the redirect.
        assert 'data-count="1"' in text
        again = client.get(recommend_url(comment)).content.decode()
        assert "Take back my recommendation" in again
        assert 'name="recommended" value="0"' in again

    def test_an_account_made_without_a_commenter_record_recommends(self, django_user_model):
        comment = make_comment(make_article())
        user = django_user_model.objects.create_user("editor", password="a long passphrase 1")
        client = Client()
        client.force_login(user)
        assert b"Recommend this comment" in client.get(recommend_url(comment)).content
        response = client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
        assert response.json() == {"recommended": True, "count": 1}
        assert Recommendation.objects.get().commenter.user == user

    def test_a_post_without_a_state_turns_it_over(self):
        comment = make_comment(make_article())
        client, _ = signed_in_client()
        assert client.post(recommend_url(comment), **JSON).json()["recommended"] is True
        assert client.post(recommend_url(comment), **JSON).json()["recommended"] is False

    def test_a_verified_guest_recommends(self):
        comment = make_comment(make_article())
        client, commenter = verified_guest_client()
        response = client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
        assert response.json() == {"recommended": True, "count": 1}
        assert Recommendation.objects.get().commenter == commenter

    def test_an_unverified_guest_is_invited_to_sign_in(self, client):
        comment = make_comment(make_article())
        for method in (client.get, client.post):
            response = method(recommend_url(comment))
            assert response.status_code == 403
            text = response.content.decode()
            assert "Sign in to recommend comments." in text
            assert reverse("account_login") in text
        response = client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
        assert response.status_code == 403
        assert response.json()["error"].startswith("Sign in to recommend comments.")
        assert response.json()["sign_in_url"].startswith(reverse("account_login") + "?next=")
        assert not Recommendation.objects.exists()

    def test_a_typed_or_forged_address_is_no_verified_guest(self):
        comment = make_comment(make_article())
        commenter_for_email(email="guest@example.com", display_name="Guest")
        client = Client()
        client.cookies[VERIFIED_COOKIE] = signing.dumps(["guest@example.com"], salt="other")
        assert client.post(recommend_url(comment), **JSON).status_code == 403
        assert not Recommendation.objects.exists()

    def test_a_banned_reader_may_not_recommend(self):
        comment = make_comment(make_article())
        client, commenter = signed_in_client()
        Commenter.objects.filter(pk=commenter.pk).update(status=Commenter.Status.BANNED)
        response = client.post(recommend_url(comment), **JSON)
        assert response.status_code == 403
        assert response.json()["sign_in_url"] == ""
        assert not Recommendation.objects.exists()

    @pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.REMOVED])
    def test_a_hidden_comment_cannot_be_recommended(self, status):
        comment = make_comment(make_article(), status=status)
        client, _ = signed_in_client()
        assert client.post(recommend_url(comment), **JSON).status_code == 404

    def test_recommendations_are_rate_limited(self, settings):
        settings.RECOMMEND_RATE_LIMIT = "3/60"
        article = make_article()
        comments = [make_comment(article) for _ in range(4)]
        client, _ = signed_in_client()
        for comment in comments[:3]:
            assert client.post(recommend_url(comment), **JSON).status_code == 200
        response = client.post(recommend_url(comments[3]), **JSON)
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "recommended many comments" in response.json()["error"]
        page = client.post(recommend_url(comments[3]))
        assert page.status_code == 429
        assert "You have recommended several comments in a short time" in page.content.decode()
        assert Recommendation.objects.count() == 3

    def test_recommending_needs_csrf(self):
        comment = make_comment(make_article())
        user = make_reader()
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        assert client.post(recommend_url(comment), **JSON).status_code == 403
        assert not Recommendation.objects.exists()


@pytest.mark.django_db
class TestReadersOwnState:
    def test_a_reader_gets_their_own_recommendations_with_fresh_counts(self, settings):
        settings.RECOMMEND_REFRESH_SECONDS = 60
        article = make_article()
        first, second = make_comment(article), make_comment(article)
        client, ada = signed_in_client()
        recommendation_set(comment=make_comment(article), commenter=ada, recommended=True)
        recommendation_set(comment=first, commenter=signed_in_client()[1], recommended=True)
        recommendation_set(comment=first, commenter=ada, recommended=True)
        response = client.get(state_url(article))
        assert response["Cache-Control"].startswith("max-age=0")
        assert "Cookie" in response["Vary"]
        recommended = response.json()["recommended"]
        assert recommended[str(first.pk)] == 2
        assert str(second.pk) not in recommended

    def test_a_reader_who_cannot_recommend_gets_none(self, client, django_assert_max_num_queries):
        article = make_article()
        with django_assert_max_num_queries(1):
            assert client.get(state_url(article)).json() == {"recommended": {}}

    def test_the_shared_copy_holds_nobodys_state(self, settings):
        article = make_article()
        comment = make_comment(article)
        client, _ = signed_in_client()
        client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
        page = Client().get(article.get_absolute_url()).content.decode()
        assert "aria-pressed" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_counts_concurrent_recommendations_of_one_comment_exactly(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    settings.RECOMMEND_RATE_LIMIT = "off"
    article = make_article()
    root = make_comment(article)
    comment = make_comment(article, parent=root)
    readers = [make_reader() for _ in range(24)]
    barrier = threading.Barrier(len(readers))
    outcomes, errors = [], []

    def recommend(user, twice):
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=30)
            for _ in range(2 if twice else 1):
                response = client.post(recommend_url(comment), {"recommended": "1"}, **JSON)
                outcomes.append(response.status_code)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=recommend, args=(user, n % 3 == 0))
        for n, user in enumerate(readers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a recommending thread hung"
    assert errors == []
    assert set(outcomes) == {200}
    assert Recommendation.objects.filter(comment=comment).count() == len(readers)
    assert counts(comment) == (len(readers), len(readers))



@pytest.mark.django_db
def test_the_article_page_offers_the_top_order(client, recommend):
    article = make_article()
    first, second = make_comment(article, author_name="First"), make_comment(article)
    recommend(second, signed_in_client()[1])
    html = client.get(article.get_absolute_url() + "?sort=top").content.decode()
    assert '<span aria-current="true">Top</span>' in html
    assert html.index(f'id="comment-{second.pk}"') < html.index(f'id="comment-{first.pk}"')
    oldest = client.get(article.get_absolute_url() + "?sort=oldest").content.decode()
    assert 'href="?sort=top#comments"' in oldest
