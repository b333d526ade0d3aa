"""The article page, cached for anonymous readers under its article's version (articles/cache.py).

Only anonymous readers share the cached copy: not signed-in users, not a reader whose own
comment awaits moderation, not one with a message to show. Two things on the page belong to
each reader, and every response fills them into the shared copy: the CSRF token of the page's
forms, bound to the reader's cookie (the copy holds a placeholder for it), and the name and
email the comment form remembers for the reader. A copy is only ever stored from a page built
for a reader with nothing remembered, so it holds nobody's name.
"""

import logging
import re
import time
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import escape

from articles.cache import article_page_version
from comments.forms import CommentForm
from comments.session import own_pending_ids
from newsroom.redis_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

CSRF_PLACEHOLDER = b"__newsroom_csrf_token__"
CSRF_INPUT_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# Where the comment form's partial writes a remembered value (value="..." or " checked").
REMEMBERED_NAME_AT = b'<input type="text" name="name"'
REMEMBERED_EMAIL_AT = b'<input type="email" name="email"'
REMEMBERED_CHECKBOX_AT = b'name="remember" id="id_remember"'


def shares_cached_pages(request) -> bool:
    """Whether this request may be answered with the copy every anonymous reader shares."""
    if not settings.ARTICLE_PAGE_CACHE_SECONDS or request.method not in ("GET", "HEAD"):
        return False
    if request.user.is_authenticated or own_pending_ids(request.session):
        return False
    # len() reads the waiting messages without marking them shown.
    return not len(messages.get_messages(request))


def with_remembered_author(content: bytes, initial: dict) -> bytes:
    """The page with the comment form filled as CommentForm.initial_for() fills it: the
    remembered name and email, the box to remember them ticked. A page without the form (a
    closed discussion) stays as it is."""
    if not initial.get("remember"):
        return content
    for at, field in ((REMEMBERED_NAME_AT, "name"), (REMEMBERED_EMAIL_AT, "email")):
        if value := initial[field]:
            content = content.replace(at, b'%s value="%s"' % (at, escape(value).encode()), 1)
    return content.replace(REMEMBERED_CHECKBOX_AT, REMEMBERED_CHECKBOX_AT + b" checked", 1)


def page_variant(request) -> str | None:
    """The part of the cache key the query string gives; None for a query that is not cached.

    Only the page number and the sort order are kept apart: other or odd parameters are
    served fresh, so made-up query strings cannot fill the cache.
    """
    params = request.GET
    if not set(params) <= {"page", "sort"} or any(len(params.getlist(k)) > 1 for k in params):
        return None
    page, sort = params.get("page", "1"), params.get("sort", "")
    if not (page.isdigit() and len(page) <= 6) or sort not in ("", "oldest", "newest"):
        return None
    return f"{int(page)}:{sort or 'oldest'}"


class LocalPages:
    """The latest pages served by this process, so a hit costs one small read of the shared
    cache (the article's version) instead of fetching the whole page from it.

    Keys hold the article's version, so a change anywhere makes the old copies unreachable;
    the oldest are dropped beyond `size`. A slug's article is remembered for `slug_seconds`.
    """

    def __init__(self, size: int = 128, slug_seconds: float = 60):
        self.size = size
        self.slug_seconds = slug_seconds
        self.pages: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
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

    def get(self, key: str) -> tuple[bytes, str] | None:
        stored = self.pages.get(key)
        if stored is None:
            stored = cache.get(key)
            if stored is not None:
                self.put(key, stored)
        return stored

    def put(self, key: str, stored: tuple[bytes, str]) -> None:
        self.pages[key] = stored
        while len(self.pages) > self.size:
            self.pages.popitem(last=False)

    def clear(self) -> None:
        self.pages.clear()
        self.slugs.clear()


local_pages = LocalPages()


def cached_article_page(article_id_for):
    """Cache an article page view for anonymous readers under a per-article version.

    `article_id_for(slug)` names the published article a slug shows, or None (then the view
    answers, with its 404). The answer is remembered for a while; a page is stored only when
    the view showed that very article, so a slug that moved to another article in the meantime
    never fills the wrong entry.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, slug, **kwargs):
            variant = page_variant(request)
            if variant is None or not shares_cached_pages(request):
                return view(request, *args, slug=slug, **kwargs)
            article_id = local_pages.article_id(slug, article_id_for)
            if article_id is None:
                return view(request, *args, slug=slug, **kwargs)
            try:
                version = article_page_version(article_id)
                key = f"article-page:{article_id}:{version}:{slug}:{variant}"
                stored = local_pages.get(key)
            except CACHE_ERRORS as error:
                logger.warning("page cache unavailable, page built anew: %s", error)
                return view(request, *args, slug=slug, **kwargs)
            remembered = CommentForm.initial_for(request)
            if stored is None:
                response = view(request, *args, slug=slug, **kwargs)
                if hasattr(response, "render"):
                    response.render()
                shown = getattr(response, "context_data", None) or {}
                if (
                    response.status_code != 200
                    or getattr(shown.get("object"), "pk", None) != article_id
                    or remembered.get("remember")
                ):
                    return response
                content = response.content
                token = CSRF_INPUT_RE.search(content)
                if token:
                    content = content.replace(token[1], CSRF_PLACEHOLDER)
                stored = (content, response["Content-Type"])
                local_pages.put(key, stored)
                try:
                    cache.set(key, stored, settings.ARTICLE_PAGE_CACHE_SECONDS)
                except CACHE_ERRORS as error:
                    logger.warning("page cache unavailable, page not shared: %s", error)
            content, content_type = stored
            content = with_remembered_author(content, remembered)
            response = HttpResponse(
                content.replace(CSRF_PLACEHOLDER, get_token(request).encode()),
                content_type=content_type,
            )
            # The copy is shared here, but each response carries the reader's own token.
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ["Cookie"])
            return response

        return wrapper

    return decorator
