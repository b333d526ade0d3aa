"""Readers' recommendations: one per comment per reader, given or taken back, counted on the
comment and its thread, and the refresh of the cached pages that show the counts.

Who recommends is a commenter record: a signed-in reader's account, or an address this browser
has confirmed (comments/guests.py). A guest known by nothing but a typed address could
recommend under any number of addresses, so an unverified guest is invited to sign in instead.

The counts live on the comments (`recommend_count`, and `thread_recommend_count` on the
thread's top-level comment) so the discussion reads them in its one query. They change with
`F()` updates in the transaction that inserts or deletes the Recommendation, whose unique
constraint admits one row per reader, so concurrent recommendations are each counted once.

A recommendation does not refresh the article's cached pages each time: at most once per
RECOMMEND_REFRESH_SECONDS per article (a key added to the counters cache), and a
recommendation inside that window has the refresh queued for the window's end, once. The
reader's own recommendations are read per request (`recommended_counts`).
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import task

from comments.guests import verified_emails
from comments.models import Comment, Commenter, Recommendation
from comments.services import commenter_for_user
from comments.signals import discussion_changed_send
from newsroom.ratelimit import FixedWindow, local_counters, rate_parse
from newsroom.redis_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecommendResult:
    recommended: bool
    count: int
    # False when the reader's recommendation already stood as asked (a second click).
    changed: bool


def reader_commenter(request, *, create: bool = False) -> Commenter | None:
    """The commenter a reader recommends as: a signed-in account's (made on first use when
    `create`), else the first address this browser confirmed that has a record; None for a
    reader who is neither."""
    user = request.user
    if user.is_authenticated:
        try:
            return user.commenter
        except Commenter.DoesNotExist:
            return commenter_for_user(user=user) if create else None
    emails = verified_emails(request)
    if not emails:
        return None
    found = {c.email: c for c in Commenter.objects.filter(email__in=emails)}
    return next((found[email] for email in emails if email in found), None)


def recommend_throttle(*, ip_address: str | None, commenter: Commenter) -> int | None:
    """Count one recommendation (given or taken back); the seconds to wait past
    RECOMMEND_RATE_LIMIT, from one IP address or one reader."""
    rate = rate_parse(settings.RECOMMEND_RATE_LIMIT, "RECOMMEND_RATE_LIMIT")
    return FixedWindow("recommend", rate).hit(ip=ip_address, reader=str(commenter.pk))


@transaction.atomic
def recommendation_set(
    *, comment: Comment, commenter: Commenter, recommended: bool | None = None
) -> RecommendResult:
    """Give (`recommended=True`) or take back (False) `commenter`'s recommendation of
    `comment`; None turns it over. The counts change in the same transaction as the row."""
    exists = Recommendation.objects.filter(comment=comment, commenter=commenter).exists()
    wanted = (not exists) if recommended is None else recommended
    step = 0
    if wanted and not exists:
        try:
            with transaction.atomic():
                Recommendation.objects.create(comment=comment, commenter=commenter)
            step = 1
        except IntegrityError:
            # The same reader's other request inserted it first: counted once, there.
            step = 0
    elif not wanted and exists:
        deleted, _ = Recommendation.objects.filter(comment=comment, commenter=commenter).delete()
        step = -1 if deleted else 0
    if step:
        _counts_add(comment, step)
        # robust: the recommendation is stored whatever happens to the refresh.
        transaction.on_commit(
            lambda: discussion_refresh(article_id=comment.article_id), robust=True
        )
    count = Comment.objects.values_list("recommend_count", flat=True).get(pk=comment.pk)
    return RecommendResult(recommended=wanted, count=count, changed=bool(step))


def _counts_add(comment: Comment, step: int) -> None:
    # Each UPDATE locks its row and adds to the value it finds, so concurrent steps all count.
    # The comment's row before its thread's root's, in every transaction: no lock cycle.
    if comment.parent_id is None:
        Comment.objects.filter(pk=comment.pk).update(
            recommend_count=F("recommend_count") + step,
            thread_recommend_count=F("thread_recommend_count") + step,
        )
        return
    Comment.objects.filter(pk=comment.pk).update(recommend_count=F("recommend_count") + step)
    Comment.objects.filter(tree_id=comment.tree_id, parent=None).update(
        thread_recommend_count=F("thread_recommend_count") + step
    )


def recommended_counts(*, article, commenter: Commenter | None) -> dict[int, int]:
    """The comments of `article` that `commenter` recommends, with their current counts (one
    query; none for no commenter)."""
    if commenter is None:
        return {}
    return dict(
        Comment.objects.filter(article=article, recommendations__commenter=commenter)
        .order_by()
        .values_list("pk", "recommend_count")
    )


def _refresh_key(article_id: int) -> str:
    return f"recommend-refresh:{article_id}"


def _queued_key(article_id: int) -> str:
    return f"recommend-refresh-queued:{article_id}"


def discussion_refresh(*, article_id: int) -> None:
    """Refresh the article's cached pages for new counts, at most once per
    RECOMMEND_REFRESH_SECONDS: now when no refresh happened in that time, otherwise once at
    the end of the window (a task queued with `run_after`)."""
    try:
        now, due = _window(caches["counters"], article_id)
    except CACHE_ERRORS as error:
        logger.warning("recommendation refresh limited in this process only: %s", error)
        now, due = _window(local_counters, article_id)
    if now:
        discussion_changed_send(article_id)
        return
    refresh = discussion_refresh_due
    # Without a worker that waits, the next recommendation after the window refreshes.
    if due is not None and refresh.get_backend().supports_defer:
        refresh.using(run_after=datetime.fromtimestamp(due, tz=UTC)).enqueue(
            article_id=article_id
        )


def _window(store, article_id: int) -> tuple[bool, float | None]:
    """Whether to refresh now (no refresh in the last RECOMMEND_REFRESH_SECONDS), else when
    the window ends if this call is the first to queue its refresh (None when one is queued)."""
    seconds = settings.RECOMMEND_REFRESH_SECONDS
    now = time.time()
    if store.add(_refresh_key(article_id), now, timeout=seconds):
        return True, None
    started = store.get(_refresh_key(article_id))
    if started is None:
        # Expired since the add(): a new window.
        return True, None
    due = started + seconds
    if not store.add(_queued_key(article_id), due, timeout=seconds * 2):
        return False, None
    return False, due


@task
def discussion_refresh_due(*, article_id: int) -> None:
    """The refresh queued at the end of a window: it opens the next window."""
    seconds = settings.RECOMMEND_REFRESH_SECONDS
    try:
        store = caches["counters"]
        store.set(_refresh_key(article_id), time.time(), timeout=seconds)
        store.delete(_queued_key(article_id))
    except CACHE_ERRORS as error:
        logger.warning("recommendation refresh window not recorded: %s", error)
    discussion_changed_send(article_id)
