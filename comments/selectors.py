"""The discussion's reads: one page of an article's threads, the page that shows a comment, and
the whole discussion for the API.

The rows come from one query in tree order (`tree_id`, `lft`) and go through the rules of
comments/layout.py, so the number of queries stays fixed whatever the number of comments.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, F, Q, Value, When

from comments.identity import STAFF_BADGE
from comments.layout import CommentItem, comment_items, nested, page_layout
from comments.models import Comment, commented_model
from comments.text import body_text

THREADS_PER_PAGE = 50
SORTS = {"oldest": ("thread_position", "tree_id"), "newest": ("-thread_position", "-tree_id")}
DEFAULT_SORT = "oldest"
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

    @property
    def page_range(self):
        return self.page.paginator.get_elided_page_range(self.page.number)


def _thread_rows(comments, *, newest: bool = False) -> Iterable[tuple]:
    """The rows of `comments` (whole threads) in page order, from one query in tree order.

    The query reads each thread in `tree_id, lft` order; the threads are then put in page
    order (their roots' `thread_position`) in Python, which costs a sort of the threads only.
    """
    rows = (
        comments.annotate(**AUTHOR_FIELDS)
        .order_by("tree_id", "lft")
        .values_list(*ROW_FIELDS, "tree_id", "thread_position")
    )
    threads: dict[int, list[tuple]] = {}
    positions: dict[int, tuple[int, int]] = {}
    for row in rows:
        tree_id = row[-2]
        if tree_id not in threads:
            threads[tree_id] = []
            positions[tree_id] = (row[-1], tree_id)
        threads[tree_id].append(row[:-2])
    for tree_id in sorted(threads, key=positions.__getitem__, reverse=newest):
        yield from threads[tree_id]


def discussion_page(
    *,
    article,
    page_number: str | int | None,
    sort: str | None,
    own_pending: Collection[int] = (),
) -> DiscussionPage:
    """One page of an article's discussion laid out for HTML: THREADS_PER_PAGE top-level
    threads in `sort` order. A bad page number gives the first page, one past the end the
    last; an unknown sort gives the default."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    threads = Comment.objects.for_article(article).threads(own_pending=own_pending)
    paginator = Paginator(threads.order_by(*SORTS[sort]), THREADS_PER_PAGE)
    page = paginator.get_page(page_number)
    offset = (page.number - 1) * paginator.per_page
    page_trees = threads.order_by(*SORTS[sort]).values("tree_id")[
        offset : offset + paginator.per_page
    ]
    rows = _thread_rows(Comment.objects.filter(tree_id__in=page_trees), newest=sort == "newest")
    items = page_layout(comment_items(rows, own_pending=own_pending))
    return DiscussionPage(items=items, page=page, sort=sort)


def thread_page_number(comment: Comment) -> int:
    """The page, in the default order, that shows `comment`'s thread."""
    root = Comment.objects.only("thread_position").get(tree_id=comment.tree_id, parent=None)
    position = root.thread_position
    before = (
        Comment.objects.for_article(comment.article_id)
        .threads()
        .filter(
            Q(thread_position__lt=position) | Q(thread_position=position, tree_id__lt=root.tree_id)
        )
        .count()
    )
    return before // THREADS_PER_PAGE + 1


def comment_tree(*, article, permalink: Callable[[int], str]) -> list[dict]:
    """The whole discussion as nested dictionaries in page order, for the API.

    Only what any reader may see: published comments and "[removed]" placeholders, never
    anything pending.
    """
    threads = Comment.objects.for_article(article).threads()
    rows = _thread_rows(Comment.objects.filter(tree_id__in=threads.values("tree_id")))
    return nested(
        comment_items(rows),
        lambda item: {
            "id": item.pk,
            "author": item.author,
            "body": body_text(item.body),
            "created": item.created,
            "removed": item.removed,
            "url": permalink(item.pk),
        },
    )


def commenter_comments(commenter):
    """A commenter's published comments on published articles, newest first, with their
    articles (for the profile page's titles and links)."""
    return (
        Comment.objects.visible()
        .filter(commenter=commenter, article__in=commented_model().objects.published())
        .select_related("article")
        .order_by("-created", "-pk")
    )
