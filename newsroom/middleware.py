import contextlib
import ipaddress
from urllib.parse import unquote

from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponseBadRequest
from django.shortcuts import render

from newsroom.locking import LockTimeout, is_lock_timeout


class AdminContentSecurityPolicyMiddleware:
    """Give the admin's pages their own policy (settings.ADMIN_CSP).

    Listed after ContentSecurityPolicyMiddleware, so it sees the response first and the policy
    it attaches is the one that middleware writes into the header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            response._csp_config = settings.ADMIN_CSP
        return response


class ForwardedForMiddleware:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, take the client's address from X-Forwarded-For.

    Each trusted proxy appends the address it saw, so the client is the entry that many places
    from the right; entries further left were written by the client and are not trusted. The
    rate limits, the sign-in throttle and the addresses stored for moderators all read
    REMOTE_ADDR.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hops = settings.TRUSTED_PROXY_HOPS
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if hops and len(forwarded) >= hops:
            with contextlib.suppress(ValueError):
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(forwarded[-hops]))
        return self.get_response(request)


class RejectNulMiddleware:
    """Answer 400 to a request whose query string or form data holds a NUL character.

    No page takes one, PostgreSQL cannot store or compare one in text (the query fails with an
    error, a 500), and a search or an admin list filter would pass it straight to the database.
    """

    MESSAGE = (
        "Bad request: the address or the form holds a NUL character (%00), "
        "which no page accepts.\n"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in unquote(request.META.get("QUERY_STRING", "")) or self._form_has_nul(request):
            return HttpResponseBadRequest(self.MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request) -> bool:
        if request.method != "POST":
            return False
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.POST.lists()
        )


class LockTimeoutMiddleware:
    """Answer a write that waited too long for a lock with a retryable 503, not a 500.

    The posting view answers its own (with the reader's text kept); this covers every other
    writer, such as a moderator's decision in the admin while an import holds the article.
    Nothing was written: the transaction that waited has been rolled back.
    """

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, LockTimeout) and not (
            isinstance(exception, OperationalError) and is_lock_timeout(exception)
        ):
            return None
        response = render(
            request, "503.html", {"retry_after": self.RETRY_AFTER_SECONDS}, status=503
        )
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
