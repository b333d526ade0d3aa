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
