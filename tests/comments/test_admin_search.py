import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments.admin_search import (
    COMMENT_FIELDS,
    SEARCH_MAX_LENGTH,
    Search,
    search_parse,
    search_queryset,
)
from comments.models import Comment, Commenter, Report
from tests.factories import make_article, make_comment, make_reader

CHANGELIST = reverse("admin:comments_comment_changelist")
QUEUE = reverse("admin:comments_commentqueue_changelist")
REPORTS = reverse("admin:comments_report_changelist")
COMMENTERS = reverse("admin:comments_commenter_changelist")


def listed(client, url, query) -> set[int]:
    response = client.get(url, {"q": query})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


# The parser


def test_words_and_quoted_phrases():
    search = search_parse('budget "City  council" e-mail')

    assert search.phrases == (("budget",), ("City", "council"), ("e", "mail"))
    assert search.emails == search.addresses == ()
    assert search.words == ["budget", "City", "council", "e", "mail"]


def test_curly_quotes_make_a_phrase_too():
    assert search_parse("“city council” „harbour front“").phrases == (
        ("city", "council"),
        ("harbour", "front"),
    )


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("Jane@Example.org", "Jane@Example.org"),
        ("<jane@example.org>,", "jane@example.org"),
        ("jane@example.org.", "jane@example.org"),
    ],
)
def test_an_email_address_is_one_term(text, email):
    assert search_parse(text) == Search(emails=(email,), blank=False)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("(198.51.100.7)", "198.51.100.7"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_an_ip_address_is_one_term_written_as_stored(text, address):
    assert search_parse(text) == Search(addresses=(address,), blank=False)


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        # Not an address: the words of it, in sequence.
        ("@example.org", (("example", "org"),)),
        ("jane@example", (("jane", "example"),)),
        ("198.51.100", (("198", "51", "100"),)),
        ("fe80::1%eth0", (("fe80", "1", "eth0"),)),
        # Quoted, an address is text to find in the body.
        ('"jane@example.org"', (("jane", "example", "org"),)),
        # An unbalanced quote: the words.
        ('"city council', (("city",), ("council",))),
        ('city" council', (("city",), ("council",))),
        # Control characters are spaces.
        ("city\x00council\x1b[0m", (("city",), ("council",), ("0m",))),
        # The same term twice is one term.
        ("Budget budget budget", (("Budget",), ("budget",))),
    ],
)
def test_other_terms_are_words(text, phrases):
    search = search_parse(text)

    assert search.phrases == phrases
    assert search.emails == search.addresses == ()


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\x00"])
def test_blank_text_is_no_search(text):
    search = search_parse(text)

    assert search.blank
    assert not search


@pytest.mark.parametrize("text", [".*(", '""', '"  "', "!!! ???", "-- ;", "\\"])
def test_text_without_a_term_is_a_search_for_nothing(text):
    search = search_parse(text)

    assert not search.blank
    assert not search


def test_long_text_is_cut_at_a_space():
    words = [f"w{n}" for n in range(3000)]

    search = search_parse(" ".join(words))

    kept = search.words
    assert kept == words[: len(kept)]
    assert len(" ".join(kept)) <= SEARCH_MAX_LENGTH
    assert len(kept) > 50


def test_one_very_long_word_is_cut_to_the_limit():
    search = search_parse("a" * 10_000)

    assert search.phrases == (("a" * SEARCH_MAX_LENGTH,),)


# The comment list and the queue


@pytest.fixture
def article(db):
    return make_article()


def pending(article, **fields):
    """A comment listed both in the comment list and in the moderators' queue."""
    return make_comment(article, status=Comment.Status.PENDING, **fields)


@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_a_word_matches_whole_words_only(mod_client, article, url):
    rude = pending(article, body="Sit down, you ass.")
    pending(article, body="A class act, and a passable one.")
    name = pending(article, author_name="Ass Man", body="Hello.")

    assert listed(mod_client, url, "ass") == {rude.pk, name.pk}
    assert listed(mod_client, url, "ASS") == {rude.pk, name.pk}
    assert listed(mod_client, url, "clas") == set()


@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_a_quoted_phrase_matches_its_words_in_sequence(mod_client, article, url):
    plain = pending(article, body="The city council met today.")
    punctuated = pending(article, body="Ask the CITY, council or mayor.")
    reversed_ = pending(article, body="The council of the city met.")
    possessive = pending(article, body="The city's council met.")
    pending(article, body="The cities' councils met.")

    assert listed(mod_client, url, '"city council"') == {plain.pk, punctuated.pk}
    # Unquoted, the words in any order.
    assert listed(mod_client, url, "city council") == {
        plain.pk,
        punctuated.pk,
        reversed_.pk,
        possessive.pk,
    }
    # An unbalanced quote: the words.
    assert listed(mod_client, url, '"council city') == listed(mod_client, url, "city council")


