"""Mail to commenters about the replies to their comments, sent by the task worker.

A reply counts once it is published (posted, or approved by a moderator): `replies_notify` then
queues `replies_collect`, which finds the subscribers above each reply (comments/
subscriptions.py) and records one ReplyNotice per recipient and reply. A recipient's notices
of one thread form a batch that goes out in one mail: at once when the recipient had no mail
about that thread in the last NOTIFY_BATCH_MINUTES, otherwise when that time is up; for an
account that chose the daily digest, every thread's notices of a day go out in one mail.

Each batch is mailed by `replies_deliver`, queued with `run_after` at the batch's time. Every
write to a recipient's notices holds the recipient's row lock, and a delivery takes every
unsent notice of its batch, so a second delivery task of the same batch finds nothing: no mail
is sent twice, and a batch whose delivery failed goes out with the next reply's.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from comments.models import (
    Comment,
    Commenter,
    ReplyMailPreference,
    ReplyNotice,
    ReplySubscription,
)
from comments.subscriptions import Unsubscribe, unsubscribe_token
from newsroom.mail import absolute_url, mail_send

logger = logging.getLogger(__name__)

DIGEST_PERIOD = timedelta(days=1)
# Sent notices are kept this long (no reply is mailed twice, mails keep their spacing), then
# deleted when their recipient's next mail goes out.
SENT_KEPT = timedelta(days=30)
EXCERPT_CHARACTERS = 600


def replies_notify(*, comments: list[Comment]) -> None:
    """Mail the replies among `comments`, just published, to the readers who asked for it.

    Only queues a task once the current transaction commits: the request reads nothing, and
    neither a rollback nor a queue that fails sends anything or fails the request.
    """
    comment_ids = sorted({comment.pk for comment in comments if comment.parent_id is not None})
    if comment_ids:
        transaction.on_commit(partial(_collect_enqueue, comment_ids))


def _collect_enqueue(comment_ids: list[int]) -> None:
    try:
        replies_collect.enqueue(comment_ids=comment_ids)
    except Exception as error:
        logger.error("Reply mail for comments %s not queued: %s", comment_ids, error)


@task
def replies_collect(*, comment_ids: list[int]) -> None:
    notices_collect(comment_ids=comment_ids, now=timezone.now())


@task
def replies_deliver(*, recipient_id: int, thread_id: int | None) -> None:
    notices_deliver(recipient_id=recipient_id, thread_id=thread_id, now=timezone.now())


def recipient_address(commenter: Commenter) -> str:
    """Where a commenter's mail goes: the account's address, or the guest's verified one."""
    if commenter.user_id is not None:
        return commenter.user.email
    return commenter.email or ""


def _recipients(reply: Comment) -> list[Commenter]:
    """The subscribers above `reply` (the comment it answers and those above it), not the
    replier: one query."""
    subscriptions = ReplySubscription.objects.filter(
        comment__tree_id=reply.tree_id,
        comment__lft__lt=reply.lft,
        comment__rght__gt=reply.rght,
        comment__status=Comment.Status.PUBLISHED,
    ).select_related("commenter__user")
    replier = reply.author_email.strip().casefold()
    recipients = {}
    for subscription in subscriptions:
        commenter = subscription.commenter
        address = recipient_address(commenter).strip().casefold()
        if address and commenter.pk != reply.commenter_id and address != replier:
            recipients[commenter.pk] = commenter
    return list(recipients.values())


def _batch_due(*, recipient_id: int, thread_id: int, digest: bool, now: datetime) -> datetime:
    """When a new batch goes out: a digest a day after its first reply; a thread's batch at
    once, or NOTIFY_BATCH_MINUTES after the last mail about that thread."""
    if digest:
        return now + DIGEST_PERIOD
    last = ReplyNotice.objects.filter(
        recipient_id=recipient_id, thread_id=thread_id, digest=False, sent__isnull=False
    ).aggregate(last=Max("sent"))["last"]
    if last is None:
        return now
    return max(now, last + timedelta(minutes=settings.NOTIFY_BATCH_MINUTES))


