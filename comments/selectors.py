"""The discussion's reads: one page of an article's threads, one whole thread, the page that
shows a comment, and a page of the discussion for the API.

The rows come from one query in tree order (`tree_id`, `lft`) and go through the rules of
comments/layout.py, so the number of queries stays fixed whatever the number of comments.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When

from comments.identity import STAFF_BADGE
from comments.layout import CommentItem, comment_items, nested, page_layout, replies_cut
from comments.models import Comment, commented_model
from comments.text import body_text

THREADS_PER_PAGE = 50
# How many editors' picks the block above the discussion lists, newest pick first.
PICKS_SHOWN = 10


def _has_pick() -> Exists:
    """Whether the comment's thread holds a published editors' pick."""
    return Exists(
        Comment.objects.filter(
            tree_id=OuterRef("tree_id"), featured=True, status=Comment.Status.PUBLISHED
        )
    )


# "top": the threads with the most recommendations (of the top-level comment and every reply)
# first, ties newest first. No time decay: a discussion lives a few days, and a score that
# changed with the clock would move threads between pages while a cached copy still showed
# them elsewhere, and a permalink's page with them.
SORTS = {
    "oldest": ("thread_position", "tree_id"),
    "newest": ("-thread_position", "-tree_id"),
    "top": ("-thread_recommend_count", "-thread_position", "-tree_id"),
    # The threads that hold an editors' pick first, then the others, each oldest first.
    "picks": (_has_pick().desc(), "thread_position", "tree_id"),
}
# The same orders in Python, on a thread's (thread_position, tree_id, thread_recommend_count);
# "picks" puts the threads holding a pick first (_thread_rows).
THREAD_KEYS = {
    "oldest": lambda position, tree_id, recommends: (position, tree_id),
    "newest": lambda position, tree_id, recommends: (-position, -tree_id),
    "top": lambda position, tree_id, recommends: (-recommends, -position, -tree_id),
    "picks": lambda position, tree_id, recommends: (position, tree_id),
}
ROW_FIELDS = (
    "pk",
    "parent_id",
    "level",
    "author_name",
    "body",
    "status",
    "created",
    "author_profile",
    "author_badge",
    "removal_reason",
    "edited",
    "recommend_count",
    "featured",
    "featured_note",
)
# The handle of the comment's commenter when their profile is public, and the badge of a staff
# member (comments.identity.badge_for): computed in the rows' one query, through two joins.
AUTHOR_FIELDS = {
    "author_profile": Case(
        When(commenter__profile_public=True, then=F("commenter__handle")), default=Value("")
    ),
    "author_badge": Case(
        When(
            commenter__user__is_staff=True,
            then=Case(
                When(commenter__badge="", then=Value(STAFF_BADGE)),
                default=F("commenter__badge"),
            ),
        ),
        default=Value(""),
    ),
}


@dataclass(frozen=True)
class DiscussionPage:
    items: list[CommentItem]
    page: Page
    sort: str
    picks: list["Pick"] = field(default_factory=list)

    @property
    def page_range(self):
        return self.page.paginator.get_elided_page_range(self.page.number)


def _thread_rows(comments, *, sort: str = "oldest") -> Iterable[tuple]:
    """The rows of `comments` (whole threads) in page order, from one query in tree order.

    The query reads each thread in `tree_id, lft` order; the threads are then put in `sort`
    order (from their roots' values, after the threads holding a published pick for the
    "picks" order) in Python, which costs a sort of the threads only.
    """
    rows = (
        comments.annotate(**AUTHOR_FIELDS)
        .order_by("tree_id", "lft")
        .values_list(*ROW_FIELDS, "tree_id", "thread_position", "thread_recommend_count")
    )
    threads: dict[int, list[tuple]] = {}
    keys: dict[int, tuple[int, ...]] = {}
    thread_key = THREAD_KEYS[sort]
    picked: set[int] = set()
    published = Comment.Status.PUBLISHED
    status_at, featured_at = ROW_FIELDS.index("status"), ROW_FIELDS.index("featured")
    for row in rows:
        tree_id = row[-3]
        if tree_id not in threads:
            threads[tree_id] = []
            keys[tree_id] = thread_key(row[-2], tree_id, row[-1])
        threads[tree_id].append(row[:-3])
        if row[featured_at] and row[status_at] == published:
            picked.add(tree_id)
    picks_first = sort == "picks"

    def page_order(tree_id: int) -> tuple:
        return (picks_first and tree_id not in picked, keys[tree_id])

    for tree_id in sorted(threads, key=page_order):
        yield from threads[tree_id]


def default_sort() -> str:
    """The order of the threads for a reader who has not picked one (COMMENTS_DEFAULT_SORT)."""
    return settings.COMMENTS_DEFAULT_SORT


def _threads_page(
    *, article, page_number, sort: str, own_pending: Collection[int] = (), strict: bool = False
) -> tuple[Page, Iterable[tuple]]:
    """A page of THREADS_PER_PAGE top-level threads in `sort` order, and their rows.

    Leniently, a bad page number gives the first page and one past the end the last; strictly,
    they raise the paginator's InvalidPage.
    """
    threads = Comment.objects.for_article(article).threads(own_pending=own_pending)
    ordered = threads.order_by(*SORTS[sort])
    paginator = Paginator(ordered, THREADS_PER_PAGE)
    page = paginator.page(page_number) if strict else paginator.get_page(page_number)
    offset = (page.number - 1) * paginator.per_page
    page_trees = ordered.values("tree_id")[offset : offset + paginator.per_page]
    rows = _thread_rows(Comment.objects.filter(tree_id__in=page_trees), sort=sort)
    return page, rows


def discussion_page(
    *,
    article,
    page_number: str | int | None,
    sort: str | None,
    own_pending: Collection[int] = (),
) -> DiscussionPage:
    """One page of an article's discussion laid out for HTML: THREADS_PER_PAGE top-level
    threads in `sort` order, each cut after COMMENTS_REPLIES_SHOWN replies. A bad page number
    gives the first page, one past the end the last; an unknown sort gives the default."""
    sort = sort if sort in SORTS else default_sort()
    page, rows = _threads_page(
        article=article, page_number=page_number, sort=sort, own_pending=own_pending
    )
    items = comment_items(rows, own_pending=own_pending)
    items = page_layout(replies_cut(items, settings.COMMENTS_REPLIES_SHOWN))
    return DiscussionPage(items=items, page=page, sort=sort, picks=editors_picks(article=article))


@dataclass(frozen=True)
class Pick:
    """An editors' pick as the block above the discussion lists it."""

    pk: int
    author: str
    body: str
    note: str
    featured_at: datetime | None


