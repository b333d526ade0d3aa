"""The article file parser, on the seeds and on files written here. No database."""

import time
from pathlib import Path

import pytest

from articles.importer import Block, ParseError, article_parse

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"


def seed(name: str):
    return article_parse((SEEDS / name).read_bytes())


def text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def structure(article) -> list[tuple[str, int, str]]:
    return [(c.key, c.depth, c.author) for c in article.walk()]


# Each seed's comment count and deepest reply level (None when it has no comments).
SEED_TABLE = {
    "000_d0250cf769dc7508.txt": (11, 2),
    "001_72096f80cf22903d.txt": (6, 1),
    "002_d5e8f4d8fcec2834.txt": (15, 2),
    "003_3276b30b763cc5a2.txt": (0, None),
    "004_de28ef22d8f50bdd.txt": (7, 1),
}


@pytest.mark.parametrize(("name", "expected"), SEED_TABLE.items())
def test_seed_comment_count_and_depth(name, expected):
    article = seed(name)
    comments = list(article.walk())
    assert (len(comments), max((c.depth for c in comments), default=None)) == expected
    assert article.comment_count == expected[0]


def test_seeds_are_all_in_the_table():
    assert sorted(p.name for p in SEEDS.glob("*.txt")) == sorted(SEED_TABLE)
    assert sum(seed(name).comment_count for name in SEED_TABLE) == 39


def test_seed_000_dateline_caption_policy_and_nesting():
    article = seed("000_d0250cf769dc7508.txt")
    assert article.title == "Sarkisian Concerned over Russian Arms Sales to Baku"
    assert (article.location, article.agency) == ("BUENOS AIRES", "RFE/RL")
    assert article.captions == (
        "President Serzh Sarkisian at an official reception at the Congress of Argentina. "
        "July 7, 2014.",
    )
    assert article.body[0].text.startswith("President Serzh Sarkisian has reportedly voiced")
    assert len(article.body) == 9
    assert all(block.kind == "paragraph" for block in article.body)
    assert article.discussion_policy.startswith("Comments are welcomed and encouraged.")
    assert article.discussion_policy.endswith("posting standards and policies.")
    assert structure(article)[:6] == [
        ("1", 0, "Armenian"),
        ("2", 0, "ohannes boghossian"),
        ("3", 0, "Ararat"),
        ("3.1", 1, "Armenian"),
        ("3.1.1", 2, "Ararat"),
        ("4", 0, "ohannes boghossian"),
    ]
    ararat = article.comments[2]
    assert ararat.line == 40
    assert ararat.body.count("\n\n") == 5  # six paragraphs
    assert ararat.replies[0].replies[0].body.startswith("I am not rationalizing")


def test_seed_000_keeps_the_authors_line_breaks_and_the_repost():
    article = seed("000_d0250cf769dc7508.txt")
    second, fourth = article.comments[1], article.comments[3]
    assert second.body.split("\n") == [
        "MR. President i will never ever trust Russia or Putin look Ukraine he sold",
        "hes on people in Eastern Ukraine in no time and he will sell Armenia in one minute",
        "the only people you can trust Armenians call your people home stop the corruption",
        "bring law and order make Armenian home of all the Armenians this is the only way we can",
    ]
    assert fourth.body == second.body + "\nsurvive there is no outer way MR.President"


def test_seed_001_repeated_caption_kept_once_and_subheading_in_place():
    article = seed("001_72096f80cf22903d.txt")
    assert article.captions == (
        "President Serzh Sarkisian (right) discusses Artsakh with Russian Prime Minister "
        "Dmitry Medvedev",
    )
    assert (article.location, article.agency) == ("YEREVAN", "RFE/RL")
    headings = [i for i, block in enumerate(article.body) if block.kind == "heading"]
    assert headings == [9]
    assert article.body[9].text == "Armenia Blasts Kazakhstan Over Summit Cancellation"
    assert article.body[8].text.startswith("Medvedev proceeded to Baku on Friday.")
    assert article.body[10].text.startswith("Armenia has accused Kazakhstan")
    assert structure(article)[3:] == [
        ("4", 0, "Harutik"),
        ("4.1", 1, "Tavit"),
        ("4.2", 1, "Raffi"),
    ]
    assert article.comments[0].author == "Arn.Sweden."
    assert article.comments[0].body == (
        "Well ? could Iran be an alternative to Russia ?\n"
        "Do Russia realy want an Panturkish State in its underbelly ?"
    )


