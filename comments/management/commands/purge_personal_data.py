from django.conf import settings
from django.core.management.base import BaseCommand

from comments.guests import UNCONFIRMED_DAYS
from comments.notifications import SENT_KEPT
from comments.retention import personal_data_purge


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Clear the IP addresses and user agents of comments and reports older than "
        "COMMENTS_IP_RETENTION_DAYS, delete guests' comments left unconfirmed for "
        f"{UNCONFIRMED_DAYS} days and the record of reply mail sent more than "
        f"{SENT_KEPT.days} days ago. Run it daily, from cron or a scheduler; a second run "
        "changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be cleared or deleted, and change nothing.",
        )

    def handle(self, *args, dry_run, verbosity, **options):
        counts = personal_data_purge(dry_run=dry_run)
        if verbosity < 1:
            return
        days = settings.COMMENTS_IP_RETENTION_DAYS
        clear, delete = ("Would clear", "Would delete") if dry_run else ("Cleared", "Deleted")
        lines = [
            f"{clear} the IP address and user agent of "
            f"{_plural(counts.comments_cleared, 'comment')} older than {days} days.",
            f"{clear} the IP address of {_plural(counts.reports_cleared, 'report')} older "
            f"than {days} days.",
            f"{delete} {_plural(counts.unconfirmed_deleted, 'unconfirmed comment')} older "
            f"than {UNCONFIRMED_DAYS} days.",
            f"{delete} {_plural(counts.notices_deleted, 'reply notice')} mailed more than "
            f"{SENT_KEPT.days} days ago.",
        ]
        if verbosity < 2 and not counts.total:
            lines = ["Nothing to clear or delete."]
        for line in lines:
            self.stdout.write(line)
