"""Mail that explains moderators' decisions, sent by the task worker.

- The author of a held comment that a moderator publishes is told, unless they turned it off
  (DecisionMailPreference; a link in the mail turns it off without signing in).
- The author of a comment removed or marked as spam is told that it will not be published (or
  is no longer), with the moderator's reason and the article's discussion policy. This is the
  statement of reasons for a decision about their own words, so it cannot be turned off.
- A reporter who left an address is thanked once the report is decided; the address is
  cleared when the mail is queued.
- Moderators are alerted when too many comments wait, or one has waited too long, at most
  once an hour across every process.

"The author" is the comment's commenter: an account, or a guest's confirmed address. The
address an unconfirmed guest typed proves nothing, so it is never mailed.

The services only call `decision_notify` and `moderation_alert_check`, which queue a task once
the transaction commits; the worker reads and mails. A mail that fails is retried by
`mail_send` and never undoes the decision.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models import Min
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from comments.models import (
    REMOVAL_REASON_SHORT,
    Comment,
    Commenter,
    Decision,
    DecisionMailPreference,
    Report,
)
from comments.notifications import recipient_address
from comments.sanctions import REJECTED
from comments.subscriptions import Unsubscribe, unsubscribe_token
from newsroom.mail import absolute_url, mail_queue

logger = logging.getLogger(__name__)

EXCERPT_CHARACTERS = 600
# The links that stop the mail about published comments: signed like the reply mail's
# unsubscribe links, under a salt of their own.
PUBLISHED_MAIL_SALT = "comments.decision_mail.published"
MODERATORS_GROUP = "Moderators"
ALERT_KEY = "moderation-alert"
ALERT_INTERVAL = timedelta(hours=1)


def decision_notify(*, comments: Iterable[Comment], status: str) -> None:
    """Tell the authors of `comments` that a moderator gave them `status`, and thank the
    reporters of the reports decided with it.

    `comments` are the rows as they were before the decision (a list read before the update,
    or a queryset evaluated here, before the new status is written): an author is told when
    a comment becomes published, or removed or spam, not when a removed comment is marked as
    spam or a published one's reports are dismissed. Only queues a task after the commit.
    """
    told = [
        comment
        for comment in comments
        if comment.commenter_id is not None and _tells(before=comment.status, after=status)
    ]
    if not told and not _reporters_waiting():
        return
    published = Comment.Status.PUBLISHED
    transaction.on_commit(
        partial(
            _enqueue,
            decisions_mail,
            comment_ids=sorted(comment.pk for comment in told),
            status=status,
            published_before=sorted(c.pk for c in told if c.status == published),
        )
    )


def _reporters_waiting() -> bool:
    """Whether a decided report still has an address to thank (addresses are cleared once
    thanked: a partial index holds only these few rows)."""
    return Report.objects.filter(resolved=True).exclude(email="").exists()


def _tells(*, before: str, after: str) -> bool:
    if after == Comment.Status.PUBLISHED:
        return before != Comment.Status.PUBLISHED
    return after in REJECTED and before not in REJECTED


def moderation_alert_check() -> None:
    """Look at the moderators' queue once the transaction commits (a comment was held or a
    report made), and alert the moderators when it is too long or too old."""
    if settings.MODERATION_ALERT_QUEUE or settings.MODERATION_ALERT_MINUTES:
        transaction.on_commit(partial(_enqueue, moderation_alert))


def _enqueue(mail_task, **kwargs) -> None:
    # The decision has committed; a queue that cannot take the task loses these mails only.
    try:
        mail_task.enqueue(**kwargs)
    except Exception as error:
        logger.error("Task %s not queued: %s", mail_task.name, error)


@task
def decisions_mail(*, comment_ids: list[int], status: str, published_before: list[int]) -> None:
    authors_mail(comment_ids=comment_ids, status=status, published_before=published_before)
    reporters_thank()


@task
def moderation_alert() -> None:
    moderation_alert_send(now=timezone.now())


def _excerpt(comment: Comment) -> dict:
    return {"excerpt": Truncator(comment.body).chars(EXCERPT_CHARACTERS)}


def _published_mail_token(commenter: Commenter) -> str:
    return unsubscribe_token(Unsubscribe(commenter_id=commenter.pk), salt=PUBLISHED_MAIL_SALT)


def published_mail_url(commenter: Commenter) -> str:
    token = _published_mail_token(commenter)
    return absolute_url(reverse("comments:decision_mail_stop", args=[token]))


def _published_mail(commenter: Commenter, article, comments: list[Comment]) -> dict:
    stop_url = published_mail_url(commenter)
    context = {
        "name": commenter.display_name,
        "article": str(article),
        "article_url": absolute_url(article.get_absolute_url()),
        "comments": [
            {**_excerpt(comment), "url": absolute_url(comment.get_absolute_url())}
            for comment in comments
        ],
        "stop_url": stop_url,
        "settings_url": _settings_url(commenter),
    }
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return {
        "subject": f"Your comment on “{article}” is published"
        if len(comments) == 1
        else f"Your comments on “{article}” are published",
        "text": render_to_string("comments/mail/decision_published.txt", context),
        "html": render_to_string("comments/mail/decision_published.html", context),
        "headers": {
            "List-Unsubscribe": f"<mailto:{sender}?subject=unsubscribe%20"
            f"{_published_mail_token(commenter)}>, <{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }


def _rejected_mail(commenter: Commenter, article, comments: list[Comment], status: str) -> dict:
    reason = comments[0].removal_reason
    # A published comment "is removed"; a held one "will not be published".
    were_published = [c for c in comments if c.was_published]
    context = {
        "name": commenter.display_name,
        "article": str(article),
        "article_url": absolute_url(article.get_absolute_url()),
        "comments": [
            {**_excerpt(comment), "was_published": comment.was_published} for comment in comments
        ],
        "any_published": bool(were_published),
        "spam": status == Comment.Status.SPAM,
        "reason": Decision.Reason(reason).label if reason else "",
        "reason_short": REMOVAL_REASON_SHORT.get(reason, ""),
        "policy": getattr(article, "discussion_policy", "") or "",
        "settings_url": _settings_url(commenter),
    }
    many = len(comments) > 1
    if were_published:
        subject = (
            f"Your comment{'s' if many else ''} on “{article}” {'were' if many else 'was'} removed"
        )
    else:
        subject = f"Your comment{'s' if many else ''} on “{article}” will not be published"
    return {
        "subject": subject,
        "text": render_to_string("comments/mail/decision_rejected.txt", context),
        "html": render_to_string("comments/mail/decision_rejected.html", context),
    }


def _settings_url(commenter: Commenter) -> str:
    if commenter.user_id is None:
        return ""
    return absolute_url(reverse("comments:settings"))


def authors_mail(
    *, comment_ids: list[int], status: str, published_before: Collection[int] = ()
) -> int:
    """Queue the mail to the authors of `comment_ids`, just given `status`: one per author and
    article. `published_before` are those that were published until then (a removal then
    says "was removed", not "will not be published"). A comment whose status has changed
    again since is left out (the later decision tells). Returns the mails queued."""
    if not comment_ids:
        return 0
    comments = list(
        Comment.objects.filter(pk__in=comment_ids, status=status, commenter__isnull=False)
        .select_related("article", "commenter__user")
        .order_by("article_id", "tree_id", "lft")
    )
    if status == Comment.Status.PUBLISHED:
        silent = set(
            DecisionMailPreference.objects.filter(
                commenter_id__in={c.commenter_id for c in comments}, published=False
            ).values_list("commenter_id", flat=True)
        )
        comments = [c for c in comments if c.commenter_id not in silent]
    else:
        for comment in comments:
            comment.was_published = comment.pk in published_before
    groups: dict[tuple[int, int], list[Comment]] = defaultdict(list)
    for comment in comments:
        groups[(comment.commenter_id, comment.article_id)].append(comment)
    queued = 0
    for group in groups.values():
        commenter, article = group[0].commenter, group[0].article
        user = commenter.user
        if user is not None and not user.is_active:
            continue
        address = recipient_address(commenter)
        if not address:
            continue
        if status == Comment.Status.PUBLISHED:
            mail = _published_mail(commenter, article, group)
        else:
            mail = _rejected_mail(commenter, article, group, status)
        mail_queue(to=address, **mail)
        queued += 1
    return queued


@transaction.atomic
def reporters_thank() -> int:
    """Thank, once, every reporter who left an address and whose report is decided: one mail
    per address, naming what the moderators did about each comment. The addresses are
    cleared in the same transaction, so a second run finds nothing. Returns the mails queued."""
    reports = list(
        Report.objects.select_for_update()
        .filter(resolved=True)
        .exclude(email="")
        .select_related("comment__article")
        .order_by("pk")
    )
    if not reports:
        return 0
    Report.objects.filter(pk__in=[report.pk for report in reports]).update(email="")
    by_address: dict[str, list[Report]] = defaultdict(list)
    for report in reports:
        by_address[report.email.strip().lower()].append(report)
    for theirs in by_address.values():
        items = []
        for report in theirs:
            comment = report.comment
            reason = comment.removal_reason
            items.append(
                {
                    "article": str(comment.article),
                    "article_url": absolute_url(comment.article.get_absolute_url()),
                    "excerpt": Truncator(comment.body).chars(200),
                    "reported_as": report.get_reason_display(),
                    "removed": comment.status in REJECTED,
                    "reason": Decision.Reason(reason).label if reason else "",
                }
            )
        context = {"reports": items}
        mail_queue(
            to=theirs[0].email,
            subject="Your report has been decided — thank you"
            if len(items) == 1
            else "Your reports have been decided — thank you",
            text=render_to_string("comments/mail/report_decided.txt", context),
            html=render_to_string("comments/mail/report_decided.html", context),
        )
    return len(by_address)


def moderation_queue_state(now: datetime) -> tuple[int, int | None]:
    """How many comments await review, and for how many minutes the oldest has waited (a
    held comment since it was posted, a reported one since its first open report)."""
    waiting = Comment.objects.awaiting_review().count()
    if not waiting:
        return 0, None
    oldest_held = Comment.objects.filter(status=Comment.Status.PENDING).aggregate(
        oldest=Min("created")
    )["oldest"]
    oldest_report = Report.objects.filter(resolved=False).aggregate(oldest=Min("created"))["oldest"]
    oldest = min((t for t in (oldest_held, oldest_report) if t is not None), default=None)
    if oldest is None:
        return waiting, None
    return waiting, int((now - oldest).total_seconds() // 60)


def moderators_addresses() -> list[str]:
    """The addresses of the active staff users in the Moderators group."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=MODERATORS_GROUP)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )
    return list(users.values_list("email", flat=True))


