"""Which comments a discussion shows, where placeholders stand, how the replies nest."""

import pytest

from comments.layout import FLATTEN_DEPTH, comment_items, page_layout, replies_cut
from comments.models import Comment

PUBLISHED = Comment.Status.PUBLISHED
PENDING = Comment.Status.PENDING
REMOVED = Comment.Status.REMOVED
SPAM = Comment.Status.SPAM


def row(pk, level, status=PUBLISHED, parent=None, author=None):
    return (
        pk, parent, level, author or f"A{pk}", f"body {pk}", status, None, "", "", "", None, 0,
        False, "",
    )


def shown(items):
    return [(item.pk, item.removed, item.pending) for item in items]


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


class TestRepliesCut:
    # Thread 1: replies 2 (3 under it), 4, 5 (6 under it); thread 7: reply 8.
    ROWS = [
        row(1, 0),
        row(2, 1, parent=1),
        row(3, 2, parent=2),
        row(4, 1, parent=1),
        row(5, 1, parent=1),
        row(6, 2, parent=5),
        row(7, 0),
        row(8, 1, parent=7),
    ]

    def test_each_thread_keeps_its_first_replies_in_tree_order(self):
        items = replies_cut(comment_items(self.ROWS), 3)
        assert [item.pk for item in items] == [1, 2, 3, 4, 7, 8]
        assert [item.hidden_replies for item in items] == [2, 0, 0, 0, 0, 0]

    def test_reply_counts_and_nesting_are_those_of_what_stays(self):
        items = page_layout(replies_cut(comment_items(self.ROWS), 1))
        assert [item.pk for item in items] == [1, 2, 7, 8]
        assert [item.reply_count for item in items] == [1, 0, 1, 0]
        assert items[0].hidden_replies == 4
        assert sum(item.opens for item in items) == sum(item.closes for item in items)

    def test_threads_within_the_limit_are_the_same_items(self):
        items = comment_items(self.ROWS)
        assert replies_cut(items, 5) is items
        assert all(item.hidden_replies == 0 for item in items)
