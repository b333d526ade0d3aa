"""How long the site keeps what identifies a reader beyond their comments: the IP addresses and
user agents of comments and reports (COMMENTS_IP_RETENTION_DAYS), unconfirmed guests' comments
(UNCONFIRMED_DAYS) and the record of reply mail already sent (SENT_KEPT).

Moderators need a comment's address while it may still be blocked or a flood traced; after
that it only identifies the reader. `manage.py purge_personal_data` applies these limits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from comments.models import Comment, ReplyNotice, Report
from comments.notifications import SENT_KEPT
from comments.services import unconfirmed_comments_purge

REPORTER_SALT = "comments.retention.reporter"
# A report's reporter key once its address is cleared: still one key per reporter, so the
# count of distinct reporters and "already reported" hold, but no address can be read back.
FORGOTTEN_REPORTER_PREFIX = "kept:"
BATCH = 500


@dataclass(frozen=True)
class PurgeCounts:
    """What a purge cleared or deleted (or, in a dry run, would)."""

    comments_cleared: int
    reports_cleared: int
    unconfirmed_deleted: int
    notices_deleted: int

    @property
    def total(self) -> int:
        return (
            self.comments_cleared
            + self.reports_cleared
            + self.unconfirmed_deleted
            + self.notices_deleted
        )


def ip_retention_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.COMMENTS_IP_RETENTION_DAYS)


def comments_to_clear(cutoff: datetime):
    """Comments written before `cutoff` that still hold an IP address or a user agent."""
    return Comment.objects.filter(created__lt=cutoff).filter(
        Q(ip_address__isnull=False) | ~Q(user_agent="")
    )


def reports_to_clear(cutoff: datetime):
    """Reports made before `cutoff` that still hold an IP address, or a reporter key made
    from one."""
    return Report.objects.filter(created__lt=cutoff).filter(
        Q(ip_address__isnull=False) | Q(reporter__startswith="ip")
    )


def spent_notices(now: datetime):
    """Reply notices mailed longer ago than SENT_KEPT: they no longer space any mail."""
    return ReplyNotice.objects.filter(sent__lt=now - SENT_KEPT)


def forgotten_reporter(key: str) -> str:
    """A reporter key with the address it was made from replaced by a keyed hash."""
    if key.startswith(FORGOTTEN_REPORTER_PREFIX):
        return key
    digest = salted_hmac(REPORTER_SALT, key, algorithm="sha256").hexdigest()
    return FORGOTTEN_REPORTER_PREFIX + digest[:40]


def _reports_clear(cutoff: datetime) -> int:
    cleared = 0
    while batch := list(reports_to_clear(cutoff).order_by("pk")[:BATCH]):
        for report in batch:
            report.ip_address = None
            report.reporter = forgotten_reporter(report.reporter)
        Report.objects.bulk_update(batch, ["ip_address", "reporter"])
        cleared += len(batch)
    return cleared


@transaction.atomic
def personal_data_purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeCounts:
    """Clear the IP addresses and user agents older than COMMENTS_IP_RETENTION_DAYS, and delete
    unconfirmed comments and spent reply notices. `dry_run` only counts. A second run finds
    nothing more to do."""
    now = now or timezone.now()
    cutoff = ip_retention_cutoff(now)
    if dry_run:
        return PurgeCounts(
            comments_cleared=comments_to_clear(cutoff).count(),
            reports_cleared=reports_to_clear(cutoff).count(),
            unconfirmed_deleted=unconfirmed_comments_purge(dry_run=True),
            notices_deleted=spent_notices(now).count(),
        )
    return PurgeCounts(
        comments_cleared=comments_to_clear(cutoff).update(ip_address=None, user_agent=""),
        reports_cleared=_reports_clear(cutoff),
        unconfirmed_deleted=unconfirmed_comments_purge(),
        notices_deleted=spent_notices(now).delete()[0],
    )