def test_seed_002_numbers_one_to_ten_and_nested_replies():
    article = seed("002_d5e8f4d8fcec2834.txt")
    assert [c.key for c in article.comments] == [str(n) for n in range(1, 11)]
    assert [key for key, _, _ in structure(article) if "." in key] == [
        "7.1", "7.2", "7.3", "7.3.1", "8.1",
    ]
    assert article.comments[6].replies[1].author == "H. Boghossian"
    assert article.captions == (
        "Russian President Vladimir Putin with Azerbaijani President Ilham Aliyev",
    )


def test_seed_003_metadata_and_one_paragraph_per_line():
    article = seed("003_3276b30b763cc5a2.txt")
    lines = (SEEDS / "003_3276b30b763cc5a2.txt").read_text().splitlines()
    assert article.title == "Russia’s Arms Sales: A Foreign Policy Tool in Relations With " \
        "Azerbaijan and Armenia"
    assert (article.publication, article.volume, article.issue) == (
        "Eurasia Daily Monitor", "15", "47",
    )
    assert article.byline == ""
    assert (article.location, article.agency, article.captions) == ("", "", ())
    assert [block.text for block in article.body] == lines[3:]
    assert {block.kind for block in article.body} == {"paragraph"}
    assert (article.discussion_policy, article.comments) == ("", ())


def test_seed_004_agency_with_a_space_and_spaced_dash():
    article = seed("004_de28ef22d8f50bdd.txt")
    assert (article.location, article.agency) == ("MOSCOW", "TASS News")
    assert article.body[0].text.startswith("Moscow is not hiding its military-technical")
    assert structure(article)[:2] == [("1", 0, "Original Armenian"), ("1.1", 1, "joe")]


DEEP = text(
    "A Deep Discussion",
    "",
    "WASHINGTON—The first paragraph.",
    "",
    "  1. Anna said:",
    "",
    "    Top.",
    "",
    "    • Ben said:",
    "",
    "      Depth one.",
    "",
    "      • Cleo said:",
    "",
    "        Depth two.",
    "",
    "        • Dan said:",
    "",
    "          Depth three.",
    "",
    "          • Eve said:",
    "",
    "            Depth four.",
    "",
    "            • Finn said:",
    "",
    "              Depth five.",
    "",
    "        • Gus said:",
    "",
    "          Back to depth three.",
    "",
    "    • Hal said:",
    "",
    "      A second reply to Anna.",
    "",
    "  2. Ida said:",
    "",
    "    Second thread.",
)


def test_deep_nesting_gives_keys_depths_and_parents():
    article = article_parse(DEEP)
    assert structure(article) == [
        ("1", 0, "Anna"),
        ("1.1", 1, "Ben"),
        ("1.1.1", 2, "Cleo"),
        ("1.1.1.1", 3, "Dan"),
        ("1.1.1.1.1", 4, "Eve"),
        ("1.1.1.1.1.1", 5, "Finn"),
        ("1.1.1.2", 3, "Gus"),
        ("1.2", 1, "Hal"),
        ("2", 0, "Ida"),
    ]
    finn = article.comments[0].replies[0].replies[0].replies[0].replies[0].replies[0]
    assert (finn.body, finn.parent_key, finn.line) == ("Depth five.", "1.1.1.1.1", 25)
    assert article.comments[0].parent_key is None
    assert (article.location, article.agency) == ("WASHINGTON", "")


def test_crlf_and_byte_order_mark_parse_like_plain_lf():
    plain = article_parse(DEEP.encode())
    assert article_parse(("\ufeff" + DEEP.replace("\n", "\r\n")).encode("utf-8")) == plain
    assert article_parse(b"\xef\xbb\xbf" + DEEP.encode()) == plain
    assert article_parse("\ufeff" + DEEP) == plain


