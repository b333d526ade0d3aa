"""The discussion as readers see it: which comments show, in what order, and how they nest.

The rows come from one query in tree order (`tree_id`, `lft`); the nesting is read from each
row's `level` in a single pass, so the cost grows linearly with the comments of the page and
the number of queries stays fixed. The article page, the JSON API and the feeds share this.
"""

import html
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from comments.models import Comment

THREADS_PER_PAGE = 50
# Replies nest visually down to this level; deeper ones keep its indentation and name the
# comment they answer, so a long exchange stays readable on a phone.
FLATTEN_DEPTH = 5
# Narrow screens stop indenting below this level (the stylesheet does the same), so from
# here on "in reply to" is printed for them too.
NARROW_DEPTH = 3
SORTS = {"oldest": ("thread_position", "tree_id"), "newest": ("-thread_position", "-tree_id")}
DEFAULT_SORT = "oldest"
# Stands for a comment's id in a link reversed once per page (see comment_links()).
PK_PLACEHOLDER = "2147483647"

# A link is http(s):// or www. up to whitespace or a character that cannot end a URL in prose.
URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
URL_TRAILING = ".,;:!?'\")]}"
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(slots=True)
class CommentItem:
    """One comment as shown: a visible one, a "[removed]" placeholder, or the reader's own
    comment still awaiting moderation."""

    pk: int
    parent_id: int | None
    level: int
    author: str
    body: str
    created: datetime | None
    removed: bool = False
    pending: bool = False
    reply_count: int = 0
    # Set by page_layout() for the HTML page.
    parent_author: str = ""
    depth: int = 0
    flattened: bool = False
    opens: bool = False
    closes: int = 0


@dataclass(frozen=True)
class DiscussionPage:
    items: list[CommentItem]
    page: Page
    sort: str
    html: SafeString

    @property
    def page_range(self):
        return self.page.paginator.get_elided_page_range(self.page.number)


def body_html(text: str) -> SafeString:
    """The comment's text as HTML: escaped, paragraphs kept, the author's line breaks kept,
    and web addresses made links that pass no ranking and no window reference."""
    return mark_safe(_body_markup(text))  # noqa: S308 (the text goes through html.escape())


