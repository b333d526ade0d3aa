"""Benchmark of `manage.py import_articles`: generated article files into a fresh SQLite file.

    .venv/bin/python bench/bench_import.py            # 1,000 articles, 100,000 comments
    .venv/bin/python bench/bench_import.py --quick    # 100 articles, 10,000 comments

Prints the import's comments per second, then the same rows written by a bare `executemany`
into an empty copy of the schema (the floor any import could reach) and the ratio between the
two, then the time of a second, unchanged run.
"""

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "Armenia", "Russia", "weapons", "border", "talks", "minister", "summit", "said:", "people",
    "never", "trust", "peace", "war", "alliance", "deal", "Baku", "Yerevan", "Moscow", "army",
    "conflict", "region", "interests", "policy", "today", "history", "Հայաստան", "1.", "•",
]
NAMES = ["Armenian", "Ararat", "H. Boghossian", "GB", "Արամ", "Arn.Sweden.", "Telo", "joe", "Ani"]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(6, 18))).capitalize() + "."


def comment_body(rng: random.Random, indent: str) -> list[str]:
    lines = []
    for n in range(rng.choice([1, 1, 1, 2, 3])):
        if n:
            lines.append("")
        lines += [indent + sentence(rng) for _ in range(rng.choice([1, 1, 2]))]
    return lines


def article_text(rng: random.Random, number: int, comments: int) -> str:
    lines = [f"Generated story {number}: {sentence(rng)[:-1]}", "", f"Photo caption {number}"]
    lines += ["", f"YEREVAN (RFE/RL)—{sentence(rng)}"]
    for _ in range(rng.randint(3, 10)):
        lines += ["", " ".join(sentence(rng) for _ in range(4))]
    lines += ["", "", "Discussion Policy", "", "Be civil.", "", ""]
    depth, top = -1, 0
    for _ in range(comments):
        # Mostly short threads, some long chains: up to eight levels deep.
        depth = 0 if depth < 0 or rng.random() < 0.35 else rng.randint(1, min(depth + 1, 8))
        if depth == 0:
            top += 1
            lines.append(f"  {top}. {rng.choice(NAMES)} said:")
        else:
            lines.append(f"{' ' * (2 + 2 * depth)}• {rng.choice(NAMES)} said:")
        lines.append("")
        lines += comment_body(rng, " " * (4 + 2 * depth))
        lines.append("")
    return "\n".join(lines) + "\n"


def generate(folder: Path, articles: int, comments: int) -> None:
    rng = random.Random(20140707)
    # Varied sizes (a few articles without comments, some ten times the mean) summing exactly.
    weights = [rng.choice([0, 0.2, 0.5, 1, 1, 1.5, 2, 4, 10]) for _ in range(articles)]
    sizes = [int(comments * w / sum(weights)) for w in weights]
    sizes[weights.index(max(weights))] += comments - sum(sizes)
    for number, size in enumerate(sizes):
        (folder / f"{number:05d}.txt").write_text(article_text(rng, number, size))


def executemany_baseline(source: Path, target: Path) -> float:
    """Seconds to write the imported rows again with executemany into an empty schema."""
    with sqlite3.connect(source) as db:
        schema = [
            sql
            for (sql,) in db.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
            )
        ]
        tables = {}
        for table in ("articles_article", "comments_comment"):
            cursor = db.execute(f"SELECT * FROM {table} ORDER BY id")
            tables[table] = ([column[0] for column in cursor.description], cursor.fetchall())
    db = sqlite3.connect(target, isolation_level=None)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    for sql in schema:
        db.execute(sql)
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for table, (columns, rows) in tables.items():
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 articles, 10,000 comments")
    options = parser.parse_args()
    articles, comments = (100, 10_000) if options.quick else (1_000, 100_000)

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp_path = Path(tmp)
        database = tmp_path / "import.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
        os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from comments.models import Comment

        call_command("migrate", verbosity=0)
        files = tmp_path / "files"
        files.mkdir()
        start = time.perf_counter()
        generate(files, articles, comments)
        print(f"generated {articles:,} files, {comments:,} comments "
              f"in {time.perf_counter() - start:.1f} s")

        out = StringIO()
        start = time.perf_counter()
        call_command("import_articles", str(files), stdout=out)
        elapsed = time.perf_counter() - start
        stored = Comment.objects.count()
        deepest = max(Comment.objects.values_list("level", flat=True))
        print(f"import_articles: {out.getvalue().strip()}")
        print(f"  {elapsed:.1f} s, {stored / elapsed:,.0f} comments/s "
              f"({stored:,} comments stored, deepest reply at depth {deepest})")

        from django.db import connection

        connection.close()
        baseline = executemany_baseline(database, tmp_path / "baseline.sqlite3")
        print(f"bare executemany of the same rows: {baseline:.2f} s, "
              f"{stored / baseline:,.0f} comments/s")
        print(f"ratio import / executemany: {elapsed / baseline:.1f}x")

        out = StringIO()
        start = time.perf_counter()
        call_command("import_articles", str(files), stdout=out)
        again = time.perf_counter() - start
        assert Comment.objects.count() == stored
        print(f"second run, files unchanged: {again:.1f} s ({out.getvalue().strip()})")
        target = 60 if not options.quick else 6
        print(f"target: import under {target} s: {'met' if elapsed < target else 'NOT met'}")


if __name__ == "__main__":
    main()
