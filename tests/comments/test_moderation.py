import pytest
from django.utils import timezone

from comments.models import BannedPhrase, BlockedCommenter, Comment, ModerationPolicy
from comments.moderation import (
    BLOCKED_MESSAGE,
    REFUSED_MESSAGE,
    Reason,
    comment_screen,
    is_duplicate,
    normalized_body,
)
from comments.services import commenter_for_email
from tests.factories import make_article, make_comment, make_reader

pytestmark = pytest.mark.django_db


def screen(article=None, *, name="Reader", email="reader@example.com", ip="192.0.2.10",
           body="A fair point.", commenter=None):
    return comment_screen(
        article=article or make_article(),
        author_name=name,
        author_email=email,
        ip_address=ip,
        body=body,
        commenter=commenter,
    )


def set_mode(mode):
    policy = ModerationPolicy.current()
    policy.mode = mode
    policy.save()


def test_an_ordinary_comment_is_published():
    verdict = screen()

    assert verdict.status == Comment.Status.PUBLISHED
    assert verdict.refused == ""
    assert verdict.reasons == []


# Banned words and phrases


@pytest.mark.parametrize(
    ("phrase", "body", "matches"),
    [
        ("idiot", "You are an idiot.", True),
        ("idiot", "You are an IDIOT!", True),
        ("idiot", "Idiots, all of them.", False),
        ("ass", "Go back to class.", False),
        ("ass", "What an ass", True),
        ("straße", "DIE STRASSE IST ZU", True),
        ("STRASSE", "die Straße ist zu", True),
        ("dirty liar", "a Dirty\n  LIAR indeed", True),
        ("dirty liar", "dirty and a liar", False),
        ("ＫＧＢ", "the kgb manual", True),
        ("f*ck", "oh f*ck it", True),
        ("f*ck", "oh fuck it", False),
    ],
)
def test_banned_phrases_match_whole_words_case_folded(phrase, body, matches):
    BannedPhrase.objects.create(phrase=phrase, action=BannedPhrase.Action.HOLD)

    verdict = screen(body=body)

    assert (verdict.status == Comment.Status.PENDING) is matches
    assert (Reason("phrase", phrase) in verdict.reasons) is matches


def test_a_refusing_phrase_refuses_politely_even_after_a_holding_one():
    BannedPhrase.objects.create(phrase="aardvark", action=BannedPhrase.Action.HOLD)
    BannedPhrase.objects.create(phrase="scum", action=BannedPhrase.Action.REFUSE)

    verdict = screen(body="An aardvark is no SCUM.")

    assert verdict.refused == REFUSED_MESSAGE
    assert verdict.reasons == [Reason("refused_phrase", "scum")]


def test_a_blank_phrase_matches_nothing():
    BannedPhrase.objects.create(phrase="   ", action=BannedPhrase.Action.REFUSE)

    assert screen().status == Comment.Status.PUBLISHED


# Blocked commenters


@pytest.mark.parametrize(
    ("kind", "value", "given"),
    [
        ("email", "Troll@Example.com", {"email": "tROLL@example.COM"}),
        ("ip", "198.51.100.9", {"ip": "198.51.100.9"}),
        ("ip", "2001:DB8:0:0::1", {"ip": "2001:db8::1"}),
        ("name", "Groß Troll", {"name": "GROSS   troll"}),
    ],
)
def test_blocked_commenters_are_refused_with_a_polite_message(kind, value, given):
    BlockedCommenter.objects.create(kind=kind, value=value)

    verdict = screen(**given)

    assert verdict.refused == BLOCKED_MESSAGE
    assert "Sorry" in verdict.refused


def test_a_block_on_one_kind_does_not_catch_another():
    BlockedCommenter.objects.create(kind="name", value="reader@example.com")
    BlockedCommenter.objects.create(kind="email", value="someone@example.com")

    assert screen(name="Someone", email="reader@example.com").refused == ""



# Look-alike spellings: invisible characters, compatibility forms, homoglyphs


