"""The content of "Download my data": what the file holds about the reader, and what it must
never hold about anyone else."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from comments import services
from comments.data_export import (
    FORMAT,
    SECTIONS,
    personal_data,
    personal_data_json,
    subject_for_guest,
    subject_for_user,
)
from comments.models import (
    Comment,
    Commenter,
    Decision,
    ReplyNotice,
    UnconfirmedComment,
)
from comments.subscriptions import reply_mail_preference_save, reply_subscription_create
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db

# What belongs to other people around the reader, which the file must never hold.
OTHERS = [
    "bob@example.com",
    "203.0.113.5",
    "Bob's browser",
    "Bob's answer",
    "198.51.100.9",
    "Reported by Bob",
    "bob-account",
    "moderator-account",
    "Moderators' note",
    "Looks like a sock puppet",
]


@pytest.fixture
def world(settings):
    settings.SITE_URL = "https://news.example.org"
    article = make_article(title="The harbour plan")
    reader = make_reader(display_name="Ann Reader", email="ann@example.com")
    commenter = reader.commenter
    Commenter.objects.filter(pk=commenter.pk).update(notes="Looks like a sock puppet")
    moderator = get_user_model().objects.create_user("moderator-account", is_staff=True)
    bob = get_user_model().objects.create_user("bob-account", email="bob@example.com")

    published = make_comment(
        article,
        commenter=commenter,
        author_name="Ann Reader",
        author_email="ann@example.com",
        body="Ann's first word.",
        created=timezone.now(),
        ip_address="192.0.2.10",
        user_agent="Ann's browser",
    )
    removed = make_comment(
        article,
        commenter=commenter,
        author_name="Ann Reader",
        author_email="ann@example.com",
        body="Ann's removed word.",
        status=Comment.Status.REMOVED,
        removal_reason=Decision.Reason.OFF_TOPIC,
    )
    Decision.objects.create(
        comment=removed,
        status=Comment.Status.REMOVED,
        reason=Decision.Reason.OFF_TOPIC,
        note="Moderators' note",
        moderator=moderator,
    )
    # Written as a guest with the account's address, before the account existed.
    as_guest = make_comment(article, author_name="Ann", author_email="Ann@Example.com",
                            body="Ann as a guest.")
    reply = make_comment(
        article,
        parent=published,
        author_name="Bob",
        author_email="bob@example.com",
        body="Bob's answer.",
        ip_address="203.0.113.5",
        user_agent="Bob's browser",
    )
    make_comment(article, author_name="Carla", author_email="carla@example.com",
                 body="Someone else entirely.")
    services.report_create(
        comment=published, reason="abuse", detail="Reported by Bob", ip_address="198.51.100.9",
        account=bob,
    )
    services.report_create(
        comment=reply, reason="spam", detail="Ann thinks this is spam.",
        ip_address="192.0.2.10", account=reader,
    )
    reply_subscription_create(comment=published, commenter=commenter)
    reply_mail_preference_save(commenter=commenter, subscribe_by_default=True, frequency="daily")
    ReplyNotice.objects.create(
        recipient=commenter, reply=reply, thread=published, digest=True, due=timezone.now()
    )
    return {"reader": reader, "published": published, "removed": removed,
            "as_guest": as_guest, "reply": reply}


def test_the_file_holds_the_accounts_comments_profile_and_mail(world):
    data = personal_data(subject_for_user(world["reader"]))

    assert data["format"] == FORMAT
    assert [name for name, _ in SECTIONS] == list(data)[3:]
    assert data["account"]["email"] == "ann@example.com"
    assert data["email_addresses"] == [
        {"email": "ann@example.com", "verified": True, "primary": True}
    ]
    [profile] = data["profile"]
    assert profile["display_name"] == "Ann Reader" and profile["account"] is True
    assert "notes" not in profile
    comments = {row["id"]: row for row in data["comments"]}
    assert set(comments) == {
        world["published"].pk, world["removed"].pk, world["as_guest"].pk
    }
    first = comments[world["published"].pk]
    assert first["body"] == "Ann's first word."
    assert first["status"] == "published" and first["parent_id"] is None
    assert first["ip_address"] == "192.0.2.10" and first["user_agent"] == "Ann's browser"
    assert first["url"] == f"https://news.example.org{world['published'].get_absolute_url()}"
    assert first["article_url"] == f"https://news.example.org{world['published'].article.get_absolute_url()}"
    assert first["created"] is not None
    removed = comments[world["removed"].pk]
    assert (removed["status"], removed["removal_reason"], removed["url"]) == (
        "removed", "off_topic", None
    )
    assert data["moderation_decisions"] == [
        {"comment_id": world["removed"].pk, "status": "removed", "reason": "off_topic",
         "created": data["moderation_decisions"][0]["created"]}
    ]
    [filed] = data["reports_filed"]
    assert filed["comment_id"] == world["reply"].pk
    assert filed["detail"] == "Ann thinks this is spam."
    [received] = data["reports_on_your_comments"]
    assert set(received) == {"comment_id", "reason", "created", "resolved"}
    assert received["reason"] == "abuse"
    assert data["reply_subscriptions"][0]["comment_id"] == world["published"].pk
    assert data["reply_mail_preferences"] == [
        {"subscribe_by_default": True, "frequency": "daily"}
    ]
    assert data["reply_notices"][0]["reply_id"] == world["reply"].pk


def test_the_file_never_holds_other_peoples_data(world):
    text = personal_data_json(subject_for_user(world["reader"]))

    for other in OTHERS:
        assert other not in text
    assert "Someone else entirely." not in text
    assert "carla@example.com" not in text


def test_an_unverified_address_brings_no_guest_comments(world):
    reader = make_reader(email="mallory@example.com", verified=False)
    make_comment(world["published"].article, author_email="mallory@example.com",
                 body="Written by whoever typed the address.")

    data = personal_data(subject_for_user(reader))

    assert data["comments"] == []


def test_a_guests_file_holds_their_confirmed_comments_and_waiting_ones(world):
    article = world["published"].article
    guest = services.commenter_for_email(email="gus@example.com", display_name="Gus")
    confirmed = make_comment(article, commenter=guest, author_name="Gus",
                             author_email="gus@example.com", body="Gus confirmed.")
    typed = make_comment(article, author_name="Gus", author_email="GUS@example.com",
                         body="Gus before confirming.")
    UnconfirmedComment.objects.create(
        article=article, author_name="Gus", author_email="gus@example.com",
        body="Gus waiting.", ip_address="192.0.2.77", created=timezone.now(), nonce="n",
    )

    data = personal_data(subject_for_guest(guest))

    assert data["account"] is None and data["email_addresses"] == []
    assert data["profile"][0]["email"] == "gus@example.com"
    assert {row["id"] for row in data["comments"]} == {confirmed.pk, typed.pk}
    assert data["unconfirmed_comments"][0]["body"] == "Gus waiting."
    assert data["reports_filed"] == []


def test_the_file_is_read_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    article = world["published"].article
    commenter = world["reader"].commenter
    for n in range(30):
        make_comment(article, commenter=commenter, author_email="ann@example.com",
                     body=f"More {n}.")

    with django_assert_max_num_queries(16):
        text = personal_data_json(subject_for_user(world["reader"]))

    assert len(json.loads(text)["comments"]) == 33


def test_the_file_holds_earlier_texts_recommendations_and_the_published_mail_choice(world):
    from comments.models import CommentRevision, DecisionMailPreference, Recommendation

    commenter = world["reader"].commenter
    mine = world["published"]
    theirs = make_comment(mine.article, body="Someone else's word.")
    CommentRevision.objects.create(comment=mine, body="Ann's first draft.", edited=timezone.now())
    CommentRevision.objects.create(comment=theirs, body="Not Ann's draft.", edited=timezone.now())
    Recommendation.objects.create(comment=theirs, commenter=commenter)
    DecisionMailPreference.objects.create(commenter=commenter, published=False)

    data = json.loads(personal_data_json(subject_for_user(world["reader"])))

    assert [row["body"] for row in data["revisions"]] == ["Ann's first draft."]
    assert [row["comment_id"] for row in data["recommendations"]] == [theirs.pk]
    assert data["decision_mail_preferences"] == [{"published_mail": False}]