def test_letters_beyond_ascii_are_letters_in_words_and_in_case(mod_client, article):
    street = pending(article, body="Die Straße ist gesperrt.")
    tram = pending(article, body="Die Straßenbahn fährt nicht.")
    greek = pending(article, body="Ψηφίζουμε ΣΉΜΕΡΑ.")

    assert listed(mod_client, CHANGELIST, "STRAßE") == {street.pk}
    assert listed(mod_client, CHANGELIST, "straße") == {street.pk}
    assert listed(mod_client, CHANGELIST, "straßenbahn FÄHRT") == {tram.pk}
    assert listed(mod_client, CHANGELIST, "fähr") == set()
    assert listed(mod_client, CHANGELIST, "σήμερα") == {greek.pk}


@pytest.mark.parametrize(
    ("body", "query", "found"),
    [
        ("A <script>alert(1)</script> in a comment", "script", True),
        ("Pi is 3.14 or so", "14", True),
        ("Pi is 3.14 or so", "3.14", True),
        ("Visit example.org now", "org", True),
        ("Write to jane@example.org", "jane", True),
        ("Minus -5 degrees", "5", True),
        ("Send an e-mail", "email", False),
        ("Send an e-mail", "e-mail", True),
        ("Send an e-mail", '"e mail"', True),
        ("Send an email", "e-mail", False),
        ("Call foo_bar()", "bar", False),
        ("Call foo_bar()", "foo_bar", True),
        ("Rock &amp; roll", "amp", True),
        ("See https://example.org/a/path?x=1", "path", True),
        ("Don't", "don't", True),
        ("Don't", "dont", False),
        ("Price: $5.*(", ".*(", False),
        ("Price: $5.*(", "5", True),
        ("x" * 50 + " tail", "x" * 50, True),
    ],
)
def test_the_same_words_are_found_on_every_database(mod_client, article, body, query, found):
    """On PostgreSQL the full-text index must not miss a word the regular expression finds."""
    comment = pending(article, body=body)

    assert listed(mod_client, CHANGELIST, query) == ({comment.pk} if found else set())


@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_an_email_finds_exactly_that_address(mod_client, article, url):
    jane = pending(article, author_email="jane@example.org")
    shouting = pending(article, author_email="JANE@EXAMPLE.ORG")
    pending(article, author_email="xjane@example.org")
    pending(article, author_email="jane@example.org.evil")
    pending(article, author_email="jane@example.net")
    mentioned = pending(article, body="Write to jane@example.org")

    assert listed(mod_client, url, "Jane@Example.org") == {jane.pk, shouting.pk}
    assert listed(mod_client, url, '"jane@example.org"') == {mentioned.pk}
    assert listed(mod_client, url, "@example.org") == {mentioned.pk}


def test_an_email_finds_the_comments_of_the_commenter_with_that_address_now(mod_client, article):
    account = make_reader(email="jane.new@example.org")
    moved = pending(article, author_email="jane.old@example.org", commenter=account.commenter)
    guest = Commenter.objects.create(email="guest@example.org", display_name="G", handle="g")
    guests = pending(article, author_email="Guest@example.org", commenter=guest)
    pending(article, author_email="someone@example.org")

    assert listed(mod_client, CHANGELIST, "JANE.NEW@example.org") == {moved.pk}
    assert listed(mod_client, CHANGELIST, "jane.old@example.org") == {moved.pk}
    assert listed(mod_client, CHANGELIST, "guest@example.org") == {guests.pk}


@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_an_ip_address_finds_exactly_that_address(mod_client, article, url):
    four = pending(article, ip_address="203.0.113.7")
    pending(article, ip_address="203.0.113.70")
    six = pending(article, ip_address="2001:db8::1")
    pending(article, ip_address="2001:db8::10")
    text = pending(article, body="From 203.0.113.7, they say.")

    assert listed(mod_client, url, "203.0.113.7") == {four.pk}
    assert listed(mod_client, url, "2001:DB8:0:0:0:0:0:1") == {six.pk}
    assert listed(mod_client, url, "[2001:db8::1]") == {six.pk}
    assert listed(mod_client, url, '"203.0.113.7"') == {text.pk}
    assert listed(mod_client, url, "203.0.113") == {text.pk}


def test_every_term_must_match(mod_client, article):
    wanted = pending(
        article,
        body="The city council met.",
        author_name="Ana Petrosyan",
        author_email="ana@example.org",
        ip_address="198.51.100.4",
    )
    pending(
        article,
        body="The city council met.",
        author_name="Ana Petrosyan",
        author_email="ana@example.org",
        ip_address="198.51.100.5",
    )
    pending(
        article,
        body="The council met in the city.",
        author_email="ana@example.org",
        ip_address="198.51.100.4",
    )

    query = '"city council" petrosyan ana@example.org 198.51.100.4'
    assert listed(mod_client, CHANGELIST, query) == {wanted.pk}
    assert listed(mod_client, QUEUE, query) == {wanted.pk}