@transaction.atomic
def notices_collect(*, comment_ids: list[int], now: datetime) -> int:
    """Record the notices of the published replies among `comment_ids` and queue their batches'
    deliveries. A reply already noticed to a recipient is not again. Returns the notices made."""
    replies = list(
        Comment.objects.filter(pk__in=comment_ids, status=Comment.Status.PUBLISHED)
        .exclude(parent=None)
        .order_by("tree_id", "lft")
    )
    candidates = {commenter.pk for reply in replies for commenter in _recipients(reply)}
    if not candidates:
        return 0
    # Each recipient's lock orders its batches against deliveries and unsubscribes; the
    # subscribers are read again under the locks, so an unsubscribe that was first holds.
    for recipient_id in sorted(candidates):
        Commenter.objects.select_for_update().filter(pk=recipient_id).exists()
    wanted: dict[int, list[Comment]] = defaultdict(list)
    for reply in replies:
        for commenter in _recipients(reply):
            if commenter.pk in candidates:
                wanted[commenter.pk].append(reply)
    threads = dict(
        Comment.objects.filter(tree_id__in={reply.tree_id for reply in replies}, parent=None)
        .values_list("tree_id", "pk")
    )
    digests = set(
        ReplyMailPreference.objects.filter(
            commenter_id__in=wanted, frequency=ReplyMailPreference.Frequency.DAILY
        ).values_list("commenter_id", flat=True)
    )
    made = 0
    deliveries: dict[tuple[int, int | None], datetime] = {}
    for recipient_id in sorted(wanted):
        digest = recipient_id in digests
        noticed = set(
            ReplyNotice.objects.filter(
                recipient_id=recipient_id, reply__in=wanted[recipient_id]
            ).values_list("reply_id", flat=True)
        )
        for reply in wanted[recipient_id]:
            if reply.pk in noticed:
                continue
            thread_id = threads[reply.tree_id]
            batch = ReplyNotice.objects.filter(recipient_id=recipient_id, digest=digest, sent=None)
            if not digest:
                batch = batch.filter(thread_id=thread_id)
            due = batch.aggregate(due=Min("due"))["due"] or _batch_due(
                recipient_id=recipient_id, thread_id=thread_id, digest=digest, now=now
            )
            ReplyNotice.objects.create(
                recipient_id=recipient_id, reply=reply, thread_id=thread_id, digest=digest, due=due
            )
            made += 1
            deliveries[(recipient_id, None if digest else thread_id)] = due
    # Queued in this transaction: a notice is never stored without a delivery to send it.
    for (recipient_id, thread_id), due in deliveries.items():
        deliver = replies_deliver
        if due > now and deliver.get_backend().supports_defer:
            deliver = deliver.using(run_after=due)
        deliver.enqueue(recipient_id=recipient_id, thread_id=thread_id)
    return made


@dataclass
class _Thread:
    """The replies of one thread in a mail, with the link that stops mail about the thread."""

    article: str
    article_url: str
    replies: list[dict]
    unsubscribe_url: str


def _unsubscribe_url(scope: Unsubscribe) -> str:
    return absolute_url(reverse("comments:unsubscribe", args=[unsubscribe_token(scope)]))


def reply_mail(
    *, recipient: Commenter, replies: list[tuple[int, Comment]], digest: bool
) -> dict:
    """The subject, text, HTML and headers of the mail about `replies` ((thread id, reply)
    pairs, in thread order) to `recipient`."""
    threads: dict[int, _Thread] = {}
    for thread_id, reply in replies:
        if thread_id not in threads:
            threads[thread_id] = _Thread(
                article=str(reply.article),
                article_url=absolute_url(reply.article.get_absolute_url()),
                replies=[],
                unsubscribe_url=_unsubscribe_url(
                    Unsubscribe(commenter_id=recipient.pk, thread_id=thread_id)
                ),
            )
        threads[thread_id].replies.append(
            {
                "author": reply.author_name,
                "excerpt": Truncator(reply.body).chars(EXCERPT_CHARACTERS),
                "url": absolute_url(reply.get_absolute_url()),
            }
        )
    # The header's one-click link stops all reply mail: a mail program's "Unsubscribe" button
    # means "no more of these"; the page linked in the mail also offers one thread alone.
    token = unsubscribe_token(Unsubscribe(commenter_id=recipient.pk))
    unsubscribe_all = absolute_url(reverse("comments:unsubscribe", args=[token]))
    context = {
        "name": recipient.display_name,
        "threads": list(threads.values()),
        "count": len(replies),
        "digest": digest,
        "batch_minutes": settings.NOTIFY_BATCH_MINUTES,
        # The page in the mail offers this thread or everything; a digest's, everything.
        "unsubscribe_url": unsubscribe_all if digest else threads[replies[0][0]].unsubscribe_url,
        "settings_url": absolute_url(reverse("comments:settings"))
        if recipient.user_id is not None
        else "",
    }
    subject = render_to_string("comments/mail/replies_subject.txt", context)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return {
        "subject": " ".join(subject.split()),
        "text": render_to_string("comments/mail/replies.txt", context),
        "html": render_to_string("comments/mail/replies.html", context),
        "headers": {
            "List-Unsubscribe": f"<mailto:{sender}?subject=unsubscribe%20{token}>, "
            f"<{unsubscribe_all}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


@transaction.atomic
def notices_deliver(*, recipient_id: int, thread_id: int | None, now: datetime) -> bool:
    """Mail the recipient's unsent notices of a thread (`thread_id`), or of its daily digest
    (None), in one mail; returns whether a mail was queued.

    The mail is queued in the same transaction that marks the notices sent: both happen, or
    neither. Replies hidden since they were published are left out.
    """
    if not Commenter.objects.select_for_update().filter(pk=recipient_id).exists():
        return False
    recipient = Commenter.objects.select_related("user").get(pk=recipient_id)
    batch = ReplyNotice.objects.filter(
        recipient_id=recipient_id, sent=None, digest=thread_id is None
    )
    if thread_id is not None:
        batch = batch.filter(thread_id=thread_id)
    notices = list(
        batch.select_related("reply__article").order_by("thread_id", "reply__lft")
    )
    if not notices:
        return False
    ReplyNotice.objects.filter(recipient_id=recipient_id, sent__lt=now - SENT_KEPT).delete()
    ReplyNotice.objects.filter(pk__in=[notice.pk for notice in notices]).update(sent=now)
    replies = [
        (notice.thread_id, notice.reply)
        for notice in notices
        if notice.reply.status == Comment.Status.PUBLISHED
    ]
    address = recipient_address(recipient)
    if not replies or not address:
        return False
    mail = reply_mail(recipient=recipient, replies=replies, digest=thread_id is None)
    mail_send.enqueue(to=address, **mail)
    return True
