"""Who is asking: the address of the client behind a request."""

import ipaddress


def client_ip(request) -> str | None:
    """REMOTE_ADDR, which newsroom's ForwardedForMiddleware sets from trusted proxies only."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None
