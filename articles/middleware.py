"""The article page's shared copy, served before the layers a plain anonymous reader has no use
for."""

from functools import cache

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.urls import Resolver404, get_script_prefix, resolve, reverse

from articles.page_cache import stored_shared_page
from articles.views import published_article_id, sort_settled
from comments.forms import AUTHOR_COOKIE, EMAIL_COOKIE


@cache
def _article_path_start() -> str:
    """What the path of every article page starts with, read from the URLconf."""
    path = reverse("articles:detail", kwargs={"slug": "slug"})
    return "/" + path.removeprefix(get_script_prefix()).removesuffix("slug/")


class SharedPageMiddleware:
    """Answer a plain anonymous reader's request for an article page from the page's stored
    shared copy (articles/page_cache.py), as the page's view would, without the layers below
    this one: authentication, messages, allauth, and the view.

    Listed below the session, common and CSRF middleware, which do for this answer what they
    do for any other (the CSRF cookie is set or renewed). A reader is known to be plain by their
    cookies alone: no session (so nobody signed in, no comment awaiting moderation, no message
    kept in the session), no message cookie, no remembered name or email, and an order of threads
    that the view would neither send them to nor remember (`sort_settled`). Every other
    request, and any page without a stored copy, goes on down to the view, which builds and
    stores the copy.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.private_cookies = (
            settings.SESSION_COOKIE_NAME,
            CookieStorage.cookie_name,
            AUTHOR_COOKIE,
            EMAIL_COOKIE,
        )

    def __call__(self, request):
        response = self.shared_page(request)
        return self.get_response(request) if response is None else response

    def shared_page(self, request):
        path = request.path_info
        if request.method not in ("GET", "HEAD") or not path.startswith(_article_path_start()):
            return None
        cookies = request.COOKIES
        if any(name in cookies for name in self.private_cookies):
            return None
        if not sort_settled(request):
            return None
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if match.view_name != "articles:detail":
            return None
        request.resolver_match = match
        return stored_shared_page(request, match.kwargs["slug"], published_article_id)
