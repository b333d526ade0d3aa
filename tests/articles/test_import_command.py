"""`manage.py import_articles`: files and directories, summaries, errors, dry runs."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.management.commands import import_articles
from articles.models import Article
from comments.models import Comment
from newsroom.locking import LockTimeout
from tests.articles.test_services import assert_forest_valid, snapshot

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
SEED_SUMMARY = "5 articles (5 new, 0 updated), 39 comments imported; 0 files failed"

GOOD = "A Good Story\n\nCITY—Text.\n\n  1. Ann said:\n\n    Hello.\n"


def run(*args, fails: bool = False) -> tuple[str, str]:
    """Run the command; return its stdout and stderr. `fails`: expect exit status 1."""
    out, err = StringIO(), StringIO()
    if fails:
        with pytest.raises(CommandError) as caught:
            call_command("import_articles", *args, stdout=out, stderr=err)
        assert caught.value.returncode == 1
    else:
        call_command("import_articles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_without_a_path_it_imports_the_seeds():
    out, err = run()
    assert last_line(out) == SEED_SUMMARY
    assert err == ""
    assert (Article.objects.count(), Comment.objects.count()) == (5, 39)
    assert_forest_valid()


def test_a_second_run_leaves_the_same_rows():
    run(str(SEEDS))
    before = snapshot()
    out, _ = run(str(SEEDS))
    assert last_line(out) == (
        "5 articles (0 new, 0 updated, 5 unchanged), 39 comments imported; 0 files failed"
    )
    assert snapshot() == before


def test_a_changed_file_counts_as_updated_and_the_others_as_unchanged(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD)
    (tmp_path / "b.txt").write_text(GOOD.replace("Good", "Second"))
    run(str(tmp_path))
    (tmp_path / "a.txt").write_text(GOOD + "\n  2. Bob said:\n\n    Me too.\n")
    out, _ = run(str(tmp_path))
    assert last_line(out) == (
        "2 articles (0 new, 1 updated, 1 unchanged), 3 comments imported; 0 files failed"
    )


def test_verbosity_2_prints_one_line_per_file():
    out, _ = run(str(SEEDS), "--verbosity", "2")
    lines = out.strip().splitlines()
    assert len(lines) == 6
    assert lines[0] == (
        f"{SEEDS / '000_d0250cf769dc7508.txt'}: new article "
        "sarkisian-concerned-over-russian-arms-sales-to-baku, 11 comments"
    )
    assert [line.split(":")[0] for line in lines[:5]] == [
        str(path) for path in sorted(SEEDS.glob("*.txt"))
    ]
    out, _ = run(str(SEEDS), "--verbosity", "2")
    assert "unchanged" in out.splitlines()[3]
    assert out.splitlines()[3].endswith(", 0 comments")


def test_verbosity_1_prints_only_the_summary():
    out, _ = run(str(SEEDS / "001_72096f80cf22903d.txt"))
    assert out == "1 articles (1 new, 0 updated), 6 comments imported; 0 files failed\n"


def test_dry_run_writes_nothing():
    out, err = run("--dry-run", "--verbosity", "2")
    assert last_line(out) == SEED_SUMMARY
    assert "Dry run: nothing was written." in out
    assert "would be new" in out
    assert (Article.objects.count(), Comment.objects.count(), err) == (0, 0, "")
    run(str(SEEDS / "004_de28ef22d8f50bdd.txt"))
    before = snapshot()
    out, _ = run("--dry-run")
    assert last_line(out) == "5 articles (4 new, 1 updated), 39 comments imported; 0 files failed"
    assert snapshot() == before


def test_files_and_directories_in_name_order_each_once(tmp_path):
    (tmp_path / "b.txt").write_text(GOOD.replace("A Good", "Second"))
    (tmp_path / "a.txt").write_text(GOOD)
    (tmp_path / "notes.md").write_text("not an article")
    out, _ = run(str(tmp_path), str(tmp_path / "a.txt"), "-v", "2")
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [
        str(tmp_path / "a.txt"), str(tmp_path / "b.txt"),
    ]
    assert last_line(out) == "2 articles (2 new, 0 updated), 2 comments imported; 0 files failed"
    assert list(Article.objects.order_by("source_key").values_list("source_key", flat=True)) == [
        "a", "b",
    ]


def test_bom_crlf_and_armenian_names_are_stored_as_written(tmp_path):
    lines = [
        "Երևանի լուրեր",
        "By: Անի Հակոբյան",
        "",
        "ԵՐԵՎԱՆ (Արմենպրես) — Առաջին պարբերություն։",
        "",
        "  1. Արամ said:",
        "",
        "    Տող մեկ,",
        "    տող երկու։",
        "",
        "    • Gohar said: yes",
        "",
        "    • Գոհար said:",
        "",
        "      Պատասխան։",
    ]
    path = tmp_path / "armenian.txt"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    out, err = run(str(path))
    assert (last_line(out), err) == (
        "1 articles (1 new, 0 updated), 2 comments imported; 0 files failed", "",
    )
    article = Article.objects.get()
    assert (article.title, article.byline) == ("Երևանի լուրեր", "Անի Հակոբյան")
    assert (article.location, article.agency) == ("ԵՐԵՎԱՆ", "Արմենպրես")
    assert article.slug == "armenian"
    aram, gohar = Comment.objects.order_by("lft")
    assert (aram.author_name, aram.body) == ("Արամ", "Տող մեկ,\nտող երկու։\n\n• Gohar said: yes")
    assert (gohar.author_name, gohar.body, gohar.parent_id) == ("Գոհար", "Պատասխան։", aram.pk)
    assert "\r" not in aram.body + gohar.body + article.title


BAD_FILES = [
    ("invalid_utf8.txt", b"Title\n\nCaf\xe9\n", 3, "not valid UTF-8 (byte 0xe9)"),
    ("empty.txt", b"", 1, "the file is empty"),
    ("blank.txt", b"\n\n   \n", 1, "the file has only blank lines"),
    ("binary.txt", b"GIF89a\x01\x00\x00\x00", 1, "binary content: control character U+0001"),
    (
        "orphan.txt",
        b"Title\n\nBody.\n\n    \xe2\x80\xa2 Early said:\n\n      Hi.\n",
        5,
        "reply has no parent",
    ),
    (
        "skipped.txt",
        "Title\n\nBody.\n\n  1. Ann said:\n\n    Hi.\n\n      • Jump said:\n".encode(),
        9,
        "reply at depth 2 skips a level",
    ),
    ("no_author.txt", b"Title\n\nBody.\n\n  1.  said:\n", 5, "comment marker has no author"),
]


@pytest.mark.parametrize(("name", "data", "line", "reason"), BAD_FILES)
def test_a_bad_file_is_reported_stores_nothing_and_the_others_import(
    tmp_path, name, data, line, reason
):
    (tmp_path / "a_good.txt").write_text(GOOD)
    (tmp_path / name).write_bytes(data)
    (tmp_path / "z_good.txt").write_text(GOOD.replace("A Good", "Another Good"))
    out, err = run(str(tmp_path), fails=True)
    assert err.startswith(f"{tmp_path / name}:{line}: {reason}")
    assert len(err.strip().splitlines()) == 1
    assert last_line(out) == "2 articles (2 new, 0 updated), 2 comments imported; 1 files failed"
    assert sorted(Article.objects.values_list("source_key", flat=True)) == ["a_good", "z_good"]
    assert Comment.objects.count() == 2


def test_a_bad_new_version_keeps_the_stored_one(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(GOOD)
    run(str(path))
    before = snapshot()
    path.write_text(GOOD + "\n      • Jump said:\n\n        Too deep.\n")
    _, err = run(str(path), fails=True)
    assert err == f"{path}:9: reply at depth 2 skips a level: the comment above it is at depth 0\n"
    assert snapshot() == before


def test_a_value_too_long_for_the_database_is_a_file_error(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(GOOD.replace("Ann", "A" * 201))
    _, err = run(str(path), fails=True)
    assert err == f"{path}:5: the author name is longer than 200 characters\n"
    assert Article.objects.count() == 0
    _, err = run(str(path), "--dry-run", fails=True)
    assert err == f"{path}:5: the author name is longer than 200 characters\n"


def test_missing_paths_empty_directories_and_unreadable_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("no articles here")
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "good.txt").write_text(GOOD)
    (articles / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    out, err = run(str(tmp_path / "missing"), str(empty), str(articles), fails=True)
    assert err.splitlines() == [
        f"{tmp_path / 'missing'}: no such file or directory",
        f"{empty}: no .txt files in this directory",
        f"{articles / 'dangling.txt'}: cannot read the file: No such file or directory",
    ]
    assert last_line(out) == "1 articles (1 new, 0 updated), 1 comments imported; 3 files failed"
    assert Article.objects.get().source_key == "good"


@contextmanager
def file_permissions_applied():
    """Run the block with file permissions applying to it: root ignores them, so a root
    process acts as `nobody` (its effective user) meanwhile."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(pwd.getpwnam("nobody").pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def shared_dir():
    """A directory everyone may enter: pytest's tmp_path is private to its owner."""
    base = Path(tempfile.mkdtemp())
    base.chmod(0o755)
    yield base
    for path in base.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(base)


