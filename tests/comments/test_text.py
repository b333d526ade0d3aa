"""A comment's text as HTML and as plain text."""

import pytest

from comments.text import body_html, body_text, link_count


class TestBodyHtml:
    def test_escapes_markup(self):
        html = body_html('<script>alert("x")</script> & <b onclick="y">')
        assert "<script>" not in html
        assert "<b " not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b" in html

    def test_keeps_paragraphs_and_line_breaks(self):
        html = body_html("first line\nsecond line\n\n\nnext paragraph\r\nand more")
        assert html == "<p>first line<br>second line</p><p>next paragraph<br>and more</p>"

    def test_links_addresses_without_ranking_or_opener(self):
        html = body_html("See https://example.org/a?b=1&c=2.")
        assert html == (
            '<p>See <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
            "https://example.org/a?b=1&amp;c=2</a>.</p>"
        )

    def test_www_addresses_get_a_scheme(self):
        assert 'href="https://www.example.org"' in body_html("at www.example.org, today")

    def test_brackets_belonging_to_the_address_stay(self):
        html = body_html("(see https://en.wikipedia.org/wiki/Artsakh_(region))")
        assert 'href="https://en.wikipedia.org/wiki/Artsakh_(region)"' in html
        assert html.endswith("</a>)</p>")

    def test_quotes_cannot_break_out_of_the_attribute(self):
        html = body_html('http://example.org/"onmouseover="alert(1)')
        assert 'href="http://example.org/"' in html
        assert 'onmouseover="' not in html

    @pytest.mark.parametrize(
        "text", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org", "http://"]
    )
    def test_other_schemes_stay_text(self, text):
        assert "<a" not in body_html(text)

    def test_body_text_joins_paragraphs_with_one_blank_line(self):
        assert body_text("  one\r\ntwo\n\n\n\nthree  \n") == "one\ntwo\n\nthree"


class TestLinkCount:
    @pytest.mark.parametrize(
        ("text", "links"),
        [
            ("no links at all", 0),
            ("one https://a.example/x, and www.b.example.", 2),
            ('glued by quotes: https://a.example/"https://b.example/\'https://c.example/', 3),
            ("glued by brackets: <https://a.example/><https://b.example/>", 2),
            ("glued by a backtick: https://a.example/`https://b.example/", 1),
            ("ftp://a.example mail@b.example c.example", 0),
        ],
    )
    def test_counts_the_links_the_rendering_makes(self, text, links):
        assert link_count(text) == links
        assert body_html(text).count("</a>") == links
