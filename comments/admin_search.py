"""What a moderator types in an admin list's search box, parsed and turned into a filter.

Django's own admin search matches each word anywhere inside a field, so "ass" finds "class"
and "@example.org" finds every address at that domain: a moderator acting on such a list
once removed the wrong comment. Here a search means:

- Words match whole words, case-insensitively (Unicode letters included: "STRAßE" finds
  "Straße", and "straße" does not find "Straßenbahn"), in the list's text fields (a comment's
  body or its author's name). Every word must match; each may match in a different field.
- A word holding punctuation ("e-mail", "don't") matches its parts in sequence, with only
  spaces or punctuation between them, as a quoted phrase does.
- "a quoted phrase" matches its words in sequence, whole words, with only spaces or
  punctuation between them. Curly quotes work too. A quoted email or IP address is a phrase:
  it finds that text in the body.
- An email address (one Django's validator accepts) finds exactly that address,
  case-insensitively, and the comments of the commenter whose address it is now.
- An IPv4 or IPv6 address finds exactly that address (written in any of its forms).
- An unbalanced quote or other odd input is read as words. Control characters count as
  spaces, and text past SEARCH_MAX_LENGTH characters is dropped at a space. Blank text is no
  search; text holding no word, address or phrase (only punctuation) finds nothing.

On PostgreSQL the words first go through the full-text index of migration 0017_comment_search
(the author's name and the body, with every run of non-word characters made a space, under
the `simple` configuration: no stemming, no stop words). It narrows a million comments to the
few holding every word, and the same regular expression as on SQLite then confirms the whole
words and their order, so both databases give the same answers. The database's locale should
be a UTF-8 one (as `C.UTF-8` or `en_US.UTF-8`, not `C`) for case and word boundaries to know
letters beyond ASCII.
"""

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections
from django.db.models import Func, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils.ipv6 import clean_ipv6_address

from comments.models import Commenter

SEARCH_MAX_LENGTH = 300
SEARCH_HELP_TEXT = (
    'Whole words; "a quoted phrase" matches its words in sequence; an email or IP address '
    "finds exactly that address."
)

# A quoted phrase, or a run of anything but spaces and quotes.
TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
WORD = re.compile(r"\w+")
CURLY_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"'})
# Control characters (NUL included) and the line and paragraph separators: spaces here.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What may wrap an address pasted from a mail header or a sentence.
ADDRESS_WRAPPING = "'()<>[]{},;"


@dataclass(frozen=True)
class Search:
    """A parsed search: every phrase, email address and IP address must match."""

    # Each phrase is one word or several to match in sequence.
    phrases: tuple[tuple[str, ...], ...] = ()
    # As typed; compared case-insensitively.
    emails: tuple[str, ...] = ()
    # Normalised as GenericIPAddressField stores them.
    addresses: tuple[str, ...] = ()
    # Nothing but spaces was typed: no search at all.
    blank: bool = True

    @property
    def words(self) -> list[str]:
        return [word for phrase in self.phrases for word in phrase]

    def __bool__(self) -> bool:
        return bool(self.phrases or self.emails or self.addresses)


def search_parse(text: str) -> Search:
    """The phrases, email addresses and IP addresses of a moderator's search text."""
    text = CONTROL.sub(" ", unicodedata.normalize("NFC", text)).translate(CURLY_QUOTES)
    text = _truncated(text.strip())
    if not text:
        return Search()
    phrases: dict[tuple[str, ...], None] = {}
    emails: dict[str, None] = {}
    addresses: dict[str, None] = {}
    for match in TERM.finditer(text):
        quoted, bare = match.groups()
        if bare is not None and (address := _ip_address(bare.strip(ADDRESS_WRAPPING))):
            addresses[address] = None
        elif bare is not None and (email := _email(bare.strip(ADDRESS_WRAPPING).rstrip("."))):
            emails[email] = None
        elif words := tuple(WORD.findall(quoted if quoted is not None else bare)):
            phrases[words] = None
    return Search(
        phrases=tuple(phrases), emails=tuple(emails), addresses=tuple(addresses), blank=False
    )


def _truncated(text: str) -> str:
    """`text` cut to SEARCH_MAX_LENGTH characters, at a space if the cut falls in a term."""
    if len(text) <= SEARCH_MAX_LENGTH:
        return text
    cut = text[:SEARCH_MAX_LENGTH]
    if not text[SEARCH_MAX_LENGTH].isspace() and re.search(r"\s", cut):
        cut = cut.rsplit(None, 1)[0]
    return cut.rstrip()