def test_trailing_spaces_carry_no_meaning():
    spaced = "\n".join(line + "   " for line in DEEP.split("\n"))
    assert article_parse(spaced) == article_parse(DEEP)


def test_names_in_armenian_script_and_free_text_names():
    article = article_parse(text(
        "Հայաստանի նորություններ",
        "",
        "ԵՐԵՎԱՆ (Արմենպրես)—Առաջին պարբերություն։",
        "",
        "  1. Արամ Պետրոսյան said:",
        "",
        "    Բարև։",
        "",
        "    • Անի said:",
        "",
        "      Պատասխան։",
        "",
        "  2. H. Boghossian Jr. said:",
        "",
        "    Hello.",
    ))
    assert structure(article) == [
        ("1", 0, "Արամ Պետրոսյան"),
        ("1.1", 1, "Անի"),
        ("2", 0, "H. Boghossian Jr."),
    ]
    assert (article.location, article.agency) == ("ԵՐԵՎԱՆ", "Արմենպրես")
    assert article.body == (Block("paragraph", "Առաջին պարբերություն։"),)


def test_body_lines_that_look_like_markers_are_body_text():
    article = article_parse(text(
        "Lookalikes",
        "",
        "Body.",
        "",
        "  1. Ann said:",
        "",
        "    My neighbour said: no.",
        "    1. First point",
        "    2. Second point said: twice",
        "    • a bullet of mine",
        "    • Bob said: hello there",
        "    3. Carl said:",
        "",
        "    • Ed said:",
        "",
        "      1. numbered too",
        "      • and a bullet",
    ))
    assert structure(article) == [("1", 0, "Ann"), ("1.1", 1, "Ed")]
    ann = article.comments[0]
    assert ann.body.split("\n") == [
        "My neighbour said: no.",
        "1. First point",
        "2. Second point said: twice",
        "• a bullet of mine",
        "• Bob said: hello there",
        "3. Carl said:",
    ]
    assert ann.replies[0].body == "1. numbered too\n• and a bullet"


def test_several_paragraphs_and_line_breaks_in_a_comment():
    article = article_parse(text(
        "Paragraphs",
        "",
        "Body.",
        "",
        "  1. Ann said:",
        "",
        "    First paragraph,",
        "    broken by the author.",
        "",
        "",
        "    Second paragraph.",
        "",
        "    Third.",
        "",
    ))
    assert article.comments[0].body == (
        "First paragraph,\nbroken by the author.\n\nSecond paragraph.\n\nThird."
    )


def test_policy_with_no_comments():
    article = article_parse(text(
        "Quiet Article",
        "",
        "Only paragraph.",
        "",
        "Discussion Policy",
        "",
        "Be civil.",
        "",
        "Stay on topic.",
    ))
    assert article.discussion_policy == "Be civil.\n\nStay on topic."
    assert article.body == (Block("paragraph", "Only paragraph."),)
    assert article.comments == ()


def test_no_dateline_with_byline_and_publication_without_volume():
    article = article_parse(text(
        "Plain Story",
        "Publication: The Weekly",
        "By: Jane Doe",
        "",
        "The story starts here, with no place name.",
        "",
        "It goes on.",
    ))
    assert (article.publication, article.volume, article.issue) == ("The Weekly", "", "")
    assert article.byline == "Jane Doe"
    assert (article.location, article.agency, article.captions) == ("", "", ())
    assert [block.text for block in article.body] == [
        "The story starts here, with no place name.",
        "It goes on.",
    ]
    assert article.lines == {
        "title": 1, "publication": 2, "volume": 2, "issue": 2, "byline": 3,
    }