@pytest.mark.parametrize(
    "body",
    [
        "you id\u200biot",  # zero-width space
        "you id\u00adiot",  # soft hyphen
        "you id\ufeffiot",  # zero-width no-break space
        "you ｉｄｉｏｔ",  # fullwidth letters
        "you \u0456d\u0456\u043et",  # Cyrillic і and о
        "you \u0131d\u0131ot",  # dotless ı
    ],
)
def test_banned_phrases_match_through_look_alike_spellings(body):
    BannedPhrase.objects.create(phrase="idiot", action=BannedPhrase.Action.REFUSE)

    assert screen(body=body).refused == REFUSED_MESSAGE


def test_a_phrase_written_with_look_alikes_matches_the_plain_spelling():
    BannedPhrase.objects.create(phrase="\u0456d\u200biot", action=BannedPhrase.Action.REFUSE)

    assert screen(body="what an idiot").refused == REFUSED_MESSAGE


@pytest.mark.parametrize(
    "name",
    [
        "Spam\u200bmer",
        "Spam\u00admer",
        "Ｓｐａｍｍｅｒ",
        "\u0405pamm\u0435r",  # Cyrillic Ѕ and е
        "Spa\u200dmmer\ufe0f",
    ],
)
def test_blocked_names_match_through_look_alike_spellings(name):
    BlockedCommenter.objects.create(kind="name", value="Spammer")

    assert screen(name=name).refused == BLOCKED_MESSAGE


@pytest.mark.parametrize(
    ("blocked", "given"),
    [
        ("troll@bücher.example", "troll@xn--bcher-kva.example"),
        ("troll@xn--bcher-kva.example", "troll@bücher.example"),
        ("troll@bücher.example", "troll@bu\u0308cher.example"),  # decomposed (NFD) ü
        ("troll@bu\u0308cher.example", "TROLL@BÜCHER.EXAMPLE"),
    ],
)
def test_blocked_email_domains_match_in_punycode_and_decomposed_forms(blocked, given):
    BlockedCommenter.objects.create(kind="email", value=blocked)

    assert screen(email=given).refused == BLOCKED_MESSAGE


def test_look_alike_folding_does_not_block_a_different_name():
    BlockedCommenter.objects.create(kind="name", value="Spammer")

    assert screen(name="Spanner").refused == ""


# Links


def test_a_comment_with_hold_links_or_more_links_is_held(settings):
    settings.COMMENTS_HOLD_LINKS = 2
    one = "See https://example.com for more."
    two = "See https://example.com and www.example.org."

    assert screen(body=one).status == Comment.Status.PUBLISHED
    verdict = screen(body=two)
    assert verdict.status == Comment.Status.PENDING
    assert verdict.reasons == [Reason("links", "2")]


def test_hold_links_zero_turns_the_rule_off(settings):
    settings.COMMENTS_HOLD_LINKS = 0

    assert screen(body="http://a.example http://b.example http://c.example").status == "published"



@pytest.mark.parametrize(
    "body",
    [
        'https://a.example/"https://b.example/',
        "<https://a.example/><https://b.example/>",
        "https://a.example/'https://b.example/",
    ],
)
def test_links_glued_together_count_as_the_links_they_render_as(settings, body):
    settings.COMMENTS_HOLD_LINKS = 2

    verdict = screen(body=body)

    assert verdict.status == Comment.Status.PENDING
    assert verdict.reasons == [Reason("links", "2")]


# Pre-moderation and first-comment moderation


def test_a_premoderated_article_holds_every_comment():
    verdict = screen(make_article(premoderated=True))

    assert verdict.status == Comment.Status.PENDING
    assert verdict.reasons == [Reason("article_premoderated")]


def test_site_wide_premoderation_holds_every_comment():
    set_mode(ModerationPolicy.Mode.PREMODERATE)

    verdict = screen()

    assert verdict.status == Comment.Status.PENDING
    assert verdict.reasons == [Reason("site_premoderated")]


