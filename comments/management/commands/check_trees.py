from django.core.management.base import BaseCommand, CommandError

from comments.trees.checks import tree_count, tree_problems
from comments.trees.repair import trees_repair


class Command(BaseCommand):
    help = (
        "Check that every comment tree is a valid nested set; with --repair, rebuild the broken "
        "ones from their parent links. Exits with status 1 while a tree is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Rebuild each broken tree from its parent links."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="With --repair: list the trees that would be rebuilt, and change nothing.",
        )

    def handle(self, *args, repair, dry_run, verbosity, **options):
        if dry_run and not repair:
            raise CommandError("--dry-run only makes sense with --repair.")
        broken = tree_problems()
        total = tree_count()
        for tree_id, problems in sorted(broken.items()):
            self.stderr.write(f"Tree {tree_id} is broken:")
            for problem in problems:
                self.stderr.write(f"  {problem}")
        if not broken:
            if verbosity >= 1:
                self.stdout.write(self.style.SUCCESS(f"All {total} comment trees are valid."))
            return
        if not repair:
            raise CommandError(
                f"{len(broken)} of {total} comment trees are broken. "
                "Run check_trees --repair to rebuild them.",
                returncode=1,
            )
        listed = ", ".join(map(str, sorted(broken)))
        if dry_run:
            self.stdout.write(f"Would rebuild {len(broken)} tree(s): {listed}.")
            raise CommandError("Dry run: nothing was repaired.", returncode=1)

        left = trees_repair(tree_ids=set(broken))
        if verbosity >= 1:
            self.stdout.write(f"Rebuilt {len(broken)} tree(s): {listed}.")
        for tree_id, problems in sorted(left.items()):
            self.stderr.write(f"Tree {tree_id} is still broken after the rebuild:")
            for problem in problems:
                self.stderr.write(f"  {problem}")
        if left:
            raise CommandError(
                f"{len(left)} tree(s) could not be repaired: their parent links are broken.",
                returncode=1,
            )
        if verbosity >= 1:
            valid = f"All {tree_count()} comment trees are valid now."
            self.stdout.write(self.style.SUCCESS(valid))