def _body_markup(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    paragraphs = [p.strip() for p in PARAGRAPH_BREAK.split(text)] if "\n" in text else [text]
    return "".join(f"<p>{_linkify(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)


def body_text(text: str) -> str:
    """The comment's text as plain text: paragraphs joined by one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return "\n\n".join(p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip())


def _linkify(text: str) -> str:
    lowered = text.lower()
    if "http" not in lowered and "www." not in lowered:
        return html.escape(text)
    out = []
    position = 0
    for match in URL_RE.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(URL_TRAILING)
        # A closing bracket that belongs to the address, as in Wikipedia links, stays.
        while (
            stripped != url
            and url[len(stripped)] == ")"
            and stripped.count("(") > (stripped.count(")"))
        ):
            stripped += ")"
        url = stripped
        if "." not in url.split("//", 1)[-1]:
            continue
        href = url if url.lower().startswith("http") else f"http://{url}"
        out.append(html.escape(text[position : match.start()]))
        out.append(
            f'<a href="{html.escape(href)}" rel="nofollow ugc noopener">{html.escape(url)}</a>'
        )
        position = match.start() + len(url)
    out.append(html.escape(text[position:]))
    return "".join(out)


def own_pending_ids(session) -> frozenset[int]:
    """The ids of the reader's comments awaiting moderation, as the posting view stored them.

    The session is the reader's, but its contents are still checked: anything but whole
    numbers is ignored.
    """
    stored = session.get("comments_own_pending", ())
    if not isinstance(stored, list | tuple):
        return frozenset()
    return frozenset(pk for pk in stored if isinstance(pk, int) and not isinstance(pk, bool))


def comment_items(rows: Iterable[tuple], *, own_pending: Collection[int] = ()) -> list[CommentItem]:
    """The comments to show from rows in tree order, each thread's rows together.

    A row is (pk, parent_id, level, author_name, body, status, created). Published comments
    show, and the reader's own pending ones. A hidden comment (removed, spam, someone else's
    pending) still holds its place as a "[removed]" placeholder when anything below it shows,
    so the replies keep their context; otherwise it and its subtree are left out.
    """
    published = Comment.Status.PUBLISHED
    pending = Comment.Status.PENDING
    kept: list[CommentItem] = []
    # The hidden ancestors of the current row, waiting to learn whether anything below shows.
    path: list[tuple[CommentItem, bool]] = []
    for pk, parent_id, level, author, body, status, created in rows:
        del path[level:]
        own = status == pending and pk in own_pending
        if status == published or own:
            # Everything on the path above now has a visible descendant: keep it in place.
            for index, (ancestor, placed) in enumerate(path):
                if not placed:
                    kept.append(ancestor)
                    path[index] = (ancestor, True)
            item = CommentItem(pk, parent_id, level, author, body, created, pending=own)
            kept.append(item)
            path.append((item, True))
        else:
            item = CommentItem(pk, parent_id, level, "", "", None, removed=True)
            path.append((item, False))
    return _counted(kept)


def _counted(items: list[CommentItem]) -> list[CommentItem]:
    """Set each item's `reply_count`: the comments shown below it."""
    open_items: list[tuple[int, CommentItem]] = []
    for index, item in enumerate(items):
        while open_items and open_items[-1][1].level >= item.level:
            start, done = open_items.pop()
            done.reply_count = index - start - 1
        open_items.append((index, item))
    for start, done in open_items:
        done.reply_count = len(items) - start - 1
    return items


def page_layout(items: list[CommentItem]) -> list[CommentItem]:
    """Prepare the items for the HTML page: how deep each sits, whom flattened replies answer,
    where nested lists of replies open and close.

    An item `opens` a nested list of replies when it has any and is above FLATTEN_DEPTH;
    after it, `closes` counts the nested lists that end.
    """
    authors: dict[int, str] = {}
    for item in items:
        authors[item.pk] = "[removed]" if item.removed else item.author
        if item.parent_id is not None:
            item.parent_author = authors.get(item.parent_id, "")
        item.depth = min(item.level, FLATTEN_DEPTH)
        item.flattened = item.level > FLATTEN_DEPTH
        item.opens = item.reply_count > 0 and item.level < FLATTEN_DEPTH
    for index, item in enumerate(items):
        following = items[index + 1].depth if index + 1 < len(items) else 0
        item.closes = 0 if item.opens else item.depth - following
    return items


# The discussion's markup is written here rather than in a template: the template engine
# costs about 0.1 ms per comment even for a bare loop (it resolves and localizes every
# variable), ten times this code, and one page may show thousands of comments. The class
# names, ids and data attributes are the contract with static/js/comments.js and the CSS.
REMOVED_HTML = (
    '<article class="comment comment--removed" id="comment-{key}" data-comment-id="{key}">'
    '<p class="comment-body">[removed]</p></article>'
)
COMMENT_HTML = (
    '<article class="comment{modifier}" id="comment-{key}" data-comment-id="{key}">'
    '<header class="comment-header"><span class="comment-author">{author}</span>'
    "{created}{in_reply_to}{status}</header>"
    '<div class="comment-body">{body}</div>{actions}</article>'
)
CREATED_HTML = '<time datetime="{iso}">{text}</time>'
IN_REPLY_TO_HTML = (
    '<span class="comment-in-reply-to{modifier}">in reply to '
    '<a href="#comment-{parent}">{author}</a></span>'
)
PENDING_HTML = '<strong class="comment-status">awaiting moderation</strong>'
ACTIONS_HTML = (
    '<p class="comment-actions">'
    '<a class="comment-permalink" href="#comment-{key}">'
    'Link<span class="visually-hidden"> to this comment</span></a>'
    "{reply}"
    '<a class="report-link" href="{report}">Report</a></p>'
)
REPLY_HTML = '<a class="reply-link" data-comment-id="{key}" href="{url}">Reply</a>'
# A thread collapses without JavaScript; the summary's verb follows the state through CSS,
# and screen readers hear the count with the element's own expanded or collapsed state.
REPLIES_OPEN_HTML = (
    '<details class="replies" open><summary>'
    '<span class="replies-hide" aria-hidden="true">Hide </span>'
    '<span class="replies-show" aria-hidden="true">Show </span>{count} {noun}</summary>'
    '<ol class="comment-thread">'
)
REPLIES_CLOSE_HTML = "</ol></details></li>"


def discussion_html(
    items: list[CommentItem], *, reply_url: str | None, report_url: str
) -> SafeString:
    """The nested lists of the laid-out `items`, one `<li>` per comment.

    `reply_url` and `report_url` are one comment's links with PK_PLACEHOLDER for its id;
    `reply_url` is None when the discussion is closed.
    """
    if not items:
        return mark_safe("")
    parts = ['<ol class="comment-thread">']
    for item in items:
        parts.append('<li class="comment-item">')
        parts.append(_comment_html(item, reply_url, report_url))
        if item.opens:
            count = item.reply_count
            parts.append(
                REPLIES_OPEN_HTML.format(count=count, noun="reply" if count == 1 else "replies")
            )
        else:
            parts.append("</li>")
        parts.append(REPLIES_CLOSE_HTML * item.closes)
    parts.append("</ol>")
    return mark_safe("\n".join(parts))  # noqa: S308 (authors' text is escaped in _comment_html)


def _comment_html(item: CommentItem, reply_url: str | None, report_url: str) -> str:
    key = str(item.pk)
    if item.removed:
        return REMOVED_HTML.format(key=key)
    created = ""
    if item.created is not None:
        local = localtime(item.created)
        created = CREATED_HTML.format(
            iso=local.isoformat(), text=f"{local.day} {local:%b %Y, %H:%M}"
        )
    in_reply_to = ""
    if item.level > NARROW_DEPTH:
        in_reply_to = IN_REPLY_TO_HTML.format(
            modifier="" if item.flattened else " comment-in-reply-to--narrow",
            parent=item.parent_id,
            author=html.escape(item.parent_author),
        )
    actions = ""
    if not item.pending:
        reply = ""
        # The links come from reverse() on slug and int converters: nothing to escape.
        if reply_url is not None:
            reply = REPLY_HTML.format(key=key, url=_with_pk(reply_url, key))
        actions = ACTIONS_HTML.format(key=key, reply=reply, report=_with_pk(report_url, key))
    return COMMENT_HTML.format(
        modifier=" comment--pending" if item.pending else "",
        key=key,
        author=html.escape(item.author),
        created=created,
        in_reply_to=in_reply_to,
        status=PENDING_HTML if item.pending else "",
        body=_body_markup(item.body),
        actions=actions,
    )


def _with_pk(url: str, key: str) -> str:
    # The id is the last number in these paths; the slug before it may hold any digits.
    head, _, tail = url.rpartition(PK_PLACEHOLDER)
    return f"{head}{key}{tail}"


ROW_FIELDS = ("pk", "parent_id", "level", "author_name", "body", "status", "created")


def _thread_rows(comments, *, newest: bool = False) -> Iterable[tuple]:
    """The rows of `comments` (whole threads) in page order, from one query in tree order.

    The query reads each thread in `tree_id, lft` order; the threads are then put in page
    order (their roots' `thread_position`) in Python, which costs a sort of the threads only.
    """
    rows = comments.order_by("tree_id", "lft").values_list(
        *ROW_FIELDS, "tree_id", "thread_position"
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
    html = discussion_html(items, **comment_links(article))
    return DiscussionPage(items=items, page=page, sort=sort, html=html)


def comment_links(article) -> dict[str, str | None]:
    """The reply and report links of the article's comments, with PK_PLACEHOLDER for the id."""
    kwargs = {"slug": article.slug, "pk": int(PK_PLACEHOLDER)}
    return {
        "reply_url": (
            reverse("comments:reply", kwargs=kwargs) if article.discussion_open() else None
        ),
        "report_url": reverse("comments:report", kwargs=kwargs),
    }


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
    roots: list[dict] = []
    path: list[list[dict]] = [roots]
    for item in comment_items(rows):
        node = {
            "id": item.pk,
            "author": item.author,
            "body": body_text(item.body),
            "created": item.created,
            "removed": item.removed,
            "url": permalink(item.pk),
            "replies": [],
        }
        del path[item.level + 1 :]
        path[item.level].append(node)
        path.append(node["replies"])
    return roots
