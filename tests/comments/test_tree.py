"""The discussion as readers see it: what shows, in what order, how it nests, how it reads."""

import pytest

from comments import tree
from comments.models import Comment
from comments.tree import (
    FLATTEN_DEPTH,
    THREADS_PER_PAGE,
    body_html,
    body_text,
    comment_items,
    comment_tree,
    discussion_page,
    own_pending_ids,
    page_layout,
    thread_page_number,
)
from tests.factories import make_article, make_comment

PUBLISHED = Comment.Status.PUBLISHED
PENDING = Comment.Status.PENDING
REMOVED = Comment.Status.REMOVED
SPAM = Comment.Status.SPAM


def row(pk, level, status=PUBLISHED, parent=None, author=None):
    return (pk, parent, level, author or f"A{pk}", f"body {pk}", status, None)


def shown(items):
    return [(item.pk, item.removed, item.pending) for item in items]


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
        assert 'href="http://www.example.org"' in body_html("at www.example.org, today")

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


class TestOwnPendingIds:
    def test_reads_whole_numbers_only(self):
        session = {"comments_own_pending": [3, "4", None, True, 5.0, 7]}
        assert own_pending_ids(session) == {3, 7}

    @pytest.mark.parametrize("value", [None, "1,2", 5, {"a": 1}])
    def test_anything_but_a_list_is_ignored(self, value):
        assert own_pending_ids({"comments_own_pending": value}) == frozenset()

    def test_missing(self):
        assert own_pending_ids({}) == frozenset()


class TestCommentItems:
    def test_published_comments_show_in_order(self):
        rows = [row(1, 0), row(2, 1, parent=1), row(3, 0)]
        assert shown(comment_items(rows)) == [
            (1, False, False),
            (2, False, False),
            (3, False, False),
        ]

    @pytest.mark.parametrize("status", [REMOVED, SPAM, PENDING])
    def test_hidden_comment_with_visible_reply_holds_its_place(self, status):
        rows = [row(1, 0, status), row(2, 1, parent=1)]
        items = comment_items(rows)
        assert shown(items) == [(1, True, False), (2, False, False)]
        assert items[0].author == "" and items[0].body == ""

    @pytest.mark.parametrize("status", [REMOVED, SPAM, PENDING])
    def test_hidden_comment_without_visible_replies_is_left_out(self, status):
        rows = [row(1, 0, status), row(2, 1, REMOVED, parent=1), row(3, 0)]
        assert shown(comment_items(rows)) == [(3, False, False)]

    def test_chain_of_removed_ancestors_keeps_every_placeholder(self):
        rows = [
            row(1, 0, REMOVED),
            row(2, 1, SPAM, parent=1),
            row(3, 2, REMOVED, parent=2),
            row(4, 2, parent=2),
        ]
        assert shown(comment_items(rows)) == [
            (1, True, False),
            (2, True, False),
            (4, False, False),
        ]

    def test_own_pending_shows_marked_others_do_not(self):
        rows = [row(1, 0), row(2, 1, PENDING, parent=1), row(3, 1, PENDING, parent=1)]
        assert shown(comment_items(rows, own_pending={3})) == [
            (1, False, False),
            (3, False, True),
        ]

    def test_own_pending_reply_keeps_a_removed_parent_in_place(self):
        rows = [row(1, 0, REMOVED), row(2, 1, PENDING, parent=1)]
        assert shown(comment_items(rows, own_pending={2})) == [(1, True, False), (2, False, True)]

    def test_an_own_id_that_is_published_or_removed_is_not_pending(self):
        rows = [row(1, 0), row(2, 0, REMOVED)]
        assert shown(comment_items(rows, own_pending={1, 2})) == [(1, False, False)]

    def test_reply_counts_count_what_shows_below(self):
        rows = [
            row(1, 0),
            row(2, 1, parent=1),
            row(3, 2, parent=2),
            row(4, 1, SPAM, parent=1),
            row(5, 1, parent=1),
            row(6, 0),
        ]
        counts = {item.pk: item.reply_count for item in comment_items(rows)}
        assert counts == {1: 3, 2: 1, 3: 0, 5: 0, 6: 0}


class TestPageLayout:
    def chain(self, length):
        return [row(n + 1, n, parent=n or None) for n in range(length)]

    def test_lists_open_and_close_in_balance(self):
        rows = [row(1, 0), row(2, 1, parent=1), row(3, 2, parent=2), row(4, 1, parent=1), row(5, 0)]
        items = page_layout(comment_items(rows))
        assert [(i.pk, i.opens, i.closes) for i in items] == [
            (1, True, 0),
            (2, True, 0),
            (3, False, 1),
            (4, False, 1),
            (5, False, 0),
        ]

    def test_deep_replies_keep_the_flatten_depth_and_name_their_parent(self):
        items = page_layout(comment_items(self.chain(FLATTEN_DEPTH + 3)))
        opened = sum(item.opens for item in items)
        closed = sum(item.closes for item in items)
        assert opened == closed == FLATTEN_DEPTH
        deep = [item for item in items if item.flattened]
        assert [item.level for item in deep] == [FLATTEN_DEPTH + 1, FLATTEN_DEPTH + 2]
        assert {item.depth for item in deep} == {FLATTEN_DEPTH}
        assert deep[0].parent_author == f"A{FLATTEN_DEPTH + 1}"

    def test_a_removed_parent_is_named_as_such(self):
        rows = [
            row(n + 1, n, REMOVED if n == FLATTEN_DEPTH else PUBLISHED, parent=n or None)
            for n in range(FLATTEN_DEPTH + 2)
        ]
        items = page_layout(comment_items(rows))
        assert items[-1].flattened
        assert items[-1].parent_author == "[removed]"


