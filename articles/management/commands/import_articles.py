"""Load article files (the format the README describes under "Importing articles") into articles
and their comment trees."""

import os
import stat
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from articles.importer import ParseError, article_parse
from articles.models import Article
from articles.services import article_check, article_import, statistics_refresh
from comments.locks import lock_timeout_seconds
from newsroom.locking import LockTimeout


class FileFailed(Exception):
    """One PATH or file that could not be imported; the message is the line for stderr."""


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether a directory entry is a directory; one that cannot be examined is read as a file,
    so that reading it reports why."""
    try:
        return entry.is_dir()
    except OSError:
        return False


class Command(BaseCommand):
    help = (
        "Import article files: each PATH is a .txt file or a directory of them (read in name "
        "order); without PATH, fixtures/seeds/. A file whose name was imported before updates "
        "its article in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="PATH")
        parser.add_argument(
            "--dry-run", action="store_true", help="parse and report, write nothing"
        )

    def handle(self, *args, paths, dry_run, verbosity, **options):
        new = updated = unchanged = comments = failed = 0
        written = set()
        for path, problem in self._files(paths or [settings.BASE_DIR / "fixtures" / "seeds"]):
            try:
                if problem:
                    raise FileFailed(f"{path}: {problem}")
                created, changed, count, status, models = self._import(path, dry_run=dry_run)
            except FileFailed as exc:
                self.stderr.write(str(exc))
                failed += 1
                continue
            written |= models
            new += created
            updated += changed and not created
            unchanged += not changed
            comments += count
            if verbosity >= 2:
                self.stdout.write(f"{path}: {status}, {count} comments")

        # Until its statistics are refreshed, PostgreSQL plans as if the tables were as before.
        statistics_refresh(models=written)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        articles = new + updated + unchanged
        counts = f"{new} new, {updated} updated" + (f", {unchanged} unchanged" if unchanged else "")
        self.stdout.write(
            f"{articles} articles ({counts}), {comments} comments imported; {failed} files failed"
        )
        if failed:
            raise CommandError(f"{failed} of {failed + articles} files failed", returncode=1)

    def _import(self, path: Path, *, dry_run: bool) -> tuple[bool, bool, int, str, frozenset]:
        """Import one file (in its own transaction).

        Returns (created, changed, comments, status, models written); a dry run counts every
        file as changed and writes nothing.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FileFailed(f"{path}: cannot read the file: {exc.strerror}") from exc
        try:
            parsed = article_parse(data)
            if dry_run:
                article_check(parsed=parsed, source_key=path.stem)
                created = not Article.objects.filter(source_key=path.stem).exists()
                status = "would be new" if created else "would update its article"
                return created, True, parsed.comment_count, status, frozenset()
            result = article_import(parsed=parsed, source_key=path.stem)
        except ParseError as exc:
            where = f"{path}:{exc.line}" if exc.line else f"{path}"
            raise FileFailed(f"{where}: {exc.reason}") from exc
        except LockTimeout as exc:
            raise FileFailed(
                f"{path}: not stored, its article stayed locked by another write for more than "
                f"{lock_timeout_seconds()} s: import it again"
            ) from exc
        except DatabaseError as exc:
            raise FileFailed(f"{path}: not stored, the database refused it: {exc}") from exc
        return (
            result.created, result.changed, result.comments, self._status(result), result.written
        )

    def _files(self, paths) -> list[tuple[Path, str]]:
        """The files to read, in order and each once, each with the problem that stops it.

        Path.is_dir() and glob() raise or keep quiet on a directory that may not be read;
        os.stat() and os.scandir() say why, and that becomes the path's problem.
        """
        files: dict[Path, str] = {}
        for given in map(Path, paths):
            try:
                is_dir = stat.S_ISDIR(given.stat().st_mode)
            except FileNotFoundError:
                files[given] = "no such file or directory"
                continue
            except OSError as exc:
                files[given] = f"cannot read the path: {exc.strerror}"
                continue
            if not is_dir:
                files[given] = ""
                continue
            try:
                with os.scandir(given) as entries:
                    found = sorted(
                        Path(entry.path)
                        for entry in entries
                        if entry.name.endswith(".txt") and not _is_dir(entry)
                    )
            except OSError as exc:
                files[given] = f"cannot read the directory: {exc.strerror}"
                continue
            files.update(dict.fromkeys(found, ""))
            if not found:
                files[given] = "no .txt files in this directory"
        return list(files.items())

    def _status(self, result) -> str:
        if result.created:
            return f"new article {result.article.slug}"
        if not result.changed:
            return f"unchanged ({result.article.slug})"
        return (
            f"updated {result.article.slug}: {result.added} comments added, "
            f"{result.updated} updated, {result.removed} marked removed"
        )
