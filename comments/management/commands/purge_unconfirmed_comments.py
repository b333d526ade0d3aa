from django.core.management.base import BaseCommand

from comments.guests import UNCONFIRMED_DAYS
from comments.services import unconfirmed_comments_purge


class Command(BaseCommand):
    help = (
        f"Delete guests' comments whose confirmation link was not followed within "
        f"{UNCONFIRMED_DAYS} days (COMMENTS_GUESTS=verify). Run it daily, from cron or a "
        "scheduler; a second run the same day deletes nothing more."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the comments that would be deleted, and delete nothing.",
        )

    def handle(self, *args, dry_run, verbosity, **options):
        count = unconfirmed_comments_purge(dry_run=dry_run)
        if verbosity >= 1:
            verb = "Would delete" if dry_run else "Deleted"
            self.stdout.write(
                f"{verb} {count} unconfirmed comment{'' if count == 1 else 's'} older than "
                f"{UNCONFIRMED_DAYS} days."
            )
