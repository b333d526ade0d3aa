"""The article page's two caches, both under the article's version (articles/cache.py).

1. The whole page, for a plain anonymous reader: not signed in, no comment of their own awaiting
   moderation, no message to show, no name or email remembered. It holds nothing personal but
   the CSRF field of the comment form, which the copy keeps as a placeholder and every response
   fills with the reader's own token.
2. The article (with its comment count) and the discussion: one page of threads in one order,
   which every reader sees alike. Every other reader gets the page template rendered for them
   around these: the form with their remembered name, their own pending comments, their
   messages.

Only what exists is stored: a page number beyond the last or a made-up query string is never
kept, so requests cannot fill the cache. Each process keeps the copies it served for
LOCAL_SECONDS, so a hit costs one small read of the shared cache, the versions.
"""

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial, wraps
from html import escape

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.template import engines
from django.template.context import make_context
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe

from articles import structured_data
from articles.cache import article_page_versions, cache
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE, CommentForm
from comments.selectors import SORTS, default_sort, discussion_page
from comments.session import own_pending_ids
from newsroom.csrf import get_token
from newsroom.redis_cache import CACHE_ERRORS
from newsroom.split_gzip import Deflated, gzip_joined, joined
from newsroom.templatetags.page_parts import FRAME, PART_AT

logger = logging.getLogger(__name__)

# As GZipMiddleware reads Accept-Encoding.
ACCEPTS_GZIP = re.compile(r"\bgzip\b")

# Stands for the form's CSRF field in a shared copy. Text on the page is escaped, so it never
# holds a raw "<": no comment can contain this and have a reader's token written into it.
CSRF_PLACEHOLDER = b"<newsroom-csrf-field>"
# Where the page template leaves the discussion, joined in compressed (escaped text never holds
# a raw "<" either).
DISCUSSION_AT = "<newsroom-discussion>"
SLOT_RE = re.compile(f"({re.escape(PART_AT)}|{re.escape(DISCUSSION_AT)})")
CSRF_FIELD_RE = re.compile(rb'<input type="hidden" name="csrfmiddlewaretoken" value="[^"<>]+">')
# How long a process serves a copy from its own memory. Every request reads the versions, so no
# copy is served under an old version; the lifetime keeps a copy from outliving its shared
# original (expired after ARTICLE_PAGE_CACHE_SECONDS, evicted, flushed) by more than a few
# seconds, for one fetch from the shared cache per copy, per process, every LOCAL_SECONDS.
LOCAL_SECONDS = 10
# In every key: a copy stored by an earlier version of this code, in another shape, is never
# read. Raise it when the shape of what is stored changes.
COPY_FORMAT = "f2"
# The kind of copy (ArticleCopies.key) a plain anonymous reader's whole page is kept as.
SHARED_PAGE = "split-page"


@dataclass(frozen=True)
class Variant:
    """The part of the query string a cached copy is kept apart by."""

    page: int
    sort: str

    def key(self) -> str:
        return f"{self.page}:{self.sort}"


def page_variant(request) -> Variant | None:
    """The page and order the query string asks for; None for a query that is not cached.

    Only the page number and a known order are kept apart: other or odd parameters are served
    fresh, so made-up query strings cannot fill the cache.
    """
    if not request.META.get("QUERY_STRING"):
        return Variant(1, default_sort())
    params = request.GET
    if not set(params) <= {"page", "sort"} or any(len(params.getlist(k)) > 1 for k in params):
        return None
    page, sort = params.get("page", "1"), params.get("sort") or default_sort()
    if not (page.isdigit() and len(page) <= 6 and int(page) >= 1) or sort not in SORTS:
        return None
    return Variant(int(page), sort)


def is_plain_reader(request) -> bool:
    """Whether this reader's page holds nothing of their own, so the shared copy fits."""
    cookies = request.COOKIES
    # Without a session cookie there is no session to read: nobody signed in, nothing pending.
    has_session = settings.SESSION_COOKIE_NAME in cookies
    if has_session and (request.user.is_authenticated or own_pending_ids(request.session)):
        return False
    remembers = AUTHOR_COOKIE in cookies or EMAIL_COOKIE in cookies
    if remembers and CommentForm.initial_for(request).get("remember"):
        return False
    return not has_messages(request)


def has_messages(request) -> bool:
    """Whether a message waits for this reader, such as the word that their comment was
    published: their page is then made under the exact versions, so that it shows what they
    have just done even when another worker did it."""
    # len() reads the waiting messages without marking them shown.
    return bool(len(messages.get_messages(request)))