def test_unreadable_directories_are_reported_and_the_other_files_import(shared_dir):
    (shared_dir / "good.txt").write_text(GOOD)
    locked = shared_dir / "locked"
    locked.mkdir()
    (locked / "story.txt").write_text(GOOD.replace("A Good", "Locked"))
    listable = shared_dir / "listable"
    listable.mkdir()
    (listable / "story.txt").write_text(GOOD.replace("A Good", "Listed"))
    locked.chmod(0)
    listable.chmod(0o444)  # its names can be listed, its files cannot be opened
    with file_permissions_applied():
        out, err = run(
            str(locked), str(locked / "story.txt"), str(listable), str(shared_dir / "good.txt"),
            fails=True,
        )
    assert err.splitlines() == [
        f"{locked}: cannot read the directory: Permission denied",
        f"{locked / 'story.txt'}: cannot read the path: Permission denied",
        f"{listable / 'story.txt'}: cannot read the file: Permission denied",
    ]
    assert last_line(out) == "1 articles (1 new, 0 updated), 1 comments imported; 3 files failed"
    assert Article.objects.get().source_key == "good"


def test_a_huge_comment_number_fails_its_file_only(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD.replace("  1. Ann", f"  {'1' * 5000}. Ann"))
    (tmp_path / "b.txt").write_text(GOOD)
    out, err = run(str(tmp_path), fails=True)
    assert err == (
        f"{tmp_path / 'a.txt'}:5: comment number of 5000 digits is out of order: expected 1\n"
    )
    assert last_line(out) == "1 articles (1 new, 0 updated), 1 comments imported; 1 files failed"


