"""Text folded to the form the policy rules compare, so that look-alike spellings match.

A rule (a banned phrase, a blocked name or email address) and what a commenter types are both
folded before they are compared: compatibility forms (fullwidth letters, ligatures) and case
folded away by NFKC and casefold(), invisible characters (zero-width spaces, soft hyphens,
byte order marks, variation selectors) dropped, and letters that look alike (Cyrillic "а" and
Latin "a", "0" and "O") mapped to one representative, the "skeleton" of Unicode's UTS #39,
from the confusables table the confusable-homoglyphs package ships.
"""

import contextlib
import re
import unicodedata
from functools import cache

from confusable_homoglyphs import confusables

# Characters that show nothing: format characters (category Cf, such as U+200B, U+00AD and
# U+FEFF) and the other default-ignorable code points of Unicode that are not Cf.
_INVISIBLE_OTHER = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0000-\U000e0fff]"
)


def folded(text: str) -> str:
    """`text` compatibility-normalised, case-folded, without invisible characters."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _visible(text)


def _visible(text: str) -> str:
    if text.isascii():
        return text
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return _INVISIBLE_OTHER.sub("", text)


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character and the representative it is compared as.

    The package's table lists, for a character, the characters it is confused with: a
    look-alike lists only its prototype, a prototype lists all its look-alikes. Where two
    characters list only each other, the smaller one represents both.
    """
    data = confusables.confusables_data
    mapping = {}
    for char, entries in data.items():
        if len(entries) != 1:
            continue
        target = entries[0]["c"]
        if len(data.get(target, ())) != 1 or target < char:
            mapping[char] = target
    return mapping


def skeleton(text: str) -> str:
    """The form in which two spellings that look alike are equal: folded(), each confusable
    character replaced by its representative, then folded again (a representative may be a
    capital letter or carry direction marks)."""
    prototypes = _prototypes()
    return folded("".join(prototypes.get(char, char) for char in folded(text)))


def email_key(address: str) -> str:
    """An email address as compared with blocked ones: folded, its domain decoded from
    punycode (IDNA) and normalised, so "xn--bcher-kva.example", "bücher.example" and its
    decomposed (NFD) spelling are one domain."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return folded(address.strip())
    labels = []
    for label in folded(domain).rstrip(".").split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        labels.append(folded(label))
    return f"{folded(local)}@{'.'.join(labels)}"
