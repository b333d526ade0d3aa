"""The readers' rate limits, COMMENT_RATE_LIMIT: at most N comments per SECONDS from one IP
address or one email, and as many reports from one IP address, and as many requests for a
"Download my data" link from one IP address or for one email.

Counted by newsroom/ratelimit.py in the Django cache, so with Redis configured the limit holds
across every gunicorn worker.
"""

from django.conf import settings

from newsroom.ratelimit import FixedWindow, rate_parse


def posting_throttle(*, ip_address: str | None, email: str) -> int | None:
    """Count one posting attempt; return the seconds to wait when it goes over the limit.

    Returns None while the attempt is allowed (or the limit is off).
    """
    return FixedWindow("comment", _rate()).hit(ip=ip_address, email=email)


def report_throttle(*, ip_address: str | None) -> int | None:
    """Count one report; the seconds to wait when an address sends too many.

    A new session may report a comment again, so without this one address could hold any
    comment for review by clearing its cookies.
    """
    return FixedWindow("report", _rate()).hit(ip=ip_address)


def data_request_throttle(*, ip_address: str | None, email: str) -> int | None:
    """Count one request for a "Download my data" link; the seconds to wait when an address
    or a mailbox asks too often, so that the form cannot be used to flood a mailbox."""
    return FixedWindow("data_request", _rate()).hit(ip=ip_address, email=email)


def _rate():
    return rate_parse(settings.COMMENT_RATE_LIMIT, "COMMENT_RATE_LIMIT")