class LocalPages:
    """The copies this process served lately, each for `seconds`, at most `size` of them.

    Keys hold the versions, so a change anywhere makes the old copies unreachable. A slug's
    article is remembered for `slug_seconds`.
    """

    def __init__(self, size: int = 256, seconds: float = LOCAL_SECONDS, slug_seconds: float = 60):
        self.size = size
        self.seconds = seconds
        self.slug_seconds = slug_seconds
        self.copies: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self.slugs: dict[str, tuple[int, float]] = {}

    def article_id(self, slug: str, lookup) -> int | None:
        known = self.slugs.get(slug)
        if known and known[1] > time.monotonic():
            return known[0]
        article_id = lookup(slug)
        if article_id is not None:
            if len(self.slugs) >= 10 * self.size:
                self.slugs.clear()
            self.slugs[slug] = (article_id, time.monotonic() + self.slug_seconds)
        return article_id

    def get(self, key: str):
        """The copy under `key`, from this process or the shared cache; None when neither has
        it. Raises CACHE_ERRORS when the shared cache is away."""
        kept = self.copies.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        stored = cache.get(key)
        if stored is not None:
            self.keep(key, stored)
        return stored

    def put(self, key: str, stored) -> None:
        """Keep a copy here and in the shared cache (a failure there is only logged)."""
        self.keep(key, stored)
        try:
            cache.set(key, stored, settings.ARTICLE_PAGE_CACHE_SECONDS)
        except CACHE_ERRORS as error:
            logger.warning("page cache unavailable, copy not shared: %s", error)

    def keep(self, key: str, stored) -> None:
        lifetime = min(self.seconds, settings.ARTICLE_PAGE_CACHE_SECONDS)
        self.copies[key] = (time.monotonic() + lifetime, stored)
        self.copies.move_to_end(key)
        while len(self.copies) > self.size:
            self.copies.popitem(last=False)

    def clear(self) -> None:
        self.copies.clear()
        self.slugs.clear()


local_pages = LocalPages()


class ArticleCopies:
    """The cached copies of one article's pages under the versions read for this request."""

    def __init__(self, article_id: int, slug: str, versions: tuple[int, int]):
        self.article_id = article_id
        self.slug = slug
        self.versions = versions

    @classmethod
    def current(cls, slug: str, article_id_for, *, exact=False) -> "ArticleCopies | None":
        """The copies of the article a slug shows; None when there is none or the cache is
        away (the page is then built anew). `exact`: under the versions in the cache itself
        (article_page_versions)."""
        if not settings.ARTICLE_PAGE_CACHE_SECONDS:
            return None
        article_id = local_pages.article_id(slug, article_id_for)
        if article_id is None:
            return None
        try:
            return cls(article_id, slug, article_page_versions(article_id, exact=exact))
        except CACHE_ERRORS as error:
            logger.warning("page cache unavailable, page built anew: %s", error)
            return None

    def key(self, kind: str, variant: Variant | None = None) -> str:
        epoch, version = self.versions
        part = f":{variant.key()}" if variant else ""
        versions = f"{COPY_FORMAT}.{epoch}.{version}"
        return f"article-{kind}:{self.article_id}:{versions}:{self.slug}{part}"

    def get(self, key: str):
        try:
            return local_pages.get(key)
        except CACHE_ERRORS as error:
            logger.warning("page cache unavailable, copy built anew: %s", error)
            return None

    def article(self, build):
        """The article as the page shows it (its comment count included), from the cache, else
        `build()`. A copy is kept only when it is this very article."""
        key = self.key("article")
        article = self.get(key)
        if article is None:
            article = build()
            if article.pk == self.article_id:
                local_pages.put(key, article)
        return article


@dataclass(frozen=True)
class Discussion:
    # The discussion's HTML; when it is kept, compressed once for every page it is joined into.
    body: bytes | Deflated
    # The schema.org NewsArticle of the page, with the comments this page shows (JSON-LD).
    json_ld: SafeString
    page_number: int
    page_count: int


