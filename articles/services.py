"""Writes of articles: storing one parsed article file and its discussion."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils.text import slugify

from articles.cache import article_page_changed
from articles.importer import ParsedArticle, ParseError
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
    values = {name: getattr(parsed, name) for name in IMPORTED_FIELDS}
    values["captions"] = list(parsed.captions)
    values["body"] = [{"type": block.kind, "text": block.text} for block in parsed.body]

    article = Article.objects.filter(source_key=source_key).first()
    created = article is None
    if created:
        article = Article(source_key=source_key, slug=_unique_slug(parsed.title, source_key))
        for name, value in values.items():
            setattr(article, name, value)
        article.save()
        lock_article(article.pk)
        article_changed = True
    else:
        lock_article(article.pk)
        stale = [name for name, value in values.items() if getattr(article, name) != value]
        for name in stale:
            setattr(article, name, values[name])
        if stale:
            # Only the imported fields: a moderator may have changed the others meanwhile.
            article.save(update_fields=[*stale, "updated"])
        article_changed = bool(stale)

    added, updated, removed, moved = _comments_write(
        article=article, parsed=parsed, existing=not created
    )
    comments_changed = bool(added or updated or removed or moved)
    changed = article_changed or comments_changed
    if added or updated or removed:
        duplicates_mark(article=article)
    if changed:
        article_page_changed(article.pk)
    return ImportResult(
        article=article,
        created=created,
        comments=parsed.comment_count,
        added=added,
        updated=updated,
        removed=removed,
        changed=changed,
        written=frozenset(
            model for model, wrote in ((Article, article_changed), (Comment, comments_changed))
            if wrote
        ),
    )


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
    rows = (
        list(
            Comment.objects.for_article(article)
            .order_by("tree_id", "lft")
            .only("parent_id", "import_key", "author_name", "body", "status", "moderated_at",
                  "thread_position", *TREE_FIELDS)
        )
        if existing
        else []
    )
    by_pk = {row.pk: row for row in rows}
    by_key = {row.import_key: row for row in rows if row.import_key}
    # Where each row hangs now: a moderator may have moved an imported comment elsewhere.
    parent_of = {id(row): by_pk.get(row.parent_id) for row in rows}
    old_tree = {id(row): tuple(getattr(row, name) for name in TREE_FIELDS) for row in rows}

    dirty: dict[int, Comment] = {}
    new_rows: list[Comment] = []
    # Children as the file orders them, under the parent they actually have.
    file_children: dict[int | None, list[Comment]] = defaultdict(list)
    in_file: dict[str, Comment] = {}
    updated = 0
    for item in parsed.walk():
        parent = in_file[item.parent_key] if item.parent_key else None
        position = int(item.key) if item.depth == 0 else 0
        row = by_key.get(item.key)
        if row is None:
            row = Comment(
                article=article,
                import_key=item.key,
                author_name=item.author,
                body=item.body,
                status=Comment.Status.PUBLISHED,
                thread_position=position,
            )
            parent_of[id(row)] = parent
            new_rows.append(row)
        else:
            status = row.status
            if row.moderated_at is None and status == Comment.Status.REMOVED:
                status = Comment.Status.PUBLISHED
            content = {
                "author_name": item.author,
                "body": item.body,
                "status": status,
                "thread_position": position or row.thread_position,
            }
            if any(getattr(row, name) != value for name, value in content.items()):
                for name, value in content.items():
                    setattr(row, name, value)
                dirty[row.pk] = row
                updated += 1
        in_file[item.key] = row
        if parent_of[id(row)] is parent:
            file_children[id(parent) if parent else None].append(row)

    removed = 0
    for row in rows:
        if (
            row.import_key
            and row.import_key not in in_file
            and row.moderated_at is None
            and row.status != Comment.Status.REMOVED
        ):
            row.status = Comment.Status.REMOVED
            dirty[row.pk] = row
            removed += 1

    moved = _tree_fields_compute(rows, new_rows, parent_of, file_children, old_tree, dirty)
    if dirty:
        Comment.objects.bulk_update(dirty.values(), COMMENT_FIELDS)
    for level in sorted({row.level for row in new_rows}):
        batch = [row for row in new_rows if row.level == level]
        for row in batch:
            parent = parent_of[id(row)]
            row.parent_id = parent.pk if parent else None
        Comment.objects.bulk_create(batch)
    return len(new_rows), updated, removed, moved


def _tree_fields_compute(
    rows: list[Comment],
    new_rows: list[Comment],
    parent_of: dict[int, Comment | None],
    file_children: dict[int | None, list[Comment]],
    old_tree: dict[int, tuple[int, int, int, int]],
    dirty: dict[int, Comment],
) -> int:
    """Give every comment of the article its tree_id, lft, rght and level in one pre-order pass.

    Each top-level comment is the root of its own tree. Siblings follow the file's order; a
    sibling that is not in the file (posted on the site, or gone from the file) stays right
    after the imported sibling it followed before. Existing rows whose fields change are added
    to `dirty`; returns how many changed only there.
    """
    current_children: dict[int, list[Comment]] = defaultdict(list)
    roots = []
    for row in rows:  # in (tree_id, lft) order: siblings in their current order
        parent = parent_of[id(row)]
        if parent is None:
            roots.append(row)
        else:
            current_children[id(parent)].append(row)
    roots.extend(row for row in new_rows if parent_of[id(row)] is None)

    def children(node: Comment) -> list[Comment]:
        in_order = file_children.get(id(node), [])
        placed = {id(row) for row in in_order}
        anchored: dict[int | None, list[Comment]] = defaultdict(list)
        anchor = None
        for row in current_children.get(id(node), []):
            if id(row) in placed:
                anchor = id(row)
            else:
                anchored[anchor].append(row)
        ordered = list(anchored[None])
        for row in in_order:
            ordered.append(row)
            ordered.extend(anchored[id(row)])
        return ordered

    new_tree_ids = iter(tree_ids_allocate(sum(1 for root in roots if root.pk is None)))
    trees = [(next(new_tree_ids) if root.pk is None else root.tree_id, root) for root in roots]
    moved = 0
    for node, position in forest_number(trees, children=children):
        node.tree_id, node.lft, node.rght, node.level = position
        if node.pk is not None and old_tree[id(node)] != position:
            if node.pk not in dirty:
                moved += 1
            dirty[node.pk] = node
    return moved
