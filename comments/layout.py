"""The rules of what a discussion shows and how it nests, on rows already read in tree order.

Pure functions of the rows: which comments show, where a hidden one leaves a "[removed]"
placeholder, how many replies each has, how deep each sits on the page. One pass over the rows
each, so the cost grows linearly with the comments of the page.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from comments.models import Comment, Decision

# Replies nest visually down to this level; deeper ones keep its indentation and name the
# comment they answer, so a long exchange stays readable on a phone.
FLATTEN_DEPTH = 5
# Narrow screens stop indenting below this level (the stylesheet does the same), so from
# here on "in reply to" is printed for them too.
NARROW_DEPTH = 3
REMOVED_AUTHOR = "[removed]"
DELETED_AUTHOR = "[deleted]"


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
    # The handle of the author's public profile, and a staff member's badge; empty for guests.
    profile: str = ""
    badge: str = ""
    removed: bool = False
    # Why a moderator removed it (a Decision.Reason), for the placeholder to say.
    removal_reason: str = ""
    # A placeholder for a comment its author deleted, rather than a moderator removed.
    deleted: bool = False
    # When its author last edited it.
    edited: datetime | None = None
    # Readers' recommendations of it.
    recommends: int = 0
    # An editors' pick, with its public note.
    featured: bool = False
    featured_note: str = ""
    pending: bool = False
    # Shown to a moderator only (comments.selectors.moderator_thread_items): why a hidden
    # comment is not on the page ("removed (personal attack)").
    moderation_status: str = ""
    reply_count: int = 0
    # On a thread's top-level comment: the replies replies_cut() left for the thread's page.
    hidden_replies: int = 0
    # Set by page_layout() for the HTML page.
    parent_author: str = ""
    depth: int = 0
    flattened: bool = False
    opens: bool = False
    closes: int = 0


def moderation_status(status: str, reason: str) -> str:
    """What a moderator reads on a hidden comment: "awaiting moderation", "removed (personal
    attack)", "spam"."""
    if status == Comment.Status.PENDING:
        return "awaiting moderation"
    label = Comment.Status(status).label.lower()
    if reason and reason in Decision.Reason.values:
        return f"{label} ({Decision.Reason(reason).label.lower()})"
    return label


def comment_items(
    rows: Iterable[tuple], *, own_pending: Collection[int] = (), revealed: Collection[int] = ()
) -> list[CommentItem]:
    """The comments to show from rows in tree order, each thread's rows together.

    A row is (pk, parent_id, level, author_name, body, status, created, profile, badge,
    removal_reason, edited, recommend_count, featured, featured_note) (comments/selectors.py
    ROW_FIELDS). Published comments show, and the reader's own pending ones. A hidden comment
    (removed, spam, someone else's pending, deleted by its author) still holds its place as a
    "[removed]" (or "[deleted by its author]") placeholder when anything below it shows, so the
    replies keep their context; otherwise it and its subtree are left out. The hidden comments
    in `revealed` show in place, for a moderator, with their `moderation_status`.
    """
    published = Comment.Status.PUBLISHED
    pending = Comment.Status.PENDING
    deleted = Comment.Status.DELETED
    kept: list[CommentItem] = []
    # The hidden ancestors of the current row, waiting to learn whether anything below shows.
    path: list[tuple[CommentItem, bool]] = []
    for row in rows:
        (pk, parent_id, level, author, body, status, created, profile, badge, reason, edited,
         recs, featured, featured_note) = row
        del path[level:]
        own = status == pending and pk in own_pending
        shown_hidden = status != published and pk in revealed
        if status == published or own or shown_hidden:
            # Everything on the path above now has a visible descendant: keep it in place.
            for index, (ancestor, placed) in enumerate(path):
                if not placed:
                    kept.append(ancestor)
                    path[index] = (ancestor, True)
            item = CommentItem(
                pk, parent_id, level, author, body, created, profile, badge,
                recommends=recs, pending=own, edited=edited,
            )
            if status == published and featured:
                item.featured, item.featured_note = True, featured_note
            if shown_hidden and not own:
                item.moderation_status = moderation_status(status, reason)
            kept.append(item)
            path.append((item, True))
        else:
            item = CommentItem(
                pk,
                parent_id,
                level,
                "",
                "",
                None,
                removed=True,
                removal_reason=reason,
                deleted=status == deleted,
            )
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


def replies_cut(items: list[CommentItem], shown: int) -> list[CommentItem]:
    """The items with each thread cut after its first `shown` replies in tree order; the
    thread's top-level comment counts the others in `hidden_replies`, and the reply counts are
    those of what stays."""
    kept: list[CommentItem] = []
    root = None
    replies = 0
    for item in items:
        if item.level == 0:
            root, replies = item, 0
        else:
            replies += 1
            if replies > shown:
                root.hidden_replies += 1
                continue
        kept.append(item)
    return _counted(kept) if len(kept) < len(items) else items


def page_layout(items: list[CommentItem]) -> list[CommentItem]:
    """Prepare the items for the HTML page: how deep each sits, whom flattened replies answer,
    where nested lists of replies open and close.

    An item `opens` a nested list of replies when it has any and is above FLATTEN_DEPTH;
    after it, `closes` counts the nested lists that end.
    """
    authors: dict[int, str] = {}
    for item in items:
        if item.removed:
            authors[item.pk] = DELETED_AUTHOR if item.deleted else REMOVED_AUTHOR
        else:
            authors[item.pk] = item.author
        if item.parent_id is not None:
            item.parent_author = authors.get(item.parent_id, "")
        item.depth = min(item.level, FLATTEN_DEPTH)
        item.flattened = item.level > FLATTEN_DEPTH
        item.opens = item.reply_count > 0 and item.level < FLATTEN_DEPTH
    for index, item in enumerate(items):
        following = items[index + 1].depth if index + 1 < len(items) else 0
        item.closes = 0 if item.opens else item.depth - following
    return items


def nested(items: Iterable[CommentItem], node: Callable[[CommentItem], dict]) -> list[dict]:
    """The items as nested dictionaries: `node(item)` for each, its replies under "replies"."""
    roots: list[dict] = []
    path: list[list[dict]] = [roots]
    for item in items:
        entry = {**node(item), "replies": []}
        del path[item.level + 1 :]
        path[item.level].append(entry)
        path.append(entry["replies"])
    return roots