def article_discussion(request, article, copies: ArticleCopies | None) -> Discussion:
    """The HTML of the discussion page the request asks for (its threads, order and page
    links) and its schema.org record, from the cache when it may be; `page_number` is the page
    shown, which differs from the one asked for when that does not exist."""
    variant = page_variant(request) if copies and copies.article_id == article.pk else None
    key = variant and copies.key("discussion", variant)
    if key:
        if (stored := copies.get(key)) is not None:
            body, json_ld, page_count = stored
            # Built below, escaped.
            return Discussion(body, mark_safe(json_ld), variant.page, page_count)  # noqa: S308
        # A page number past the end is answered without building anything: the view sends
        # the reader to the last page.
        pages = copies.get(copies.key("pages"))
        if pages is not None and variant.page > pages:
            return Discussion(b"", mark_safe(""), pages, pages)
    discussion = discussion_page(
        article=article, page_number=_page_asked(request), sort=request.GET.get("sort")
    )
    html = render_to_string(
        "comments/includes/comment_tree.html",
        {"discussion": discussion, "article": article},
        request=request,
    )
    json_ld = structured_data.json_ld(
        structured_data.news_article(
            article, discussion.items, absolute_url=request.build_absolute_uri
        )
    )
    if not (key and discussion.page.number == variant.page):
        # Served once: compressed with the rest of the page.
        return Discussion(
            html.encode(), json_ld, discussion.page.number, discussion.page.paginator.num_pages
        )
    body = Deflated.of(html.encode())
    page_count = discussion.page.paginator.num_pages
    local_pages.put(key, (body, str(json_ld), page_count))
    local_pages.put(copies.key("pages"), page_count)
    return Discussion(body, json_ld, discussion.page.number, page_count)


def _page_asked(request) -> str | None:
    """The page number asked for, with 0 and below read as the first page (the paginator
    would show the last)."""
    page = request.GET.get("page")
    try:
        return "1" if int(page) < 1 else page
    except (TypeError, ValueError):
        return page


@dataclass(frozen=True)
class SharedPage:
    """The copy of a page every plain anonymous reader shares: the page split at its CSRF
    field (the placeholder stands there in the copy), compressed once around it."""

    head: Deflated
    tail: Deflated
    content_type: str
    has_form: bool

    @classmethod
    def of(cls, content: bytes, content_type: str) -> "SharedPage":
        content = CSRF_FIELD_RE.sub(CSRF_PLACEHOLDER, content, count=1)
        head, placeholder, tail = content.partition(CSRF_PLACEHOLDER)
        return cls(Deflated.of(head), Deflated.of(tail), content_type, bool(placeholder))

    def response(self, request) -> HttpResponse:
        """The page for this reader: their own CSRF token in the form."""
        field = b""
        if self.has_form:
            token = escape(get_token(request)).encode()
            field = b'<input type="hidden" name="csrfmiddlewaretoken" value="%s">' % token
        # A new response: its headers are written as they are, not merged into (as _private
        # and encoded() do, at a cost that counts on this path).
        response = HttpResponse(
            content_type=self.content_type,
            headers={"Cache-Control": "private", "Vary": "Accept-Encoding, Cookie"},
        )
        return _with_content(request, response, [self.head, field, self.tail])


def _with_content(request, response, parts: list[bytes | Deflated]):
    if ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response.content = gzip_joined(parts)
        response["Content-Encoding"] = "gzip"
    else:
        response.content = joined(parts)
    return response


def encoded(request, response, parts: list[bytes | Deflated]):
    """`response` with `parts` as its content, gzipped when the client accepts it: shared parts
    are compressed once (newsroom/split_gzip.py), and GZipMiddleware leaves an encoded answer
    alone."""
    patch_vary_headers(response, ["Accept-Encoding"])
    return _with_content(request, response, parts)


def _page_parts(response) -> list[bytes | Deflated]:
    """An article page in parts: those of a framed page (`page_parts`), or those of a page
    rendered whole, before the discussion, the discussion (the view sets `discussion_body`),
    after it."""
    if (parts := getattr(response, "page_parts", None)) is not None:
        return parts
    head, _, tail = response.content.partition(DISCUSSION_AT.encode())
    return [head, response.discussion_body, tail]


def page_with_discussion(request, response):
    """An article page's answer, its parts joined (and compressed) into its content."""
    if not hasattr(response, "page_parts") and getattr(response, "discussion_body", None) is None:
        return response
    return encoded(request, response, _page_parts(response))