def test_the_queue_searches_only_what_awaits_review(mod_client, article):
    waiting = pending(article, body="A harbour story.")
    make_comment(article, body="Another harbour story.")

    assert listed(mod_client, QUEUE, "harbour") == {waiting.pk}
    assert len(listed(mod_client, CHANGELIST, "harbour")) == 2


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        '"',
        '"""',
        ".*(",
        "(?<!",
        "[[:alpha:]]",
        "\\",
        "\\m\\M",
        "' OR 1=1 --",
        "%_%",
        "a" * 10_000,
        "x " * 5_000,
        '"' + "y " * 5_000,
        "@",
        "a@b@c",
        "::",
        "999.999.999.999",
        "\u202e\u200b",
        "\U0001f600 smile",
    ],
)
@pytest.mark.parametrize("url", [CHANGELIST, QUEUE, REPORTS, COMMENTERS])
def test_any_text_gives_a_page(mod_client, article, url, query):
    pending(article, body="Price: $5.*( (?<! [[:alpha:]] \\ smile", author_name="x")

    response = mod_client.get(url, {"q": query})

    assert response.status_code == 200


def test_text_without_a_term_finds_nothing_and_stays_in_the_box(mod_client, article):
    pending(article, body="Price: $5.*(")

    response = mod_client.get(CHANGELIST, {"q": ".*("})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert 'value=".*("' in response.content.decode()


def test_a_nul_character_is_refused_before_the_search(mod_client, article):
    response = mod_client.get(CHANGELIST, {"q": "city\x00council"})

    assert response.status_code == 400


def test_a_nul_character_reaching_the_search_is_a_space(article):
    comment = pending(article, body="The city council met.")

    found = search_queryset(Comment.objects.all(), "city\x00council", COMMENT_FIELDS)

    assert list(found) == [comment]


def test_the_search_box_explains_the_syntax(mod_client, article):
    html = mod_client.get(CHANGELIST).content.decode()

    assert "quoted phrase" in html
    assert "email or IP address" in html


@pytest.mark.parametrize(
    "query", ["harbour", '"harbour story" told now', "ana@example.org", "198.51.100.4"]
)
@pytest.mark.parametrize("url", [CHANGELIST, QUEUE])
def test_a_search_does_a_fixed_number_of_queries(
    mod_client, article, url, query, django_assert_max_num_queries
):
    def matching(n):
        for _ in range(n):
            pending(
                article,
                body="A harbour story told now.",
                author_email="ana@example.org",
                ip_address="198.51.100.4",
            )

    matching(1)
    with CaptureQueriesContext(connection) as unsearched:
        assert mod_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        assert len(listed(mod_client, url, query)) == 1

    matching(30)
    # The search's own: the total the list shows beside the matches, and for an email the
    # commenters with that address.
    with django_assert_max_num_queries(len(unsearched) + 2):
        assert len(listed(mod_client, url, query)) == 31
    assert len(few) <= len(unsearched) + 2


# The reports and the commenters


def test_reports_search_whole_words_of_the_report_and_its_comment(mod_client, article):
    rude = make_comment(
        article,
        body="Sit down, you ass.",
        author_email="rude@example.org",
        ip_address="203.0.113.9",
    )
    polite = make_comment(article, body="A class act.")
    on_rude = Report.objects.create(comment=rude, reason="abuse", reporter="ip:1")
    on_polite = Report.objects.create(
        comment=polite,
        reason="other",
        reporter="ip:2",
        detail="Not abusive, just classy",
        ip_address="198.51.100.2",
    )

    assert listed(mod_client, REPORTS, "ass") == {on_rude.pk}
    assert listed(mod_client, REPORTS, "abusive") == {on_polite.pk}
    assert listed(mod_client, REPORTS, "class") == {on_polite.pk}
    assert listed(mod_client, REPORTS, "RUDE@example.org") == {on_rude.pk}
    assert listed(mod_client, REPORTS, "xrude@example.org") == set()
    assert listed(mod_client, REPORTS, "203.0.113.9") == {on_rude.pk}
    assert listed(mod_client, REPORTS, "198.51.100.2") == {on_polite.pk}


def test_commenters_search_by_whole_words_and_exact_email(mod_client):
    jane = make_reader(email="jane@example.org", display_name="Jane Doe").commenter
    make_reader(email="xjane@example.org", display_name="Janet Doe")
    make_reader(email="jane@example.org.evil", display_name="Evil Twin")
    guest = Commenter.objects.create(email="Guest@Example.org", display_name="G", handle="gst")

    assert listed(mod_client, COMMENTERS, "JANE@example.org") == {jane.pk}
    assert listed(mod_client, COMMENTERS, "guest@example.org") == {guest.pk}
    assert listed(mod_client, COMMENTERS, "jane") == {jane.pk}
    assert listed(mod_client, COMMENTERS, "example.org") == set()
    assert listed(mod_client, COMMENTERS, "198.51.100.1") == set()


# PostgreSQL's index


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_words_are_looked_up_in_the_full_text_index(article):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    pending(article, body="A harbour story.")
    searches = {
        "harbour story": "comment_search_document_idx",
        "ana@example.org": "comment_author_email_lower_idx",
        "198.51.100.4": "comment_ip_address_idx",
    }
    with connection.cursor() as cursor:
        # A table this small is read whole otherwise.
        cursor.execute("SET LOCAL enable_seqscan = off")
    for query, index in searches.items():
        found = search_queryset(Comment.objects.order_by(), query, COMMENT_FIELDS)
        assert index in found.explain()