def editors_picks(*, article, limit: int = PICKS_SHOWN) -> list[Pick]:
    """The article's published editors' picks, the latest picked first (one query)."""
    rows = (
        Comment.objects.for_article(article)
        .visible()
        .filter(featured=True)
        .order_by(F("featured_at").desc(nulls_last=True), "-pk")
        .values_list("pk", "author_name", "body", "featured_note", "featured_at")[:limit]
    )
    return [Pick(*row) for row in rows]


class OwnPending(NamedTuple):
    pk: int
    parent_id: int | None
    author_name: str
    body: str


def own_pending_comments(*, article, ids: Collection[int]) -> list[OwnPending]:
    """The reader's own comments on `article` still awaiting moderation (`ids`, from their
    session), oldest first, as rows of the fields the page shows: no query when there are none.

    Read on every page such a reader opens, in one SQL statement written once: the ORM's
    building of the query costs twice the query itself.
    """
    if not ids:
        return []
    connection = connections[router.db_for_read(Comment)]
    params = [getattr(article, "pk", article), Comment.Status.PENDING.value, *map(int, ids)]
    with connection.cursor() as cursor:
        cursor.execute(_own_pending_select(connection.alias, len(ids)), params)
        return [OwnPending(*row) for row in cursor.fetchall()]


@cache
def _own_pending_select(alias: str, count: int) -> str:
    name = connections[alias].ops.quote_name

    def column(field: str) -> str:
        return name(Comment._meta.get_field(field).column)

    fields = ", ".join(column(field) for field in ("id", "parent", "author_name", "body"))
    ids = ", ".join(["%s"] * count)
    # Names from the model, quoted; the values are parameters.
    return (
        f"SELECT {fields} FROM {name(Comment._meta.db_table)}"  # noqa: S608
        f" WHERE {column('article')} = %s AND {column('status')} = %s AND {column('id')} IN ({ids})"
        f" ORDER BY {column('id')}"
    )