@dataclass(frozen=True)
class Frame:
    """An article page without what is a reader's own, shared by every reader of the page: its
    text in shared segments, and between each two the slot they leave, the name of a reader's
    part (newsroom/templatetags/page_parts.py) or DISCUSSION_AT."""

    segments: tuple[Deflated, ...]
    slots: tuple[str, ...]

    @classmethod
    def of(cls, html: str, parts: list[str]) -> "Frame":
        pieces = SLOT_RE.split(html)
        names = iter(parts)
        slots = tuple(piece if piece == DISCUSSION_AT else next(names) for piece in pieces[1::2])
        return cls(tuple(Deflated.of(piece.encode()) for piece in pieces[::2]), slots)

    def parts(self, request, context: dict, discussion: bytes | Deflated) -> list:
        """The page for this reader: their parts rendered with the page's `context`."""
        engine = engines["django"].engine
        templates = {
            slot: engine.get_template(slot) for slot in self.slots if slot != DISCUSSION_AT
        }
        rendered = {DISCUSSION_AT: discussion}
        if templates:
            context = make_context(context, request)
            with context.bind_template(next(iter(templates.values()))):
                # Above the context processors' values: the token masked as Django masks it,
                # in a fraction of the time (newsroom/csrf.py).
                context["csrf_token"] = SimpleLazyObject(partial(get_token, request))
                for slot, part in templates.items():
                    rendered[slot] = part.render(context).encode()
        parts = [self.segments[0]]
        for slot, segment in zip(self.slots, self.segments[1:], strict=True):
            parts += [rendered[slot], segment]
        return parts


def framed_page(
    request, template_names: list[str], context: dict, copies, discussion
) -> HttpResponse | None:
    """The article page for a reader with something of their own, around the page's shared
    frame: only their parts are rendered (the comment form, their pending comments, their
    menu and messages). None when the page is not kept (a query string served fresh, the
    cache off or away)."""
    variant = page_variant(request)
    if copies is None or variant is None or copies.article_id != context["object"].pk:
        return None
    key = copies.key("frame", variant)
    frame = copies.get(key)
    if frame is None:
        parts = []
        html = render_to_string(template_names, {**context, FRAME: parts}, request=request)
        frame = Frame.of(html, parts)
        local_pages.put(key, frame)
    response = HttpResponse()
    # Encoded by the page cache (page_with_discussion), as a page rendered whole.
    response.page_parts = frame.parts(request, context, discussion.body)
    response.context_data = context
    return response


def _private(response):
    # A shared copy is served here, but each response carries the reader's own token.
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def stored_shared_page(request, slug: str, article_id_for) -> HttpResponse | None:
    """The page for a plain anonymous reader from its stored shared copy, as
    `cached_article_page` serves it; None when no copy is stored for the page the query asks
    for (or none is kept for it, or the cache is off or away). Nothing is built here."""
    variant = page_variant(request)
    if variant is None or request.method not in ("GET", "HEAD"):
        return None
    copies = ArticleCopies.current(slug, article_id_for)
    if copies is None:
        return None
    stored = copies.get(copies.key(SHARED_PAGE, variant))
    return None if stored is None else stored.response(request)


def cached_article_page(article_id_for):
    """Serve an article page view to plain anonymous readers from a copy they all share.

    `article_id_for(slug)` names the published article a slug shows, or None (then the view
    answers, with its 404). The answer is remembered for a while; a copy is stored only when
    the view showed that very article, so a slug that moved to another article in the meantime
    never fills the wrong entry.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, slug, **kwargs):
            def rendered():
                response = view(request, *args, slug=slug, **kwargs)
                if hasattr(response, "render"):
                    response.render()
                return response

            variant = page_variant(request)
            if (
                variant is None
                or not settings.ARTICLE_PAGE_CACHE_SECONDS
                or request.method not in ("GET", "HEAD")
                or not is_plain_reader(request)
            ):
                return _private(page_with_discussion(request, rendered()))
            copies = ArticleCopies.current(slug, article_id_for)
            if copies is None:
                return _private(page_with_discussion(request, rendered()))
            key = copies.key(SHARED_PAGE, variant)
            stored = copies.get(key)
            if stored is None:
                response = rendered()
                shown = getattr(response, "context_data", None) or {}
                if (
                    response.status_code != 200
                    or getattr(shown.get("object"), "pk", None) != copies.article_id
                ):
                    return _private(page_with_discussion(request, response))
                stored = SharedPage.of(joined(_page_parts(response)), response["Content-Type"])
                local_pages.put(key, stored)
            return stored.response(request)

        return wrapper

    return decorator
