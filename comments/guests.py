"""Guests' comments under COMMENTS_GUESTS: the policy, the signed confirmation links, and the
cookie that remembers the addresses a browser has confirmed.

- "open": a guest's comment goes through the policy rules at once.
- "verify": it is kept as an UnconfirmedComment until the guest follows the link mailed to the
  address they typed. The link is signed (django.core.signing) and names one row by its id and
  a random nonce; it expires after LINK_MAX_AGE. Once followed, the address is remembered in a
  signed cookie, and that browser's later comments from it are posted at once.
- "closed": only signed-in readers comment.
"""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from comments import signed_links

OPEN = "open"
VERIFY = "verify"
CLOSED = "closed"

LINK_SALT = "comments.guest_confirm"
LINK_HOURS = 24
LINK_MAX_AGE = timedelta(hours=LINK_HOURS)
# Unconfirmed comments are deleted this long after they were written.
UNCONFIRMED_DAYS = 7

VERIFIED_COOKIE = "comment_verified"
VERIFIED_SALT = "comments.verified_email"
VERIFIED_MAX_AGE = 365 * 24 * 60 * 60
# A browser shared by a household remembers a few addresses, the latest confirmed first.
VERIFIED_KEPT = 5


def guest_policy() -> str:
    """COMMENTS_GUESTS, which newsroom/checks.py keeps to OPEN, VERIFY or CLOSED."""
    return settings.COMMENTS_GUESTS


def sign_in_url(article, *, parent=None) -> str:
    """allauth's sign-in page, coming back to the discussion (or the reply) afterwards."""
    if parent is not None:
        back = reverse("comments:reply", kwargs={"slug": article.slug, "pk": parent.pk})
    else:
        back = f"{article.get_absolute_url()}#comments"
    return f"{reverse('account_login')}?{urlencode({'next': back})}"


def email_normalized(address: str) -> str:
    """An address as a guest's identity is kept: without surrounding spaces, lower case.

    Mail systems treat the local part case-insensitively in practice, and a guest who typed
    "Ada@Example.com" once and "ada@example.com" the next time is one commenter.
    """
    return address.strip().lower()


def link_token(*, pk: int, nonce: str) -> str:
    """The signed, timestamped token of the link that confirms unconfirmed comment `pk`."""
    return signed_links.link_sign({"id": pk, "n": nonce}, salt=LINK_SALT)


@dataclass(frozen=True)
class LinkTarget:
    pk: int
    nonce: str


def link_read(token: str) -> LinkTarget:
    """The row a link names. Raises LinkInvalid (`expired` past LINK_MAX_AGE)."""
    value = signed_links.link_read(
        token, salt=LINK_SALT, max_age=LINK_MAX_AGE, shape={"id": int, "n": str}
    )
    return LinkTarget(pk=value["id"], nonce=value["n"])


def verified_emails(request) -> list[str]:
    """The addresses this browser has confirmed, latest first; none when the cookie is
    missing, forged or older than VERIFIED_MAX_AGE."""
    signed = request.COOKIES.get(VERIFIED_COOKIE)
    if not signed:
        # Most readers have none: no signature to check.
        return []
    try:
        value = signing.loads(signed, salt=VERIFIED_SALT, max_age=VERIFIED_MAX_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [email for email in value if isinstance(email, str)][:VERIFIED_KEPT]


def is_verified_here(request, email: str) -> bool:
    """Whether this browser has confirmed `email`."""
    return email_normalized(email) in verified_emails(request)


def verified_cookie_set(response, request, email: str) -> None:
    """Remember on `response` that this browser confirmed `email`, with the others it had."""
    email = email_normalized(email)
    kept = [email, *(other for other in verified_emails(request) if other != email)]
    response.set_cookie(
        VERIFIED_COOKIE,
        signing.dumps(kept[:VERIFIED_KEPT], salt=VERIFIED_SALT),
        max_age=VERIFIED_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
