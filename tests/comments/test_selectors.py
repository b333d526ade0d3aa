"""The discussion's reads: pages of threads in order, a comment's page, the API's tree."""

import pytest
from django.core.paginator import InvalidPage

from comments import selectors
from comments.models import Comment
from comments.selectors import (
    THREADS_PER_PAGE,
    comment_tree_page,
    discussion_page,
    reply_cut,
    thread_items,
    thread_page_number,
)
from tests.factories import make_article, make_comment

PUBLISHED = Comment.Status.PUBLISHED
PENDING = Comment.Status.PENDING
REMOVED = Comment.Status.REMOVED
SPAM = Comment.Status.SPAM


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
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 3)
        article = make_article()
        roots = [make_comment(article) for _ in range(7)]
        pages = [
            [i.pk for i in discussion_page(article=article, page_number=n, sort=None).items]
            for n in (1, 2, 3)
        ]
        assert pages == [[r.pk for r in roots[0:3]], [r.pk for r in roots[3:6]], [roots[6].pk]]

    @pytest.mark.parametrize("number,expected", [("abc", 1), ("0", 2), ("-3", 2), ("99", 2)])
    def test_bad_page_numbers_fall_back(self, monkeypatch, number, expected):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
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
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
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
    monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
    article = make_article()
    roots = [make_comment(article) for _ in range(5)]
    hidden = make_comment(article, thread_position=0, status=REMOVED)
    reply = make_comment(article, parent=roots[3])
    assert hidden.thread_position == 0
    assert [thread_page_number(c) for c in roots] == [1, 1, 2, 2, 3]
    assert thread_page_number(reply) == 2
    assert THREADS_PER_PAGE == 50
    assert [thread_page_number(c, "newest") for c in roots] == [3, 2, 2, 1, 1]
    assert thread_page_number(reply, "newest") == 1


@pytest.mark.django_db
def test_the_default_sort_is_a_setting(settings, monkeypatch):
    monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
    article = make_article()
    roots = [make_comment(article) for _ in range(3)]
    settings.COMMENTS_DEFAULT_SORT = "newest"
    page = discussion_page(article=article, page_number=1, sort=None)
    assert page.sort == "newest"
    assert [item.pk for item in page.items] == [roots[2].pk, roots[1].pk]
    assert thread_page_number(roots[0]) == 2
    assert discussion_page(article=article, page_number=1, sort="bogus").sort == "newest"


def _long_thread(article, replies: int):
    """A thread of `replies` replies: every other one answers the reply before it."""
    root = make_comment(article)
    made = []
    for n in range(replies):
        made.append(make_comment(article, parent=made[-1] if n % 2 else root))
    return root, made


@pytest.mark.django_db
class TestRepliesShown:
    def test_a_thread_shows_its_first_replies_and_counts_the_rest(self, settings):
        settings.COMMENTS_REPLIES_SHOWN = 3
        article = make_article()
        root, replies = _long_thread(article, 6)
        short = make_comment(article)
        make_comment(article, parent=short)
        items = discussion_page(article=article, page_number=1, sort=None).items
        shown = [item.pk for item in items]
        assert shown == [root.pk, *(r.pk for r in replies[:3]), short.pk, items[-1].pk]
        assert items[0].hidden_replies == 3
        assert items[0].reply_count == 3
        assert items[4].hidden_replies == 0
        # The lists opened for the shown replies close where the thread ends.
        assert sum(item.opens for item in items[:4]) == sum(item.closes for item in items[:4])

    def test_a_thread_at_the_limit_is_whole(self, settings):
        settings.COMMENTS_REPLIES_SHOWN = 6
        article = make_article()
        _long_thread(article, 6)
        items = discussion_page(article=article, page_number=1, sort=None).items
        assert len(items) == 7
        assert items[0].hidden_replies == 0

    def test_thread_items_hold_every_reply(self, settings):
        settings.COMMENTS_REPLIES_SHOWN = 2
        article = make_article()
        root, replies = _long_thread(article, 5)
        items = thread_items(article=article, root_id=root.pk)
        assert [item.pk for item in items] == [root.pk, *(r.pk for r in replies)]

    def test_thread_items_of_a_reply_or_another_article_are_empty(self):
        article = make_article()
        root, replies = _long_thread(article, 2)
        assert thread_items(article=article, root_id=replies[0].pk) == []
        assert thread_items(article=make_article(), root_id=root.pk) == []
        hidden = make_comment(article, status=REMOVED)
        assert thread_items(article=article, root_id=hidden.pk) == []

    def test_reply_cut_says_which_replies_only_the_thread_page_shows(self, settings):
        settings.COMMENTS_REPLIES_SHOWN = 2
        article = make_article()
        root, replies = _long_thread(article, 4)
        assert [reply_cut(c) for c in [root, *replies]] == [False, False, False, True, True]