def _ip_address(term: str) -> str | None:
    try:
        address = ipaddress.ip_address(term)
    except ValueError:
        return None
    if address.version == 4:
        return str(address)
    if address.scope_id:
        return None
    return clean_ipv6_address(term)


def _email(term: str) -> str | None:
    if "@" not in term:
        return None
    try:
        validate_email(term)
    except ValidationError:
        return None
    return term


def phrase_pattern(phrase: tuple[str, ...]) -> str:
    """A regular expression for `phrase`'s words in sequence, whole words, with spaces or
    punctuation between them. Lookarounds rather than \\b: PostgreSQL's regular expressions
    read \\b as a backspace, and both engines accept these."""
    return r"(?<!\w)" + r"\W+".join(re.escape(word) for word in phrase) + r"(?!\w)"


class CommentSearchDocument(Func):
    """The full-text document of a comment, exactly as migration 0017_comment_search indexes
    it: the author's name and the body, each run of non-word characters made a space (so that
    every word the regular expression sees is a lexeme, even inside "e-mail", "3.14" or a web
    address), with the `simple` configuration."""

    template = (
        "to_tsvector('simple'::regconfig, regexp_replace((%(expressions)s), '\\W+', ' ', 'g'))"
    )
    arg_joiner = " || ' ' || "
    output_field = SearchVectorField()

    def __init__(self, name: str = "author_name", body: str = "body"):
        super().__init__(name, body)


def _indexable(word: str) -> bool:
    """Whether the database's word characters surely hold all of `word`, so that the index
    has it as a lexeme: letters, ASCII digits and underscores."""
    return all(char.isalpha() or char in "0123456789_" for char in word)


@dataclass(frozen=True)
class SearchFields:
    """Where a list looks for each kind of term (field paths from the listed model)."""

    text: tuple[str, ...]
    email: tuple[str, ...] = ()
    ip: tuple[str, ...] = ()
    # The path to the Commenter whose current addresses (their own, or their account's) an
    # email term also matches; empty for none.
    commenter: str = ""
    # The full-text document of the text fields, indexed on PostgreSQL; None for none.
    document: Func | None = field(default=None, compare=False)


COMMENT_FIELDS = SearchFields(
    text=("body", "author_name"),
    email=("author_email",),
    ip=("ip_address",),
    commenter="commenter",
    document=CommentSearchDocument(),
)


def _any(conditions) -> Q:
    """The conditions ORed together; no condition matches nothing."""
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def search_filter(search: Search, fields: SearchFields) -> Q:
    """The rows matching every term of `search`.

    An email term reads the commenters with that address first (one query each): a list of
    ids keeps each side of the OR on its own index, where a join would scan every comment.
    """
    condition = Q()
    for phrase in search.phrases:
        pattern = phrase_pattern(phrase)
        condition &= _any(Q(**{f"{path}__iregex": pattern}) for path in fields.text)
    for email in search.emails:
        matches = [Q(Exact(Lower(path), Lower(Value(email)))) for path in fields.email]
        if fields.commenter:
            commenters = Commenter.objects.filter(
                Q(Exact(Lower("email"), Lower(Value(email))))
                | Q(Exact(Lower("user__email"), Lower(Value(email))))
            )
            ids = list(commenters.values_list("pk", flat=True))
            matches.append(Q(**{f"{fields.commenter}__in": ids}))
        condition &= _any(matches)
    for address in search.addresses:
        condition &= _any(Q(**{path: address}) for path in fields.ip)
    return condition


def search_queryset(queryset: QuerySet, text: str, fields: SearchFields) -> QuerySet:
    """`queryset` narrowed to the rows matching a moderator's search `text`."""
    search = search_parse(text)
    if search.blank:
        return queryset
    if not search:
        return queryset.none()
    indexable = [word for word in search.words if _indexable(word)]
    if (
        fields.document is not None
        and indexable
        and connections[queryset.db].vendor == "postgresql"
    ):
        # alias(), not annotate(): the document is matched, never sent back with the rows.
        queryset = queryset.alias(search_document=fields.document).filter(
            search_document=SearchQuery(" ".join(indexable), config="simple")
        )
    return queryset.filter(search_filter(search, fields))
