"""A comment's text as readers get it: HTML with its paragraphs, line breaks and links, or
plain text. The link rule of comments/moderation.py counts the links this module makes."""

import html
import re

from django.utils.html import Urlizer
from django.utils.safestring import SafeString, mark_safe

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A run of non-space holding "http" or "www.": the only words urlize may make a link of.
# The look-behind tries runs at their start only, which keeps the search linear.
LINK_CANDIDATE = re.compile(r"(?<!\S)\S*?(?:http|www\.)\S*", re.IGNORECASE)
# What a name or a body may not hold: the C0 control characters but tab, line feed and carriage
# return (a textarea sends its line breaks as CR LF), and DEL. XML cannot carry most of them,
# and none of them is text.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CommentUrlizer(Urlizer):
    """Django's urlize, configured for readers' text: only http(s):// and www. addresses become
    links (a bare domain or an email address stays text), and the links pass no ranking and
    no window reference."""

    simple_url_2_re = re.compile(r"^www\.", re.IGNORECASE)
    url_template = '<a href="{href}" rel="nofollow ugc noopener">{url}</a>'

    @staticmethod
    def is_email_simple(value) -> bool:
        return False


urlize = CommentUrlizer()


def body_html(text: str) -> SafeString:
    """The comment's text as HTML: escaped, paragraphs kept, the author's line breaks kept,
    and web addresses made links."""
    return mark_safe(body_markup(text))  # noqa: S308 (escaped by html.escape() or urlize)


def body_markup(text: str) -> str:
    """body_html() as a plain string, for markup that is assembled further."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    paragraphs = [p.strip() for p in PARAGRAPH_BREAK.split(text)] if "\n" in text else [text]
    return "".join(f"<p>{_linked(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)


def _linked(text: str) -> str:
    # Every link urlize makes starts with "http" or "www." (in any case), and urlize splits
    # the text at white space before it looks at a word: only the runs of non-space that hold
    # either go through it, and the rest is escaped as urlize would. Urlize costs about 0.1 ms
    # a paragraph otherwise, most of it on words that cannot be links.
    lowered = text.lower()
    if "http" not in lowered and "www." not in lowered:
        return html.escape(text)
    out = []
    position = 0
    for match in LINK_CANDIDATE.finditer(text):
        out.append(html.escape(text[position : match.start()]))
        out.append(urlize(match.group(), autoescape=True))
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out)


def link_count(text: str) -> int:
    """How many links body_html() makes of `text`. Authors' text is escaped, so every "<a "
    in the markup is a link it made."""
    return body_markup(text).count("<a ")


def body_text(text: str) -> str:
    """The comment's text as plain text: paragraphs joined by one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return "\n\n".join(p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip())