@pytest.mark.parametrize(
    ("line", "location", "agency", "first"),
    [
        ("NEW YORK (AP)—Words.", "NEW YORK", "AP", "Words."),
        ("NEW YORK (AP) — Words.", "NEW YORK", "AP", "Words."),
        ("NEW YORK (AP) – Words.", "NEW YORK", "AP", "Words."),
        ("ST. PETERSBURG—Words.", "ST. PETERSBURG", "", "Words."),
        ("KYIV – Words.", "KYIV", "", "Words."),
    ],
)
def test_dateline_forms(line, location, agency, first):
    article = article_parse(text("Title", "", "A caption", "", line, "", "More."))
    assert (article.location, article.agency) == (location, agency)
    assert article.captions == ("A caption",)
    assert article.body[0] == Block("paragraph", first)


def test_a_mixed_case_start_is_not_a_dateline():
    article = article_parse(text("Title", "", "Moscow (TASS)—said nothing.", "", "More."))
    assert (article.location, article.captions) == ("", ())
    assert article.body[0].text == "Moscow (TASS)—said nothing."


@pytest.mark.parametrize(
    "middle",
    [
        "A line that ends like a sentence.",
        "Does it ask?",
        "x" * 101,
    ],
)
def test_what_is_not_a_subheading(middle):
    article = article_parse(text("Title", "", "First.", "", middle, "", "Last."))
    assert [block.kind for block in article.body] == ["paragraph"] * 3


def test_short_first_and_last_lines_are_paragraphs():
    article = article_parse(text("Title", "", "Opening words", "", "Middle.", "", "Closing words"))
    assert [block.kind for block in article.body] == ["paragraph"] * 3


def test_a_subheading_in_a_file_without_blank_lines():
    article = article_parse(text("Title", "One.", "Second Story", "Two."))
    assert [(b.kind, b.text) for b in article.body] == [
        ("paragraph", "One."),
        ("heading", "Second Story"),
        ("paragraph", "Two."),
    ]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 1, "the file is empty"),
        (b"\xef\xbb\xbf", 1, "the file is empty"),
        (b"\n  \r\n\t\n", 1, "the file has only blank lines"),
        (b"Title\n\nBody \xe9t\xe9.\n", 3, "not valid UTF-8 (byte 0xe9)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "not valid UTF-8 (byte 0x89)"),
        (b"GIF89a\x01\x00\x00\x00", 1, "binary content: control character U+0001"),
        (b"Title\n\nBody\x00\n", 3, "binary content: control character U+0000"),
        (b"Title\rBody\r", 1, "a carriage return without a line feed"),
    ],
)
def test_encoding_errors(data, line, reason):
    with pytest.raises(ParseError) as caught:
        article_parse(data)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        (["    • Early said:", "", "      Hi."], 3, "reply has no parent"),
        (
            ["  1. Ann said:", "", "    Hi.", "", "      • Jumper said:"],
            7,
            "reply at depth 2 skips a level: the comment above it is at depth 0",
        ),
        (["  1.  said:", "", "    Hi."], 3, "comment marker has no author"),
        (["  1. said:", "", "    Hi."], 3, "comment marker has no author"),
        (["  1. Ann said:", "", "    •  said:"], 5, "comment marker has no author"),
        (["  1. Ann said:", "", "  3. Bob said:"], 5, "comment number 3 is out of order"),
        (["  2. Ann said:"], 3, "comment number 2 is out of order: expected 1"),
        (["  1. Ann said:", "", "     • Bob said:"], 5, "reply marker indented by 5 spaces"),
    ],
)
def test_discussion_errors_name_the_line(lines, line, reason):
    with pytest.raises(ParseError) as caught:
        article_parse(text("Title", "", *lines))
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)


