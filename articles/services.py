"""Writes of articles: storing one parsed article file and its discussion, and opening or
closing discussions."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from articles.cache import article_page_changed
from articles.importer import ParsedArticle, ParsedComment, ParseError
from articles.models import Article
from comments.locks import lock_article
from comments.models import Comment, tree_ids_allocate
from comments.services import duplicates_mark
from comments.trees.numbering import forest_number
from newsroom.locking import lock_waits_bounded

# Article fields a re-import overwrites; the slug, publication date and moderators' settings
# (comments open, pre-moderation) are set once and then left alone.
IMPORTED_FIELDS = (
    "title",
    "publication",
    "volume",
    "issue",
    "byline",
    "location",
    "agency",
    "captions",
    "body",
    "discussion_policy",
)
TREE_FIELDS = ("tree_id", "lft", "rght", "level")
COMMENT_FIELDS = ("author_name", "body", "status", "thread_position", *TREE_FIELDS)
SLUG_SUFFIX_ROOM = 10


@dataclass(frozen=True)
class ImportResult:
    article: Article
    created: bool
    comments: int  # comments in the file
    added: int
    updated: int  # imported comments whose text or status changed
    removed: int  # imported comments marked removed because they left the file
    changed: bool  # whether anything was written at all
    written: frozenset[type[Model]] = frozenset()  # the models whose tables were written


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def article_check(*, parsed: ParsedArticle, source_key: str) -> None:
    """Refuse, with the line, values the database columns cannot hold. Reads nothing."""
    limit = _max_length(Article, "source_key")
    if not source_key.strip():
        raise ParseError(None, "the file name is empty, so the article has no source key")
    if len(source_key) > limit:
        raise ParseError(None, f"the file name is longer than {limit} characters")
    for name in ("title", "publication", "volume", "issue", "byline", "location", "agency"):
        limit = _max_length(Article, name)
        if len(getattr(parsed, name)) > limit:
            raise ParseError(
                parsed.lines.get(name), f"the {name} is longer than {limit} characters"
            )
    author_limit = _max_length(Comment, "author_name")
    key_limit = _max_length(Comment, "import_key")
    for comment in parsed.walk():
        if len(comment.author) > author_limit:
            raise ParseError(
                comment.line, f"the author name is longer than {author_limit} characters"
            )
        if len(comment.key) > key_limit:
            raise ParseError(
                comment.line,
                f"the reply is nested too deep: its position {comment.key[:20]}… is longer "
                f"than {key_limit} characters",
            )


@lock_waits_bounded()
@transaction.atomic
def article_import(*, parsed: ParsedArticle, source_key: str) -> ImportResult:
    """Store one parsed file: create its article, or update the one with the same source key.

    Imported comments are matched by their position in the file (`import_key`): they are
    updated in place, new ones are added and those gone from the file are marked removed.
    Comments posted on the site and moderators' decisions are left as they are.

    Only the article's lock is taken, so readers keep posting on other articles meanwhile.
    Raises LockTimeout, having stored nothing, when that lock is not granted in time.
    """
    article_check(parsed=parsed, source_key=source_key)
    article, created, article_changed = _article_write(parsed=parsed, source_key=source_key)
    added, updated, removed, moved = _comments_write(
        article=article, parsed=parsed, existing=not created
    )
    comments_changed = any((added, updated, removed, moved))
    if any((added, updated, removed)):
        duplicates_mark(article=article)
    if article_changed or comments_changed:
        article_page_changed(article.pk)
    return ImportResult(
        article=article,
        created=created,
        comments=parsed.comment_count,
        added=added,
        updated=updated,
        removed=removed,
        changed=article_changed or comments_changed,
        written=frozenset(
            model for model, wrote in ((Article, article_changed), (Comment, comments_changed))
            if wrote
        ),
    )


def _article_write(*, parsed: ParsedArticle, source_key: str) -> tuple[Article, bool, bool]:
    """Create the file's article, or bring the stored one's imported fields in line; lock it.

    Returns (article, created, whether the article's row was written).
    """
    values = {name: getattr(parsed, name) for name in IMPORTED_FIELDS}
    values["captions"] = list(parsed.captions)
    values["body"] = [{"type": block.kind, "text": block.text} for block in parsed.body]

    article = Article.objects.filter(source_key=source_key).first()
    if article is None:
        article = Article(
            source_key=source_key, slug=_unique_slug(parsed.title, source_key), **values
        )
        article.save()
        lock_article(article.pk)
        return article, True, True
    lock_article(article.pk)
    stale = [name for name, value in values.items() if getattr(article, name) != value]
    for name in stale:
        setattr(article, name, values[name])
    if stale:
        # Only the imported fields: a moderator may have changed the others meanwhile.
        article.save(update_fields=[*stale, "updated"])
    return article, False, bool(stale)


def statistics_refresh(*, models: Iterable[type[Model]]) -> None:
    """Refresh PostgreSQL's planner statistics of the models' tables, after a bulk write.

    Autovacuum would do it some time later, or never where it is off; until then the planner
    still sees the tables as they were (article pages took 1-5 s after a large import).
    """
    tables = sorted({model._meta.db_table for model in models})
    if connection.vendor != "postgresql" or not tables:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")


def _unique_slug(title: str, source_key: str) -> str:
    limit = _max_length(Article, "slug") - SLUG_SUFFIX_ROOM
    base = slugify(title)[:limit].strip("-") or slugify(source_key)[:limit].strip("-") or "article"
    taken = set(
        Article.objects.filter(Q(slug=base) | Q(slug__regex=rf"^{re.escape(base)}-[0-9]+$"))
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _comments_write(
    *, article: Article, parsed: ParsedArticle, existing: bool
) -> tuple[int, int, int, int]:
    """Bring the article's comments in line with the file.

    Returns (added, updated, removed, rows whose tree fields alone changed).
    """
    rows = _comments_read(article) if existing else []
    match = _comments_match(article=article, parsed=parsed, rows=rows)
    removed = _comments_gone_mark(rows, in_file=match.in_file)
    dirty = {row.pk: row for row in (*match.changed, *removed)}
    moved = _tree_fields_compute(rows, match, dirty)
    _comments_save(changed=list(dirty.values()), new=match.new, parent_of=match.parent_of)
    return len(match.new), len(match.changed), len(removed), moved


@dataclass
class _Match:
    """The file's comments matched by import key to the article's rows, or to new rows.

    Rows are told apart by `id()`: new ones have no primary key yet.
    """

    by_key: dict[str, Comment]  # the stored imported rows, by import key
    # Where each row hangs: a stored row keeps its parent, which a moderator may have changed.
    parent_of: dict[int, Comment | None]
    # Each parent's children that hang where the file puts them, in the file's order.
    file_children: dict[int | None, list[Comment]] = field(
        default_factory=lambda: defaultdict(list)
    )
    in_file: dict[str, Comment] = field(default_factory=dict)  # by import key
    new: list[Comment] = field(default_factory=list)  # in file order
    changed: list[Comment] = field(default_factory=list)  # stored rows the file changed

    @classmethod
    def of(cls, rows: list[Comment]) -> "_Match":
        by_pk = {row.pk: row for row in rows}
        return cls(
            by_key={row.import_key: row for row in rows if row.import_key},
            parent_of={id(row): by_pk.get(row.parent_id) for row in rows},
        )

    def place(self, key: str, row: Comment, parent: Comment | None) -> None:
        """Record that the file has `row` at `key`, under `parent`."""
        self.in_file[key] = row
        if self.parent_of[id(row)] is parent:
            self.file_children[id(parent) if parent else None].append(row)


def _comments_read(article: Article) -> list[Comment]:
    """The article's comments in tree order (siblings in their current order), in one query."""
    return list(
        Comment.objects.for_article(article)
        .order_by("tree_id", "lft")
        .only("parent_id", "import_key", "author_name", "body", "status", "moderated_at",
              "thread_position", *TREE_FIELDS)
    )


def _comments_match(*, article: Article, parsed: ParsedArticle, rows: list[Comment]) -> _Match:
    """Match each of the file's comments to its stored row, updated, or to a new row."""
    match = _Match.of(rows)
    for item in parsed.walk():
        parent = match.in_file[item.parent_key] if item.parent_key else None
        position = int(item.key) if item.depth == 0 else 0
        row = match.by_key.get(item.key)
        if row is None:
            row = _comment_new(article=article, item=item, position=position)
            match.parent_of[id(row)] = parent
            match.new.append(row)
        elif _comment_update(row, item=item, position=position):
            match.changed.append(row)
        match.place(item.key, row, parent)
    return match


def _comment_new(*, article: Article, item: ParsedComment, position: int) -> Comment:
    return Comment(
        article=article,
        import_key=item.key,
        author_name=item.author,
        body=item.body,
        status=Comment.Status.PUBLISHED,
        thread_position=position,
    )


def _comment_update(row: Comment, *, item: ParsedComment, position: int) -> bool:
    """Give a stored row the file's text; returns whether anything changed."""
    status = row.status
    if row.moderated_at is None and status == Comment.Status.REMOVED:
        # Back in the file, and removed by an earlier import rather than by a moderator.
        status = Comment.Status.PUBLISHED
    content = {
        "author_name": item.author,
        "body": item.body,
        "status": status,
        "thread_position": position or row.thread_position,
    }
    if all(getattr(row, name) == value for name, value in content.items()):
        return False
    for name, value in content.items():
        setattr(row, name, value)
    return True


def _comments_gone_mark(rows: list[Comment], *, in_file: dict[str, Comment]) -> list[Comment]:
    """Mark removed the imported rows gone from the file, unless a moderator decided on them."""
    gone = [
        row for row in rows
        if row.import_key
        and row.import_key not in in_file
        and row.moderated_at is None
        and row.status != Comment.Status.REMOVED
    ]
    for row in gone:
        row.status = Comment.Status.REMOVED
    return gone


def _tree_fields_compute(rows: list[Comment], match: _Match, dirty: dict[int, Comment]) -> int:
    """Give every comment of the article its tree_id, lft, rght and level.

    Each top-level comment is the root of its own tree; new ones get new tree ids. Existing
    rows whose fields change are added to `dirty`; returns how many changed only there.
    """
    roots, current_children = _children_current(rows, match.parent_of)
    roots.extend(row for row in match.new if match.parent_of[id(row)] is None)
    trees = _tree_ids_give(roots)
    old = {id(row): tuple(getattr(row, name) for name in TREE_FIELDS) for row in rows}
    moved = 0
    for node, position in forest_number(
        trees,
        children=lambda node: _children_order(
            match.file_children.get(id(node), []), current_children.get(id(node), [])
        ),
    ):
        node.tree_id, node.lft, node.rght, node.level = position
        if node.pk is not None and old[id(node)] != position:
            if node.pk not in dirty:
                moved += 1
            dirty[node.pk] = node
    return moved


def _tree_ids_give(roots: list[Comment]) -> list[tuple[int, Comment]]:
    """Each root with its tree id: a stored root keeps its own, new ones get new ones."""
    new_tree_ids = iter(tree_ids_allocate(sum(1 for root in roots if root.pk is None)))
    return [(next(new_tree_ids) if root.pk is None else root.tree_id, root) for root in roots]


def _children_current(
    rows: list[Comment], parent_of: dict[int, Comment | None]
) -> tuple[list[Comment], dict[int, list[Comment]]]:
    """The stored roots, and each stored row's children (by `id()`), in their current order."""
    roots: list[Comment] = []
    children: dict[int, list[Comment]] = defaultdict(list)
    for row in rows:  # in (tree_id, lft) order
        parent = parent_of[id(row)]
        if parent is None:
            roots.append(row)
        else:
            children[id(parent)].append(row)
    return roots, children


def _children_order(in_file: list[Comment], current: list[Comment]) -> list[Comment]:
    """A node's children: those the file places there in the file's order, and the others.

    A child the file does not place there (posted on the site, gone from the file, or moved
    there by a moderator) stays right after the placed sibling it followed before.
    """
    placed = {id(row) for row in in_file}
    anchored: dict[int | None, list[Comment]] = defaultdict(list)
    anchor = None
    for row in current:
        if id(row) in placed:
            anchor = id(row)
        else:
            anchored[anchor].append(row)
    ordered = list(anchored[None])
    for row in in_file:
        ordered.append(row)
        ordered.extend(anchored[id(row)])
    return ordered


def _comments_save(
    *, changed: list[Comment], new: list[Comment], parent_of: dict[int, Comment | None]
) -> None:
    """Update the changed rows, then insert the new ones a level at a time."""
    if changed:
        Comment.objects.bulk_update(changed, COMMENT_FIELDS)
    # A reply's parent must have its primary key before the reply is inserted.
    for level in sorted({row.level for row in new}):
        batch = [row for row in new if row.level == level]
        for row in batch:
            parent = parent_of[id(row)]
            row.parent_id = parent.pk if parent else None
        Comment.objects.bulk_create(batch)


@transaction.atomic
def discussions_set_open(*, articles: QuerySet[Article], is_open: bool) -> list[Article]:
    """Open or close the discussion of `articles`; returns the articles that changed."""
    changing = Article.objects.filter(pk__in=articles.order_by().values("pk")).exclude(
        comments_open=is_open
    )
    changed = list(changing.order_by("pk"))
    if changed:
        changing.update(comments_open=is_open, updated=timezone.now())
        for article in changed:
            article_page_changed(article.pk)
    return changed