def test_first_comment_moderation_holds_until_one_comment_is_approved():
    set_mode(ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    commenter = commenter_for_email(email="new@example.com", display_name="New")

    verdict = screen(article, email="new@example.com", commenter=commenter)
    assert verdict.status == Comment.Status.PENDING
    assert verdict.reasons == [Reason("first_comment")]

    held = make_comment(article, commenter=commenter, status="pending")
    assert screen(article, commenter=commenter).status == Comment.Status.PENDING

    held.status = Comment.Status.PUBLISHED
    held.moderated_at = timezone.now()
    held.save()
    assert screen(article, commenter=commenter).status == Comment.Status.PUBLISHED
    other = commenter_for_email(email="other@example.com", display_name="Other")
    assert screen(article, commenter=other).status == Comment.Status.PENDING


def test_first_comment_moderation_trusts_a_comment_published_on_the_site_before():
    set_mode(ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    regular, imported, removed = (
        commenter_for_email(email=f"{who}@example.com", display_name=who)
        for who in ("regular", "imported", "removed")
    )
    make_comment(article, commenter=regular)
    make_comment(article, commenter=imported, import_key="3")
    make_comment(article, commenter=removed, status="removed")

    assert screen(article, commenter=regular).status == Comment.Status.PUBLISHED
    assert screen(article, commenter=imported).status == Comment.Status.PENDING
    assert screen(article, commenter=removed).status == Comment.Status.PENDING
    assert screen(article, email="").status == Comment.Status.PENDING


def test_an_account_is_trusted_once_one_of_its_comments_is_approved():
    set_mode(ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    reader = make_reader()
    make_comment(article, commenter=reader.commenter, status="pending")
    assert screen(article, commenter=reader.commenter).status == Comment.Status.PENDING

    Comment.objects.filter(commenter=reader.commenter).update(
        status=Comment.Status.PUBLISHED, moderated_at=timezone.now()
    )
    assert screen(article, commenter=reader.commenter).status == Comment.Status.PUBLISHED


def test_a_typed_email_earns_no_trust_whatever_was_approved_under_it():
    """Anyone can type anyone's address: approvals count for verified identities only."""
    set_mode(ModerationPolicy.Mode.FIRST_COMMENT)
    article = make_article()
    trusted = commenter_for_email(email="trusted@example.com", display_name="Trusted")
    make_comment(article, author_email="trusted@example.com", commenter=trusted,
                 moderated_at=timezone.now())
    make_comment(article, author_email="guest@example.com", moderated_at=timezone.now())

    assert screen(article, email="trusted@example.com").status == Comment.Status.PENDING
    assert screen(article, email="guest@example.com").status == Comment.Status.PENDING
    assert screen(article, email="trusted@example.com",
                  commenter=trusted).status == Comment.Status.PUBLISHED


def test_reasons_add_up():
    BannedPhrase.objects.create(phrase="rubbish")
    set_mode(ModerationPolicy.Mode.PREMODERATE)

    verdict = screen(make_article(premoderated=True), body="Rubbish: http://a.example http://b.example")

    assert verdict.reasons == [
        Reason("phrase", "rubbish"),
        Reason("links", "2"),
        Reason("article_premoderated"),
        Reason("site_premoderated"),
    ]
    assert [reason.label for reason in verdict.reasons] == [
        "Held phrase: rubbish",
        "Links: 2",
        "Article pre-moderated",
        "Site pre-moderated",
    ]


# A fixed number of queries


def test_screening_does_at_most_five_queries_whatever_the_number_of_rules(
    django_assert_num_queries,
):
    article = make_article()
    for n in range(30):
        BannedPhrase.objects.create(phrase=f"word{n}")
        BlockedCommenter.objects.create(kind="email", value=f"blocked{n}@example.com")
    set_mode(ModerationPolicy.Mode.FIRST_COMMENT)
    someone = commenter_for_email(email="someone@example.com", display_name="Someone")
    for _ in range(10):
        make_comment(article, commenter=someone, status="pending")

    # The policy, the rules, the article's watch phrases, the blocks, the commenter's approvals.
    with django_assert_num_queries(5):
        screen(article, email="someone@example.com", commenter=someone)
    set_mode(ModerationPolicy.Mode.OPEN)
    # The phrase matcher compiled at the first screening is kept while the rules stay.
    with django_assert_num_queries(3):
        screen(article)
    with django_assert_num_queries(1):
        screen(article, email="blocked3@example.com")


# Duplicates


def test_normalized_body_folds_case_and_white_space():
    assert normalized_body("  Hello\n\tWORLD  ") == "hello world"


def test_a_repost_with_a_line_added_is_a_duplicate():
    first = "MR. President i will never ever trust Russia"
    assert is_duplicate(first + "\nsurvive there is no outer way", [first])
    assert is_duplicate(first.upper(), [first])
    assert not is_duplicate("Something else entirely.", [first])
    assert not is_duplicate("   ", [first])
