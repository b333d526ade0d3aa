"""The article file parser: the text of one file in, a `ParsedArticle` out.

The format: title, metadata lines, captions, dateline, body with subheadings, discussion policy,
then the numbered comments and their replies nested by indentation (README: "Importing
articles"). It touches no database; `articles.services` writes.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

BOM = "\ufeff"

TOP_MARKER_RE = re.compile(r"^  (?P<number>\d+)\.(?: (?P<author>.*))? said:$")
REPLY_MARKER_RE = re.compile(r"^(?P<indent> +)•(?: (?P<author>.*))? said:$")
# A marker line whose indentation holds a tab or another space than U+0020: refused, not body.
MISINDENTED_MARKER_RE = re.compile(r"^(?P<indent>\s*)(?:\d+\.|•)(?: .*)? said:$")
PUBLICATION_PREFIX = "Publication:"
# The labels that end a Publication line, each starting a word, in this order.
PUBLICATION_LABELS = ("Volume:", "Issue:")
WORD_RE = re.compile(r"\S+")
BYLINE_RE = re.compile(r"^By:\s*(?P<name>.*)$")
# Possessive quantifiers: the city can hold spaces, and a lazy city followed by \s* tried every
# split of a long run of spaces (5 s for 1,500 of them). Each part now matches in one pass.
DATELINE_RE = re.compile(
    r"^(?P<city>[^\W\d_][\w .,'’-]*+)\s*+(?:\((?P<agency>[^()]+)\))?\s*+[—–]\s*(?P<text>.*)$"
)
# A comment number longer than this can never be the one expected; int() is never asked to
# convert it (Python refuses strings of more than 4,300 digits).
COMMENT_NUMBER_MAX_DIGITS = 9
POLICY_HEADING = "Discussion Policy"
# Ends like a sentence or a clause: a subheading never does.
CLOSING_PUNCTUATION_RE = re.compile(r"[.!?…:;,][\"'”’»)\]]*$")
SUBHEADING_MAX_LENGTH = 100
# Control characters other than tab and line feed mark a binary file.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ParseError(Exception):
    """A file that does not follow the format; `line` is 1-based, None for the whole file."""

    def __init__(self, line: int | None, reason: str):
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Block:
    """One block of the article body, in page order."""

    kind: str  # "paragraph" or "heading"
    text: str


@dataclass(frozen=True)
class ParsedComment:
    key: str  # position in the file: "3", "3.1", "3.1.2"
    author: str
    body: str
    depth: int  # 0 for a top-level comment
    line: int  # line of the marker
    replies: tuple["ParsedComment", ...] = ()

    @property
    def parent_key(self) -> str | None:
        return self.key.rpartition(".")[0] or None


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    publication: str = ""
    volume: str = ""
    issue: str = ""
    byline: str = ""
    location: str = ""
    agency: str = ""
    captions: tuple[str, ...] = ()
    body: tuple[Block, ...] = ()
    discussion_policy: str = ""
    comments: tuple[ParsedComment, ...] = ()  # top-level comments, each with its replies
    # The line each single-line field came from, for messages about its value.
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def walk(self) -> Iterator[ParsedComment]:
        """Every comment in page order (pre-order: each comment before its replies)."""
        stack = list(reversed(self.comments))
        while stack:
            comment = stack.pop()
            yield comment
            stack.extend(reversed(comment.replies))

    @property
    def comment_count(self) -> int:
        return sum(1 for _ in self.walk())


def article_parse(data: str | bytes) -> ParsedArticle:
    """Parse one article file. Raises ParseError naming the line for anything off-format."""
    lines = _lines(data)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise ParseError(1, "the file has only blank lines")
    _refuse_misindented_markers(lines)
    discussion_start = next(
        (i for i in range(start + 1, len(lines)) if _is_marker(lines[i])), len(lines)
    )
    article = _article(lines[:discussion_start], start)
    comments = _comments(lines, discussion_start)
    return ParsedArticle(**article, comments=comments)


def _lines(data: str | bytes) -> list[str]:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ParseError(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    else:
        text = data
    text = text.removeprefix(BOM).replace("\r\n", "\n")
    if bad := CONTROL_RE.search(text):
        line = text.count("\n", 0, bad.start()) + 1
        if bad.group() == "\r":
            raise ParseError(line, "a carriage return without a line feed: lines end in LF or CRLF")
        raise ParseError(
            line, f"binary content: control character U+{ord(bad.group()):04X} in a text file"
        )
    if not text:
        raise ParseError(1, "the file is empty")
    return [line.rstrip() for line in text.split("\n")]


def _refuse_misindented_markers(lines: list[str]) -> None:
    """A marker indented with anything but spaces would be read as body text: refuse it.

    The rule: a line that is a marker (`N. NAME said:` or `• NAME said:`) once its leading
    whitespace is removed, and whose leading whitespace holds a character other than U+0020.
    """
    for n, line in enumerate(lines, 1):
        if (match := MISINDENTED_MARKER_RE.match(line)) and match["indent"].strip(" "):
            other = next(char for char in match["indent"] if char != " ")
            what = "a tab" if other == "\t" else f"U+{ord(other):04X}"
            raise ParseError(n, f"marker indented with {what}: use spaces")


def _is_marker(line: str) -> bool:
    return bool(TOP_MARKER_RE.match(line) or REPLY_MARKER_RE.match(line))


def _article(lines: list[str], start: int) -> dict:
    """Title, metadata, captions, dateline, body and policy: every line before the discussion."""
    fields: dict = {"title": lines[start].strip(), "lines": {"title": start + 1}}
    i = start + 1
    while i < len(lines):
        text = lines[i].strip()
        if not text:
            i += 1
        elif text.startswith(PUBLICATION_PREFIX):
            name, volume, issue = _publication(text.removeprefix(PUBLICATION_PREFIX))
            fields.update(publication=name, volume=volume, issue=issue)
            fields["lines"].update(publication=i + 1, volume=i + 1, issue=i + 1)
            i += 1
        elif match := BYLINE_RE.match(text):
            fields["byline"] = match["name"].strip()
            fields["lines"]["byline"] = i + 1
            i += 1
        else:
            break

    end = next((j for j in range(i, len(lines)) if lines[j].strip() == POLICY_HEADING), None)
    if end is not None:
        policy = [(n, lines[n - 1].strip()) for n in range(end + 2, len(lines) + 1)]
        fields["discussion_policy"] = "\n\n".join(_paragraphs(policy))
    else:
        end = len(lines)
    region = [(n, lines[n - 1].strip()) for n in range(i + 1, end + 1)]
    fields.update(_body(region, fields["lines"]))
    return fields


def _body(region: list[tuple[int, str]], lines: dict[str, int]) -> dict:
    """Captions, dateline and blocks from the numbered lines between metadata and policy."""
    texts = "\n".join(text for _, text in region).strip("\n")
    # A capture with no blank lines between its body lines: each line is a paragraph.
    one_per_line = "\n\n" not in texts
    units = [[(n, text)] for n, text in region if text] if one_per_line else _blocks(region)

    fields: dict = {}
    dateline = next((k for k, unit in enumerate(units) if _dateline(unit[0][1])), None)
    if dateline is not None:
        captions = (text for unit in units[:dateline] for _, text in unit)
        fields["captions"] = tuple(dict.fromkeys(captions))
        (line, first), *rest_of_unit = units[dateline]
        city, agency, rest = _dateline(first)
        fields.update(location=city, agency=agency)
        lines.update(location=line, agency=line)
        opening = [(line, rest)] if rest else []
        units = [unit for unit in [opening + rest_of_unit, *units[dateline + 1 :]] if unit]

    blocks = []
    for k, unit in enumerate(units):
        text = "\n".join(t for _, t in unit)
        heading = 0 < k < len(units) - 1 and len(unit) == 1 and _is_subheading(text)
        blocks.append(Block("heading" if heading else "paragraph", text))
    fields["body"] = tuple(blocks)
    return fields


def _publication(text: str) -> tuple[str, str, str]:
    """(name, volume, issue) of a Publication line's text after its label.

    `Volume: N` and `Issue: N` are the last words, each label starting a word and its value
    the word after it or glued to it; either may be missing. Only the last four words are
    looked at, so a line costs the time to split it into words, however its spaces run.
    """
    words = list(WORD_RE.finditer(text))
    tail = [word.group() for word in words[-4:]]
    # The earliest start that parses, as the name is the shortest that leaves a valid tail.
    for start in range(len(tail)):
        values = _publication_tail(tail[start:])
        if values is not None:
            name_end = words[len(words) - len(tail) + start].start()
            return (text[:name_end].strip(), *values)
    return text.strip(), "", ""


def _publication_tail(words: list[str]) -> tuple[str, str] | None:
    """(volume, issue) when `words` are `[Volume: V] [Issue: I]`, else None."""
    values = {}
    for label in PUBLICATION_LABELS:
        if not words or not words[0].startswith(label):
            values[label] = ""
            continue
        glued = words[0].removeprefix(label)
        rest = words[1:]
        later = PUBLICATION_LABELS[PUBLICATION_LABELS.index(label) + 1 :]
        # A value word, unless the label has its value glued or the next word is a later label.
        if not glued and rest and not any(rest[0].startswith(other) for other in later):
            glued, rest = rest[0], rest[1:]
        values[label] = glued
        words = rest
    return (values["Volume:"], values["Issue:"]) if not words else None


def _dateline(text: str) -> tuple[str, str, str] | None:
    match = DATELINE_RE.match(text)
    if not match or not match["city"].isupper():
        return None
    return match["city"].strip(), (match["agency"] or "").strip(), match["text"].strip()


def _is_subheading(text: str) -> bool:
    return len(text) <= SUBHEADING_MAX_LENGTH and not CLOSING_PUNCTUATION_RE.search(text)


def _blocks(numbered: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines, split at blank lines."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for n, text in numbered:
        if text:
            blocks[-1].append((n, text))
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def _paragraphs(numbered: list[tuple[int, str]]) -> list[str]:
    return ["\n".join(text for _, text in block) for block in _blocks(numbered)]


@dataclass
class _Draft:
    """A comment while its file is read; frozen into a ParsedComment at the end."""

    key: str
    author: str
    depth: int
    line: int
    indent: int
    body: list[tuple[int, str]] = field(default_factory=list)
    replies: list["_Draft"] = field(default_factory=list)


def _freeze(drafts: list[_Draft]) -> dict[int, ParsedComment]:
    """ParsedComments for drafts in file order, without recursion however deep the nesting."""
    frozen: dict[int, ParsedComment] = {}
    for draft in reversed(drafts):  # every reply comes after its parent in the file
        frozen[id(draft)] = ParsedComment(
            key=draft.key,
            author=draft.author,
            body="\n\n".join(_paragraphs(draft.body)),
            depth=draft.depth,
            line=draft.line,
            replies=tuple(frozen[id(reply)] for reply in draft.replies),
        )
    return frozen


def _comments(lines: list[str], start: int) -> tuple[ParsedComment, ...]:
    roots: list[_Draft] = []
    drafts: list[_Draft] = []
    # The latest comment at each depth: a reply belongs to the one a level shallower.
    path: list[_Draft] = []
    for i in range(start, len(lines)):
        n, line = i + 1, lines[i]
        if match := TOP_MARKER_RE.match(line):
            digits = match["number"]
            if len(digits) > COMMENT_NUMBER_MAX_DIGITS:
                raise ParseError(
                    n,
                    f"comment number of {len(digits)} digits is out of order: expected "
                    f"{len(roots) + 1}",
                )
            number = int(digits)
            if number != len(roots) + 1:
                raise ParseError(
                    n, f"comment number {number} is out of order: expected {len(roots) + 1}"
                )
            draft = _Draft(str(number), _author(match, n), 0, n, indent=2)
            roots.append(draft)
            drafts.append(draft)
            path = [draft]
        elif match := REPLY_MARKER_RE.match(line):
            indent = len(match["indent"])
            if indent % 2 or indent < 4:
                raise ParseError(
                    n, f"reply marker indented by {indent} spaces: replies use 4, 6, 8 … spaces"
                )
            depth = indent // 2 - 1
            if not path:
                raise ParseError(n, "reply has no parent: no top-level comment above it")
            if depth > len(path):
                raise ParseError(
                    n,
                    f"reply at depth {depth} skips a level: the comment above it is at "
                    f"depth {len(path) - 1}",
                )
            parent = path[depth - 1]
            draft = _Draft(
                f"{parent.key}.{len(parent.replies) + 1}", _author(match, n), depth, n, indent
            )
            parent.replies.append(draft)
            drafts.append(draft)
            del path[depth:]
            path.append(draft)
        else:
            body_indent = path[-1].indent + 2
            text = line[min(body_indent, len(line) - len(line.lstrip(" "))) :]
            path[-1].body.append((n, text))
    frozen = _freeze(drafts)
    return tuple(frozen[id(root)] for root in roots)


def _author(match: re.Match, line: int) -> str:
    author = (match["author"] or "").strip()
    if not author:
        raise ParseError(line, "comment marker has no author name before 'said:'")
    return author