def test_manage_py_exits_1_with_messages_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Title\n\n\xff\xfe\n")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    proc = subprocess.run(
        [sys.executable, "manage.py", "import_articles", str(bad), str(tmp_path / "missing")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[:2] == [
        f"{bad}:3: not valid UTF-8 (byte 0xff)",
        f"{tmp_path / 'missing'}: no such file or directory",
    ]
    assert proc.stdout.splitlines()[-1] == (
        "0 articles (0 new, 0 updated), 0 comments imported; 2 files failed"
    )


def test_importing_one_file_has_a_pinned_query_count(tmp_path, django_assert_max_num_queries):
    path = tmp_path / "one.txt"
    path.write_text((SEEDS / "002_d5e8f4d8fcec2834.txt").read_text())
    # Three levels of comments: see test_services for the itemised count; then ANALYZE
    # (PostgreSQL only).
    with django_assert_max_num_queries(15 + (connection.vendor == "postgresql")):
        run(str(path))
    assert Comment.objects.count() == 15


def test_a_file_whose_article_stays_locked_fails_alone(tmp_path, monkeypatch, settings):
    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = 5
    (tmp_path / "a.txt").write_text(GOOD)
    (tmp_path / "b.txt").write_text(GOOD.replace("A Good", "Another Good"))
    real_import = import_articles.article_import

    def busy_for_a(*, parsed, source_key):
        if source_key == "a":
            raise LockTimeout("canceling statement due to lock timeout")
        return real_import(parsed=parsed, source_key=source_key)

    monkeypatch.setattr(import_articles, "article_import", busy_for_a)
    out, err = run(str(tmp_path), fails=True)
    assert err == (
        f"{tmp_path / 'a.txt'}: not stored, its article stayed locked by another write for "
        "more than 5 s: import it again\n"
    )
    assert last_line(out) == "1 articles (1 new, 0 updated), 1 comments imported; 1 files failed"


def analyze_statements(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("ANALYZE")]


def test_analyze_follows_an_import_that_wrote_and_only_then(tmp_path):
    """PostgreSQL plans with stale statistics until ANALYZE runs: after a large import article
    pages took 1-5 s on a server without autovacuum. SQLite needs no such step here."""
    on_postgresql = connection.vendor == "postgresql"
    path = tmp_path / "story.txt"
    path.write_text(GOOD)

    with CaptureQueriesContext(connection) as queries:
        run(str(path), "--dry-run")
    assert analyze_statements(queries) == []

    with CaptureQueriesContext(connection) as queries:
        run(str(path))
    assert analyze_statements(queries) == (
        ['ANALYZE "articles_article", "comments_comment"'] if on_postgresql else []
    )

    with CaptureQueriesContext(connection) as queries:
        run(str(path))
    assert analyze_statements(queries) == []

    path.write_text(GOOD.replace("A Good Story", "A Retitled Story"))
    with CaptureQueriesContext(connection) as queries:
        run(str(path))
    assert analyze_statements(queries) == (['ANALYZE "articles_article"'] if on_postgresql else [])
