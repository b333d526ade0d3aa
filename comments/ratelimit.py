"""The posting rate limit: at most N comments per SECONDS from one IP address or one email.

Counted by newsroom/ratelimit.py in the Django cache, so with Redis configured the limit holds
across every gunicorn worker.
"""

from django.conf import settings

from newsroom.ratelimit import FixedWindow, rate_parse


def posting_throttle(*, ip_address: str | None, email: str) -> int | None:
    """Count one posting attempt; return the seconds to wait when it goes over the limit.

    Returns None while the attempt is allowed (or the limit is off).
    """
    rate = rate_parse(settings.COMMENT_RATE_LIMIT, "COMMENT_RATE_LIMIT")
    return FixedWindow("comment", rate).hit(ip=ip_address, email=email)
