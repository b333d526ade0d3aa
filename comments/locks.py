"""The lock that keeps an article's comment trees consistent under concurrent writes.

django-mptt takes no locks: a reply shifts lft/rght with a raw UPDATE. Every tree write
therefore runs inside `atomic()` and first locks the article whose trees it changes (several
articles in id order). New trees need no wider lock: their tree ids come from
`comments.models.tree_ids_allocate`, which never gives one id twice.

The wait for the lock is bounded (COMMENTS_LOCK_TIMEOUT_SECONDS): past it the transaction fails
with `newsroom.locking.LockTimeout`, which callers answer as a retryable "busy". On SQLite the
connection opens every transaction with BEGIN IMMEDIATE, which already serialises writers, and
its `timeout` option bounds that wait.
"""

from django.conf import settings
from django.db import transaction

from comments.models import commented_model
from newsroom.locking import lock_timeout_set

LOCK_TIMEOUT_SECONDS_DEFAULT = 5


def lock_timeout_seconds() -> float:
    """How long a tree write waits for its article's lock (COMMENTS_LOCK_TIMEOUT_SECONDS)."""
    return getattr(settings, "COMMENTS_LOCK_TIMEOUT_SECONDS", LOCK_TIMEOUT_SECONDS_DEFAULT)


def lock_article(article_id: int) -> None:
    """Serialise writes inside one article's trees (new threads, replies, moves, removals)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("comment tree locks must be taken inside transaction.atomic()")
    lock_timeout_set(lock_timeout_seconds())
    articles = commented_model().objects.select_for_update()
    list(articles.filter(pk=article_id).values_list("pk", flat=True))
