import contextlib
import ipaddress

from django.conf import settings


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
