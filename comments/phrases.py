"""The banned-phrase rules compiled into one matcher, kept in memory until a rule changes.

Each rule is a phrase matched as whole words in the skeleton() of a comment, with any white
space between its words. Testing the rules one by one costs a regular expression search per
rule; with thousands of rules that is the slowest part of posting. Here every phrase goes into
one trie, written as one regular expression whose branches share their common prefixes, so a
comment is scanned once, in C, whatever the number of rules.

The compiled matcher is kept per process under the rules' version
(`ModerationPolicy.phrases_version`), which every save or delete of a rule moves in the same
transaction; `comment_screen` reads it with the policy's mode, so a warm matcher costs no query.
"""

import re
import secrets
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from comments.models import BannedPhrase, ModerationPolicy, WatchPhrase
from comments.normalize import skeleton

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")


def phrase_key(phrase: str) -> str:
    """A phrase as the matcher compares it: its skeleton(), words separated by one space."""
    return " ".join(skeleton(phrase).split())


def text_key(text: str) -> str:
    """A comment as the matcher reads it: its skeleton(), each run of white space one space.

    A phrase's words match across any white space, so collapsing the runs first changes no
    match and lets a phrase be compared as one string."""
    return _SPACES.sub(" ", skeleton(text))


@dataclass(frozen=True)
class Rule:
    phrase: str
    action: str


def _trie_pattern(keys: list[str]) -> str:
    """One regular expression matching any of `keys`, longest first, as a trie of branches."""
    root: dict = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = True

    def pattern(node: dict) -> str:
        branches = []
        for char in sorted(c for c in node if c):
            child = node[char]
            prefix = re.escape(char)
            # A chain of single children is one literal: fewer groups to enter.
            while len(child) == 1 and "" not in child:
                (char, child), = child.items()
                prefix += re.escape(char)
            branches.append(prefix + pattern(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # A key may end here: the greedy optional group tries the longer keys first.
        return f"(?:{body})?" if "" in node else body

    return pattern(root)


class PhraseMatcher:
    """Every rule at once: `matches(text)` is the rules whose phrase `text` contains."""

    def __init__(self, rules: list[Rule]):
        self._rules: dict[str, list[Rule]] = defaultdict(list)
        for rule in sorted(rules, key=lambda rule: rule.phrase):
            key = phrase_key(rule.phrase)
            if key:
                self._rules[key].append(rule)
        self._regex = None
        if self._rules:
            # A start anywhere a word may begin; the lookahead lets matches overlap
            # ("dirty liar" and "liar" in one comment), and at each start it captures the
            # longest phrase that ends at a word boundary.
            trie = _trie_pattern(list(self._rules))
            self._regex = re.compile(rf"(?<!\w)(?=({trie})(?!\w))")

    def __len__(self) -> int:
        return sum(len(rules) for rules in self._rules.values())

    def matches(self, text: str) -> list[Rule]:
        """The rules matched in `text` (in text_key() form), in phrase order."""
        if self._regex is None:
            return []
        found: dict[str, None] = {}
        for match in self._regex.finditer(text):
            start, longest = match.start(1), match.group(1)
            found[longest] = None
            # Shorter phrases matching at the same start are prefixes of the longest one that
            # end at a word boundary.
            for end in range(len(longest) - 1, 0, -1):
                after = start + end
                if (after >= len(text) or not _WORD.match(text, after)) and (
                    longest[:end] in self._rules
                ):
                    found[longest[:end]] = None
        rules = [rule for key in found for rule in self._rules[key]]
        return sorted(rules, key=lambda rule: rule.phrase)


_lock = threading.Lock()
_cached: tuple[int, PhraseMatcher] | None = None


def phrase_matcher(version: int) -> PhraseMatcher:
    """The matcher of the rules at `version`, compiled on the first call after a change."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == version:
            return _cached[1]
        rules = [
            Rule(phrase, action)
            for phrase, action in BannedPhrase.objects.values_list("phrase", "action")
        ]
        matcher = PhraseMatcher(rules)
        _cached = (version, matcher)
        return matcher


# The matchers of the articles' watch phrases, each under the phrases it was compiled from.
_watched: OrderedDict[int, tuple[tuple[str, ...], PhraseMatcher]] = OrderedDict()
WATCHED_ARTICLES_KEPT = 256


def watch_matcher(article_id: int) -> PhraseMatcher:
    """The matcher of one article's watch phrases (one small query), compiled again only
    when they changed. Its rules hold a comment (BannedPhrase.Action.HOLD)."""
    phrases = tuple(
        WatchPhrase.objects.filter(article_id=article_id)
        .order_by("phrase")
        .values_list("phrase", flat=True)
    )
    with _lock:
        kept = _watched.get(article_id)
        if kept is not None and kept[0] == phrases:
            _watched.move_to_end(article_id)
            return kept[1]
        matcher = PhraseMatcher([Rule(phrase, BannedPhrase.Action.HOLD) for phrase in phrases])
        _watched[article_id] = (phrases, matcher)
        while len(_watched) > WATCHED_ARTICLES_KEPT:
            _watched.popitem(last=False)
        return matcher


def phrases_changed() -> None:
    """Give the rules a new version, in the caller's transaction: every process compiles again.

    Called on every save and delete of a rule; a bulk write that sends no signals
    (`bulk_create`, `update()`) calls it itself."""
    ModerationPolicy.objects.filter(pk=ModerationPolicy.current().pk).update(
        phrases_version=secrets.randbits(62) + 1
    )


@receiver(post_save, sender=BannedPhrase, dispatch_uid="comments.phrases.saved")
@receiver(post_delete, sender=BannedPhrase, dispatch_uid="comments.phrases.deleted")
def _rule_changed(**kwargs) -> None:
    phrases_changed()