def moderator_thread_items(comment: Comment) -> list[CommentItem]:
    """The whole thread that holds `comment`, laid out for HTML as readers see it, with
    `comment` shown in place even though readers do not see it, marked with its status."""
    rows = _tree_rows(comment.pk, comment.article_id)
    return page_layout(comment_items(rows, revealed={comment.pk}))


def _tree_rows(comment_id: int, article) -> Iterable[tuple]:
    """The rows of the whole thread that holds `comment_id`, in tree order (one query)."""
    tree = Comment.objects.for_article(article).filter(pk=comment_id).values("tree_id")
    return _thread_rows(Comment.objects.filter(tree_id__in=tree))


def thread_items(*, article, root_id: int, own_pending: Collection[int] = ()) -> list[CommentItem]:
    """The whole thread whose top-level comment is `root_id`, every reply of it, laid out for
    HTML; empty when it is no thread of `article` or nothing of it shows."""
    items = comment_items(_tree_rows(root_id, article), own_pending=own_pending)
    if not items or items[0].pk != root_id:
        return []
    return page_layout(items)


def reply_cut(comment: Comment, *, own_pending: Collection[int] = ()) -> bool:
    """Whether the article page leaves `comment` out of its thread, past the replies shown
    (only the thread's own page shows it)."""
    if comment.parent_id is None:
        return False
    items = comment_items(_tree_rows(comment.pk, comment.article_id), own_pending=own_pending)
    kept = replies_cut(items, settings.COMMENTS_REPLIES_SHOWN)
    return comment.pk not in {item.pk for item in kept}


def thread_page_number(comment: Comment, sort: str | None = None) -> int:
    """The page, in `sort` order (the default order when None), that shows `comment`'s
    thread."""
    root = Comment.objects.only("thread_position", "thread_recommend_count").get(
        tree_id=comment.tree_id, parent=None
    )
    position, recommends = root.thread_position, root.thread_recommend_count
    newer = Q(thread_position__gt=position) | Q(
        thread_position=position, tree_id__gt=root.tree_id
    )
    sort = sort if sort in SORTS else default_sort()
    if sort == "newest":
        ahead = newer
    elif sort == "top":
        ahead = Q(thread_recommend_count__gt=recommends) | (
            Q(thread_recommend_count=recommends) & newer
        )
    else:
        ahead = Q(thread_position__lt=position) | Q(
            thread_position=position, tree_id__lt=root.tree_id
        )
    threads = Comment.objects.for_article(comment.article_id).threads()
    if (sort or default_sort()) == "picks":
        # Every thread with a pick comes before those without one.
        threads = threads.annotate(has_pick=_has_pick())
        if threads.filter(pk=root.pk, has_pick=True).exists():
            ahead &= Q(has_pick=True)
        else:
            ahead |= Q(has_pick=True)
    before = threads.filter(ahead).count()
    return before // THREADS_PER_PAGE + 1


def comment_tree_page(*, article, page_number, permalink: Callable[[int], str]):
    """A page of the discussion for the API: THREADS_PER_PAGE top-level threads in the default
    order, each a nested dictionary with all its replies, and the paginator's page. A page
    that does not exist raises the paginator's InvalidPage.

    Only what any reader may see: published comments and "[removed]" placeholders (`deleted`
    when its author deleted it), never anything pending.
    """
    page, rows = _threads_page(
        article=article, page_number=page_number, sort=default_sort(), strict=True
    )
    tree = nested(
        comment_items(rows),
        lambda item: {
            "id": item.pk,
            "author": item.author,
            "body": body_text(item.body),
            "created": item.created,
            "removed": item.removed,
            "deleted": item.deleted,
            "featured": {"note": item.featured_note or None} if item.featured else None,
            "url": permalink(item.pk),
        },
    )
    return page, tree


def commenter_comments(commenter):
    """A commenter's published comments on published articles, newest first, with their
    articles (for the profile page's titles and links)."""
    return (
        Comment.objects.visible()
        .filter(commenter=commenter, article__in=commented_model().objects.published())
        .select_related("article")
        .order_by("-created", "-pk")
    )