@pytest.mark.django_db
def test_comment_tree_page_nests_what_every_reader_may_see():
    article = make_article()
    first = make_comment(article, body="one\r\ntwo\n\n\nthree")
    removed = make_comment(article, parent=first, status=REMOVED, body="gone")
    reply = make_comment(article, parent=removed)
    make_comment(article, parent=first, status=PENDING)
    make_comment(article, status=SPAM)
    second = make_comment(article)
    page, result = comment_tree_page(article=article, page_number=1, permalink=lambda pk: pk)
    assert page.paginator.count == 2
    result = comment_tree_page(article=article, page_number=1, permalink=lambda pk: f"/c/{pk}")[1]
    assert result == [
        {
            "id": first.pk,
            "author": first.author_name,
            "body": "one\ntwo\n\nthree",
            "created": None,
            "removed": False,
            "deleted": False,
            "featured": None,
            "url": f"/c/{first.pk}",
            "replies": [
                {
                    "id": removed.pk,
                    "author": "",
                    "body": "",
                    "created": None,
                    "removed": True,
                    "deleted": False,
                    "featured": None,
                    "url": f"/c/{removed.pk}",
                    "replies": [
                        {
                            "id": reply.pk,
                            "author": reply.author_name,
                            "body": reply.body,
                            "created": None,
                            "removed": False,
                            "deleted": False,
                            "featured": None,
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
            "deleted": False,
            "featured": None,
            "url": f"/c/{second.pk}",
            "replies": [],
        },
    ]


@pytest.mark.django_db
def test_comment_tree_page_pages_threads_with_their_replies(monkeypatch):
    monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
    article = make_article()
    roots = [make_comment(article) for _ in range(3)]
    reply = make_comment(article, parent=roots[2])
    page, tree = comment_tree_page(article=article, page_number="2", permalink=str)
    assert page.number == 2 and page.paginator.num_pages == 2
    assert [(t["id"], [r["id"] for r in t["replies"]]) for t in tree] == [
        (roots[2].pk, [reply.pk])
    ]
    for bad in ("3", "0", "x"):
        with pytest.raises(InvalidPage):
            comment_tree_page(article=article, page_number=bad, permalink=str)


@pytest.mark.django_db
class TestTopSort:
    """"top": the threads with the most recommendations in them first, ties newest first."""

    def threads(self, article, recommends: list[int]) -> list[Comment]:
        roots = []
        for count in recommends:
            root = make_comment(article)
            Comment.objects.filter(pk=root.pk).update(thread_recommend_count=count)
            roots.append(root)
        return roots

    def test_the_threads_come_in_order_of_their_recommendations(self):
        article = make_article()
        a, b, c, d = self.threads(article, [2, 5, 0, 2])
        reply = make_comment(article, parent=c)
        items = discussion_page(article=article, page_number=1, sort="top").items
        assert [item.pk for item in items] == [b.pk, d.pk, a.pk, c.pk, reply.pk]

    def test_recommendations_of_replies_lift_their_thread(self, django_capture_on_commit_callbacks):
        from comments.recommendations import recommendation_set
        from tests.factories import make_reader

        article = make_article()
        first, second = make_comment(article), make_comment(article)
        reply = make_comment(article, parent=first)
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(2):
                commenter = make_reader().commenter
                recommendation_set(comment=reply, commenter=commenter, recommended=True)
            recommendation_set(comment=second, commenter=commenter, recommended=True)
        items = discussion_page(article=article, page_number=1, sort="top").items
        assert [item.pk for item in items] == [first.pk, reply.pk, second.pk]
        assert [item.recommends for item in items] == [0, 2, 1]

    def test_thread_page_number_in_top_order(self, monkeypatch):
        monkeypatch.setattr(selectors, "THREADS_PER_PAGE", 2)
        article = make_article()
        roots = self.threads(article, [1, 4, 0, 4, 2])
        reply = make_comment(article, parent=roots[2])
        # Top order: roots[3], roots[1], roots[4], roots[0], roots[2].
        assert [thread_page_number(c, "top") for c in roots] == [2, 1, 3, 1, 2]
        assert thread_page_number(reply, "top") == 3
        pages = [
            [item.pk for item in discussion_page(article=article, page_number=n, sort="top").items]
            for n in (1, 2, 3)
        ]
        assert pages == [
            [roots[3].pk, roots[1].pk],
            [roots[4].pk, roots[0].pk],
            [roots[2].pk, reply.pk],
        ]

    def test_the_top_page_keeps_its_query_count(self, django_assert_max_num_queries):
        article = make_article()
        for root in self.threads(article, list(range(20))):
            make_comment(article, parent=root)
        # The threads with their rows, their count, and the editors' picks block.
        with django_assert_max_num_queries(3):
            page = discussion_page(article=article, page_number=1, sort="top")
        assert page.sort == "top"
        assert len(page.items) == 40


@pytest.mark.django_db
def test_own_pending_comments_are_the_readers_still_pending_on_this_article(
    django_assert_num_queries,
):
    article = make_article()
    parent = make_comment(article)
    mine = make_comment(article, parent=parent, status=PENDING, body="mine")
    first = make_comment(article, status=PENDING)
    decided = make_comment(article, status=PUBLISHED)
    elsewhere = make_comment(make_article(), status=PENDING)
    theirs = make_comment(article, status=PENDING)
    ids = {mine.pk, first.pk, decided.pk, elsewhere.pk}

    with django_assert_num_queries(1):
        rows = selectors.own_pending_comments(article=article, ids=ids)

    assert [row.pk for row in rows] == sorted([mine.pk, first.pk])
    assert theirs.pk not in [row.pk for row in rows]
    row = next(row for row in rows if row.pk == mine.pk)
    assert (row.parent_id, row.author_name, row.body) == (parent.pk, mine.author_name, "mine")
    with django_assert_num_queries(0):
        assert selectors.own_pending_comments(article=article, ids=frozenset()) == []
