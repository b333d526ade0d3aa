"""Benchmark of screening one comment against the banned phrases.

    .venv/bin/python bench/bench_screening.py             # 5,000 phrases, 200 repetitions
    .venv/bin/python bench/bench_screening.py --quick     # 50 repetitions

Screens a 2,000-character comment against 5,000 phrases (one to three words, some in other
scripts) with the compiled matcher of comments/phrases.py, and, in the same run, with the loop it
replaced: a regular expression per phrase, built for each comment as the old comment_screen did,
and the same loop with every pattern compiled beforehand. Both read the same skeleton() of the
comment, and both find the same phrases (checked). No database: the rules are in memory, as the
matcher keeps them between comments; the old loop also read every rule from the database for
each comment, which is not counted here. Target: under 2 ms a comment for the matcher.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from comments.normalize import skeleton  # noqa: E402
from comments.phrases import PhraseMatcher, Rule, text_key  # noqa: E402

PHRASES = 5_000
COMMENT_CHARS = 2_000
TARGET_MS = 2.0
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu", "ße", "ло", "να", "é"]


def word(chance: random.Random) -> str:
    return "".join(chance.choices(SYLLABLES, k=chance.randint(2, 4)))


def rules_and_comment(seed: int = 8) -> tuple[list[Rule], str]:
    chance = random.Random(seed)
    vocabulary = [word(chance) for _ in range(3_000)]
    phrases: set[str] = set()
    while len(phrases) < PHRASES:
        phrases.add(" ".join(chance.choices(vocabulary, k=chance.choice([1, 1, 2, 3]))))
    rules = [Rule(phrase, "hold") for phrase in sorted(phrases)]
    parts: list[str] = []
    while sum(map(len, parts)) < COMMENT_CHARS:
        parts.append(chance.choice(vocabulary) + chance.choice([" ", " ", ", ", ". ", "\n"]))
    return rules, "".join(parts)[:COMMENT_CHARS]


def per_phrase_pattern(phrase: str) -> re.Pattern:
    words = skeleton(phrase).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")


def per_phrase_loop(rules: list[Rule], body: str) -> list[str]:
    """The loop the matcher replaced: a pattern per phrase, made for each comment."""
    text = skeleton(body)
    return [
        rule.phrase
        for rule in rules
        if rule.phrase.strip() and per_phrase_pattern(rule.phrase).search(text)
    ]


def precompiled_loop(patterns: list[tuple[str, re.Pattern]], body: str) -> list[str]:
    text = skeleton(body)
    return [phrase for phrase, pattern in patterns if pattern.search(text)]


def timed_ms(run, repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repetitions = 50 if args.quick else 200

    rules, body = rules_and_comment()
    start = time.perf_counter()
    matcher = PhraseMatcher(rules)
    compile_ms = (time.perf_counter() - start) * 1000
    patterns = [(rule.phrase, per_phrase_pattern(rule.phrase)) for rule in rules]

    found = [rule.phrase for rule in matcher.matches(text_key(body))]
    if found != per_phrase_loop(rules, body) or found != precompiled_loop(patterns, body):
        raise SystemExit("the matcher and the per-phrase loop disagree")

    matcher_ms = timed_ms(lambda: matcher.matches(text_key(body)), repetitions)
    loop_ms = timed_ms(lambda: per_phrase_loop(rules, body), max(repetitions // 10, 5))
    precompiled_ms = timed_ms(lambda: precompiled_loop(patterns, body), repetitions)

    print(f"{len(rules):,} phrases, a {len(body):,}-character comment, {len(found)} phrases found")
    print(f"compiling the matcher once: {compile_ms:8.1f} ms")
    print(f"{'screening one comment (median)':<44} {'ms':>8} {'vs matcher':>11}")
    for label, figure in [
        ("compiled matcher (comments/phrases.py)", matcher_ms),
        ("per-phrase loop, patterns made per comment", loop_ms),
        ("per-phrase loop, patterns compiled before", precompiled_ms),
    ]:
        print(f"{label:<44} {figure:8.3f} {figure / matcher_ms:10.1f}x")
    verdict = "met" if matcher_ms < TARGET_MS else "NOT met"
    print(f"target: under {TARGET_MS} ms a comment with the matcher: {verdict}")


if __name__ == "__main__":
    main()