def moderation_alert_send(*, now: datetime, claim: Callable[[], bool] | None = None) -> bool:
    """Mail the moderators when more than MODERATION_ALERT_QUEUE comments wait, or the oldest
    has waited more than MODERATION_ALERT_MINUTES (0 turns either off), unless an alert went
    out in the last hour. Returns whether one was queued.

    The hour is claimed with `add()` on the counters cache, which only one process wins
    whatever the number of workers; with that cache away, no alert is sent (it logs why).
    """
    limit, minutes = settings.MODERATION_ALERT_QUEUE, settings.MODERATION_ALERT_MINUTES
    waiting, waited = moderation_queue_state(now)
    too_many = bool(limit) and waiting > limit
    too_old = bool(minutes) and waited is not None and waited > minutes
    if not (too_many or too_old):
        return False
    recipients = moderators_addresses()
    if not recipients:
        return False
    if not (claim or _claim_hour)():
        return False
    context = {
        "waiting": waiting,
        "waited": waited,
        "hours_waited": (waited or 0) // 60,
        "limit": limit,
        "minutes": minutes,
        "too_many": too_many,
        "too_old": too_old,
        "queue_url": absolute_url(reverse("admin:comments_commentqueue_changelist")),
    }
    subject = (
        "1 comment waits for moderation"
        if waiting == 1
        else f"{waiting} comments wait for moderation"
    )
    text = render_to_string("comments/mail/moderation_alert.txt", context)
    html = render_to_string("comments/mail/moderation_alert.html", context)
    for address in recipients:
        mail_queue(to=address, subject=subject, text=text, html=html)
    return True


def _claim_hour() -> bool:
    try:
        claimed = caches["counters"].add(
            ALERT_KEY, timezone.now().isoformat(), timeout=int(ALERT_INTERVAL.total_seconds())
        )
    except Exception as error:
        logger.error("Moderation alert not sent: the counters cache failed: %s", error)
        return False
    return bool(claimed)


@transaction.atomic
def published_mail_set(*, commenter: Commenter, published: bool) -> bool:
    """Turn the mail about the commenter's published comments on or off; returns whether
    this changed it."""
    preference, created = DecisionMailPreference.objects.select_for_update().get_or_create(
        commenter=commenter, defaults={"published": published}
    )
    if created:
        return not published
    if preference.published == published:
        return False
    preference.published = published
    preference.save(update_fields=["published"])
    return True


def published_mail_wanted(commenter: Commenter | None) -> bool:
    if commenter is None or commenter.pk is None:
        return True
    return not DecisionMailPreference.objects.filter(commenter=commenter, published=False).exists()