SPACES = " " * 3000


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Each took 5-50 s in the old regular expressions (backtracking over the spaces).
        (f"Publication: The{SPACES}Weekly", {"publication": f"The{SPACES}Weekly"}),
        (
            f"Publication: The{SPACES}Weekly{SPACES}Volume: 3{SPACES}Issue: 4",
            {"publication": f"The{SPACES}Weekly", "volume": "3", "issue": "4"},
        ),
        (f"A{SPACES}b", {"body": (Block("paragraph", f"A{SPACES}b"),)}),
        (f"AB{SPACES}", {"body": (Block("paragraph", "AB"),)}),
        (f"AB ({SPACES}x", {"body": (Block("paragraph", f"AB ({SPACES}x"),)}),
        (f"CITY{SPACES}— Text.", {"location": "CITY", "body": (Block("paragraph", "Text."),)}),
        (f"  1.{SPACES}x", {"body": (Block("paragraph", f"1.{SPACES}x"),)}),
        (f"{SPACES}•{SPACES}x", {"body": (Block("paragraph", f"•{SPACES}x"),)}),
        (
            "Publication: " + "Volume: " * 400,
            {"publication": "Volume: " * 397 + "Volume:", "volume": "Volume:", "issue": ""},
        ),
    ],
)
def test_long_pathological_lines_parse_in_linear_time(line, expected):
    data = text("Title", line, "", "Closing.") if line.startswith("Publication") else text(
        "Title", "", line, "", "Closing."
    )
    started = time.monotonic()
    for _ in range(10):
        article = article_parse(data)
    # Ten parses: each is a few milliseconds once linear; the old ones took 5 s and more.
    assert time.monotonic() - started < 2
    for name, value in expected.items():
        if name == "body":
            assert article.body[: len(value)] == value
        else:
            assert getattr(article, name) == value


@pytest.mark.parametrize(
    ("text_after_label", "name", "volume", "issue"),
    [
        (" The Weekly", "The Weekly", "", ""),
        (" Weekly Volume: 3 Issue: 4", "Weekly", "3", "4"),
        (" Weekly  Review Volume:3 Issue:4", "Weekly  Review", "3", "4"),
        (" Weekly Volume: Issue: 4", "Weekly", "", "4"),
        (" Weekly Issue: 4", "Weekly", "", "4"),
        (" Weekly Volume: 3", "Weekly", "3", ""),
        (" Weekly Volume: 3 more", "Weekly Volume: 3 more", "", ""),
        (" Weekly Issue: 4 Volume: 3", "Weekly Issue: 4", "3", ""),
        (" Volume: 2", "", "2", ""),
        ("", "", "", ""),
    ],
)
def test_publication_line_fields(text_after_label, name, volume, issue):
    article = article_parse(text("Title", f"Publication:{text_after_label}", "", "Body."))
    assert (article.publication, article.volume, article.issue) == (name, volume, issue)


def test_a_comment_number_of_thousands_of_digits_is_a_parse_error():
    # int() refuses more than 4,300 digits with a ValueError, which stopped the whole import.
    number = "9" * 5000
    with pytest.raises(ParseError) as caught:
        article_parse(text("Title", "", "Body.", "", f"  {number}. Ann said:", "", "    Hi."))
    assert caught.value.line == 5
    assert caught.value.reason == "comment number of 5000 digits is out of order: expected 1"


def test_leading_zeros_in_a_comment_number_still_count():
    article = article_parse(text("Title", "", "  01. Ann said:", "", "    Hi."))
    assert structure(article) == [("1", 0, "Ann")]


@pytest.mark.parametrize(
    ("marker", "what"),
    [
        ("\t1. Ann said:", "a tab"),
        ("\t• Bob said:", "a tab"),
        ("  \t• Bob said:", "a tab"),
        ("    \t• Bob said:", "a tab"),
        ("\u00a0 1. Ann said:", "U+00A0"),
        ("\u2003  • Bob said:", "U+2003"),
    ],
)
def test_a_marker_indented_with_a_tab_is_an_error_not_body_text(marker, what):
    lines = ["Title", "", "Body.", "", "  1. Zoe said:", "", "    Hi.", "", marker, "", "    Hi."]
    with pytest.raises(ParseError) as caught:
        article_parse(text(*lines))
    assert caught.value.line == 9
    assert caught.value.reason == f"marker indented with {what}: use spaces"


def test_a_tab_in_a_body_line_that_is_no_marker_stays_body_text():
    article = article_parse(
        text("Title", "", "  1. Ann said:", "", "    Hi\tthere.", "\t• not a marker", "\tBob said:")
    )
    assert article.comments[0].body == "Hi\tthere.\n\t• not a marker\n\tBob said:"
