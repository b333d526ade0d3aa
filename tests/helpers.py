"""Helpers shared by the tests of several modules."""

import importlib
import json
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.db import connection, transaction

# The migrations that grant the Moderators group its permissions, and the permissions each adds.
MODERATOR_GRANTS = {
    "comments.migrations.0003_moderators_group": lambda m: m.PERMISSIONS,
    "comments.migrations.0007_commenter": lambda m: {"comments": m.MODERATOR_PERMISSIONS},
    "comments.migrations.0010_moderation_workspace": lambda m: {
        "comments": m.MODERATOR_PERMISSIONS
    },
    "comments.migrations.0013_edit_delete_erase": lambda m: {"comments": m.MODERATOR_PERMISSIONS},
}


def moderators_group() -> Group:
    """The group its data migrations make; a transactional test's flush empties the table."""
    group, _ = Group.objects.get_or_create(name="Moderators")
    for module, permissions in MODERATOR_GRANTS.items():
        for app_label, codenames in permissions(importlib.import_module(module)).items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )
    return group


@contextmanager
def held_elsewhere(hold: Callable[[], None]):
    """Run `hold()` in a transaction of another thread, on its own database connection, and keep
    that transaction open (with the locks `hold` took) until the block ends."""
    held, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                hold()
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert held.wait(timeout=10), "the other transaction did not take its lock in time"
        yield
    finally:
        release.set()
        holder.join(timeout=30)


def article_admin_data(article, **changes) -> dict:
    """What the article's admin page posts back unchanged (with its watch-phrase inline and
    no phrase in it), with `changes`."""
    return {
        "title": article.title,
        "slug": article.slug,
        "body": json.dumps(article.body),
        "captions": "[]",
        "published_at_0": "2026-01-02",
        "published_at_1": "10:00:00",
        "watch_phrases-TOTAL_FORMS": "0",
        "watch_phrases-INITIAL_FORMS": "0",
        "watch_phrases-MIN_NUM_FORMS": "0",
        "watch_phrases-MAX_NUM_FORMS": "1000",
        **changes,
    }


# The inline forms the comment's admin page posts back when nothing in them changed.
COMMENT_ADMIN_INLINES = {
    f"{prefix}-{field}": value
    for prefix in ("reports", "decisions", "revisions")
    for field, value in (
        ("TOTAL_FORMS", "0"),
        ("INITIAL_FORMS", "0"),
        ("MIN_NUM_FORMS", "0"),
        ("MAX_NUM_FORMS", "1000"),
    )
}


def signed_ago[T](monkeypatch, age: timedelta, make: Callable[[], T]) -> T:
    """What `make` returns, signed as if `age` ago (django.core.signing's clock turned back)."""
    made = time.time() - age.total_seconds()
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: made)
        return make()


def use_redis(settings, url: str) -> None:
    """Every cache of the site on the Redis server at `url`, as with REDIS_URL set."""
    settings.REDIS_URL = url
    backend = {
        "BACKEND": "newsroom.redis_cache.PooledRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "newsroom",
    }
    fallback = {**backend, "BACKEND": "newsroom.redis_cache.LocalFallbackRedisCache"}
    settings.CACHES = {"default": fallback, "counters": backend, "pages": backend}