@pytest.mark.django_db
class TestDiscussionPage:
    def test_one_page_holds_the_threads_in_page_order(self):
        article = make_article()
        first = make_comment(article)
        reply = make_comment(article, parent=first)
        second = make_comment(article)
        make_comment(article, parent=reply)
        page = discussion_page(article=article, page_number=None, sort=None)
        assert [item.pk for item in page.items][0] == first.pk
        assert [item.pk for item in page.items][-1] == second.pk
        assert [item.level for item in page.items] == [0, 1, 2, 0]
        assert page.sort == "oldest"

    def test_newest_first_reverses_threads_not_replies(self):
        article = make_article()
        first = make_comment(article)
        reply = make_comment(article, parent=first)
        second = make_comment(article)
        page = discussion_page(article=article, page_number=1, sort="newest")
        assert [item.pk for item in page.items] == [second.pk, first.pk, reply.pk]

    def test_thread_position_not_insertion_order_decides(self):
        article = make_article()
        later = make_comment(article, thread_position=2)
        earlier = make_comment(article, thread_position=1)
        page = discussion_page(article=article, page_number=1, sort="oldest")
        assert [item.pk for item in page.items] == [earlier.pk, later.pk]

    def test_threads_come_fifty_to_a_page(self, monkeypatch):
        monkeypatch.setattr(tree, "THREADS_PER_PAGE", 3)
        article = make_article()
        roots = [make_comment(article) for _ in range(7)]
        pages = [
            [i.pk for i in discussion_page(article=article, page_number=n, sort=None).items]
            for n in (1, 2, 3)
        ]
        assert pages == [[r.pk for r in roots[0:3]], [r.pk for r in roots[3:6]], [roots[6].pk]]

    @pytest.mark.parametrize("number,expected", [("abc", 1), ("0", 2), ("-3", 2), ("99", 2)])
    def test_bad_page_numbers_fall_back(self, monkeypatch, number, expected):
        monkeypatch.setattr(tree, "THREADS_PER_PAGE", 2)
        article = make_article()
        for _ in range(3):
            make_comment(article)
        page = discussion_page(article=article, page_number=number, sort=None)
        assert page.page.number == expected

    def test_unknown_sort_falls_back_to_oldest(self):
        article = make_article()
        page = discussion_page(article=article, page_number=1, sort="<script>")
        assert page.sort == "oldest"

    def test_threads_with_nothing_to_show_do_not_take_a_place(self, monkeypatch):
        monkeypatch.setattr(tree, "THREADS_PER_PAGE", 2)
        article = make_article()
        gone = make_comment(article, status=REMOVED)
        make_comment(article, parent=gone, status=SPAM)
        make_comment(article, status=PENDING)
        kept = [make_comment(article), make_comment(article)]
        page = discussion_page(article=article, page_number=1, sort=None)
        assert [item.pk for item in page.items] == [c.pk for c in kept]
        assert page.page.paginator.num_pages == 1

    def test_own_pending_thread_takes_a_place_for_its_author(self):
        article = make_article()
        mine = make_comment(article, status=PENDING)
        assert discussion_page(article=article, page_number=1, sort=None).items == []
        items = discussion_page(
            article=article, page_number=1, sort=None, own_pending={mine.pk}
        ).items
        assert [(item.pk, item.pending) for item in items] == [(mine.pk, True)]

    def test_other_articles_stay_out(self):
        article, other = make_article(), make_article()
        make_comment(other)
        assert discussion_page(article=article, page_number=1, sort=None).items == []


@pytest.mark.django_db
def test_thread_page_number(monkeypatch):
    monkeypatch.setattr(tree, "THREADS_PER_PAGE", 2)
    article = make_article()
    roots = [make_comment(article) for _ in range(5)]
    hidden = make_comment(article, thread_position=0, status=REMOVED)
    reply = make_comment(article, parent=roots[3])
    assert hidden.thread_position == 0
    assert [thread_page_number(c) for c in roots] == [1, 1, 2, 2, 3]
    assert thread_page_number(reply) == 2
    assert THREADS_PER_PAGE == 50


@pytest.mark.django_db
def test_comment_tree_nests_what_every_reader_may_see():
    article = make_article()
    first = make_comment(article, body="one\r\ntwo\n\n\nthree")
    removed = make_comment(article, parent=first, status=REMOVED, body="gone")
    reply = make_comment(article, parent=removed)
    make_comment(article, parent=first, status=PENDING)
    make_comment(article, status=SPAM)
    second = make_comment(article)
    result = comment_tree(article=article, permalink=lambda pk: f"/c/{pk}")
    assert result == [
        {
            "id": first.pk,
            "author": first.author_name,
            "body": "one\ntwo\n\nthree",
            "created": None,
            "removed": False,
            "url": f"/c/{first.pk}",
            "replies": [
                {
                    "id": removed.pk,
                    "author": "",
                    "body": "",
                    "created": None,
                    "removed": True,
                    "url": f"/c/{removed.pk}",
                    "replies": [
                        {
                            "id": reply.pk,
                            "author": reply.author_name,
                            "body": reply.body,
                            "created": None,
                            "removed": False,
                            "url": f"/c/{reply.pk}",
                            "replies": [],
                        }
                    ],
                }
            ],
        },
        {
            "id": second.pk,
            "author": second.author_name,
            "body": second.body,
            "created": None,
            "removed": False,
            "url": f"/c/{second.pk}",
            "replies": [],
        },
    ]
