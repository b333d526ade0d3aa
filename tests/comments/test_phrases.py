"""The banned phrases compiled into one matcher, and kept until a rule changes."""

import random
import re

import pytest

from comments.models import BannedPhrase, ModerationPolicy
from comments.normalize import skeleton
from comments.phrases import PhraseMatcher, Rule, phrase_matcher, text_key


def one_rule_matches(phrase: str, text: str) -> bool:
    """The rule alone, as it is defined: whole words of a skeleton(), any white space between."""
    words = skeleton(phrase).split()
    if not words:
        return False
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)"
    return re.search(pattern, skeleton(text)) is not None


def matched(phrases: list[str], text: str) -> list[str]:
    matcher = PhraseMatcher([Rule(phrase, "hold") for phrase in phrases])
    return [rule.phrase for rule in matcher.matches(text_key(text))]


@pytest.mark.parametrize(
    ("phrases", "text", "expected"),
    [
        (
            ["dirty liar", "liar", "dirty"],
            "a Dirty\n  LIAR indeed",
            ["dirty", "dirty liar", "liar"],
        ),
        (["dirty liar"], "dirty and a liar", []),
        (["a b", "b c"], "a b c", ["a b", "b c"]),
        (["idiot", "idiots"], "Idiots, all of them.", ["idiots"]),
        (["ass"], "Go back to class.", []),
        (["f*ck", "fuck"], "oh f*ck it", ["f*ck"]),
        (["straße", "STRASSE"], "die Straße ist zu", ["STRASSE", "straße"]),
        (["ＫＧＢ"], "the kgb manual", ["ＫＧＢ"]),
        (["   "], "anything at all", []),
        (["scum"], "", []),
    ],
)
def test_the_matcher_finds_every_rule_the_text_holds(phrases, text, expected):
    assert matched(phrases, text) == expected


def test_the_matcher_agrees_with_each_rule_alone_on_random_texts():
    """Phrases that share prefixes, overlap and nest, against texts made of their words."""
    chance = random.Random(15)
    words = ["ab", "abc", "b", "bc", "c", "a*b", "ac", "x", "ab-c", "ł"]
    phrases = sorted(
        {" ".join(chance.choices(words, k=chance.randint(1, 3))) for _ in range(80)}
    )
    for _ in range(300):
        text = "".join(
            chance.choice(words) + chance.choice([" ", "  ", "\n", ", ", "", "."])
            for _ in range(chance.randint(1, 12))
        )
        expected = [phrase for phrase in phrases if one_rule_matches(phrase, text)]
        assert matched(phrases, text) == expected, text


@pytest.mark.django_db
def test_the_matcher_is_kept_until_a_rule_changes(django_assert_num_queries):
    BannedPhrase.objects.create(phrase="aardvark")
    version = ModerationPolicy.objects.get().phrases_version

    with django_assert_num_queries(1):
        first = phrase_matcher(version)
    with django_assert_num_queries(0):
        assert phrase_matcher(version) is first

    rule = BannedPhrase.objects.create(phrase="badger")
    changed = ModerationPolicy.objects.get().phrases_version
    assert changed != version
    assert [r.phrase for r in phrase_matcher(changed).matches("a badger")] == ["badger"]

    rule.delete()
    after_delete = ModerationPolicy.objects.get().phrases_version
    assert after_delete not in (version, changed)
    assert phrase_matcher(after_delete).matches("a badger") == []


@pytest.mark.django_db
def test_saving_the_policy_keeps_the_phrases_version():
    policy = ModerationPolicy.current()
    BannedPhrase.objects.create(phrase="aardvark")
    version = ModerationPolicy.objects.get().phrases_version

    policy.mode = ModerationPolicy.Mode.PREMODERATE
    policy.save()

    assert ModerationPolicy.objects.get().phrases_version == version
    assert ModerationPolicy.objects.get().mode == ModerationPolicy.Mode.PREMODERATE
