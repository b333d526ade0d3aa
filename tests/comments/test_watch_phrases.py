"""Watch phrases: one article's phrases hold its new comments for review, and nothing else."""

import pytest
from django.urls import reverse

from comments.models import BannedPhrase, Comment, WatchPhrase
from comments.moderation import comment_screen
from comments.phrases import watch_matcher
from comments.services import comment_post
from tests.factories import make_article

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:comments_commentqueue_changelist")


def post(article, body):
    return comment_post(
        article=article,
        parent_id=None,
        author_name="Ada Reader",
        author_email="ada@example.com",
        body=body,
        ip_address="192.0.2.10",
        user_agent="test",
    ).comment


def test_a_comment_containing_a_watch_phrase_is_held_with_the_phrase():
    article = make_article()
    WatchPhrase.objects.create(article=article, phrase="John Doe")

    comment = post(article, "I know JOHN  DOE well.")

    assert comment.status == Comment.Status.PENDING
    assert list(comment.hold_reasons.values_list("code", "detail")) == [
        ("watch_phrase", "John Doe")
    ]


@pytest.mark.parametrize(
    ("body", "held"),
    [
        ("Jоhn Doe again", True),  # a Cyrillic "о"
        ("ｊｏｈｎ　ｄｏｅ", True),  # fullwidth forms
        ("John Doe's lawyer", True),
        ("Johnny Doerr", False),
        ("John. Doe.", False),
        ("Nothing to see", False),
    ],
)
def test_watch_phrases_match_as_the_banned_phrases_do(body, held):
    article = make_article()
    WatchPhrase.objects.create(article=article, phrase="John Doe")
    verdict = comment_screen(
        article=article, author_name="A", author_email="a@example.com", ip_address=None, body=body
    )
    assert (verdict.status == Comment.Status.PENDING) is held


def test_another_article_is_unaffected_and_site_rules_stay():
    watched, other = make_article(), make_article()
    WatchPhrase.objects.create(article=watched, phrase="Jane Roe")
    BannedPhrase.objects.create(phrase="rubbish")

    assert post(other, "Jane Roe spoke.").status == Comment.Status.PUBLISHED
    comment = post(watched, "Rubbish, says Jane Roe.")
    assert list(comment.hold_reasons.values_list("code", "detail")) == [
        ("phrase", "rubbish"),
        ("watch_phrase", "Jane Roe"),
    ]


def test_the_matcher_is_kept_until_the_article_s_phrases_change():
    article = make_article()
    phrase = WatchPhrase.objects.create(article=article, phrase="Jane Roe")
    first = watch_matcher(article.pk)
    assert watch_matcher(article.pk) is first
    phrase.phrase = "Richard Roe"
    phrase.save()
    changed = watch_matcher(article.pk)
    assert changed is not first
    assert [rule.phrase for rule in changed.matches("richard roe")] == ["Richard Roe"]
    phrase.delete()
    assert watch_matcher(article.pk).matches("richard roe") == []


def test_the_queue_shows_and_filters_the_watch_phrase(mod_client):
    article = make_article()
    WatchPhrase.objects.create(article=article, phrase="Jane Roe")
    watched = post(article, "Jane Roe spoke.")
    BannedPhrase.objects.create(phrase="rubbish")
    other = post(article, "Rubbish.")

    response = mod_client.get(f"{QUEUE}?held_because=watch_phrase")

    assert [c.pk for c in response.context["cl"].result_list] == [watched.pk]
    assert '<td class="field-reason_watch_phrase">Jane Roe</td>' in response.content.decode()
    everything = mod_client.get(QUEUE)
    assert {c.pk for c in everything.context["cl"].result_list} == {watched.pk, other.pk}
