"""Locks that keep comment trees consistent under concurrent writes.

django-mptt takes no locks: a new root gets MAX(tree_id) + 1 over the whole table and a reply
shifts lft/rght with a raw UPDATE. Every tree write therefore runs inside `atomic()` and first
takes the lock covering what it changes, always in the same order: the forest lock (new trees)
before any article lock (shifts inside that article's trees).

On SQLite the connection opens every transaction with BEGIN IMMEDIATE, which already serialises
writers; the functions below are then no-ops beyond what the transaction holds.
"""

from django.db import connection, transaction

from articles.models import Article

# Arbitrary, fixed key for PostgreSQL's advisory lock on the set of comment trees.
FOREST_LOCK_KEY = 7_310_042


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("comment tree locks must be taken inside transaction.atomic()")


def lock_forest() -> None:
    """Serialise the creation of new trees (new top-level comments, imports)."""
    _require_atomic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOREST_LOCK_KEY])


def lock_article(article_id: int) -> None:
    """Serialise writes inside one article's trees (replies, moves, removals)."""
    _require_atomic()
    list(Article.objects.select_for_update().filter(pk=article_id).values_list("pk", flat=True))
