"""Who may edit or delete a comment: its author, known by their session or by their browser.

An account's comment belongs to the account (`commenter.user`), whoever signs in to it. A
guest's comment belongs to the browser that posted it: posting sets the signed cookie
OWN_COOKIE, which lists the reader's own comments as `<id>-<edit deadline>` entries, the
newest OWN_KEPT of them. It is signed (django.core.signing), so it cannot be forged to name
someone else's comment, and it is not HttpOnly: static/js/comments.js reads the ids from it
to show "Edit" and "Delete" on the reader's own comments, since the discussion is a fragment
shared by every reader (articles/page_cache.py) and cannot carry them. A script on the page
could use the cookie, but it could as well send the same requests with it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from comments.models import Comment

OWN_COOKIE = "comments_own"
OWN_SALT = "comments.own"
OWN_MAX_AGE = 365 * 24 * 60 * 60
OWN_KEPT = 50


def edit_deadline(comment: Comment) -> datetime | None:
    """Until when the comment's author may edit it (COMMENTS_EDIT_MINUTES after posting);
    None when it cannot be edited at all (editing off, or an imported comment without a
    date)."""
    minutes = settings.COMMENTS_EDIT_MINUTES
    if not minutes or comment.created is None:
        return None
    return comment.created + timedelta(minutes=minutes)


def edit_window_open(comment: Comment) -> bool:
    deadline = edit_deadline(comment)
    return deadline is not None and timezone.now() < deadline


def _signer() -> signing.Signer:
    return signing.Signer(salt=OWN_SALT)


def own_entries(request) -> dict[int, int]:
    """The comments the cookie says this browser posted: {id: edit deadline (Unix time)}.
    An altered or malformed cookie counts as none."""
    raw = request.COOKIES.get(OWN_COOKIE, "")
    try:
        value = _signer().unsign(raw)
    except signing.BadSignature:
        return {}
    entries: dict[int, int] = {}
    for entry in value.split("."):
        pk, _, deadline = entry.partition("-")
        if pk.isdigit() and deadline.isdigit():
            entries[int(pk)] = int(deadline)
    return entries


def own_cookie_add(response, request, comment: Comment) -> None:
    """Add `comment` to the browser's list of its own comments."""
    deadline = edit_deadline(comment)
    entries = own_entries(request)
    entries.pop(comment.pk, None)
    entries[comment.pk] = int(deadline.timestamp()) if deadline else 0
    kept = list(entries.items())[-OWN_KEPT:]
    value = ".".join(f"{pk}-{until}" for pk, until in kept)
    response.set_cookie(
        OWN_COOKIE,
        _signer().sign(value),
        max_age=OWN_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=False,
        samesite="Lax",
    )


def is_author(request, comment: Comment) -> bool:
    """Whether the reader of `request` wrote `comment`: an account's comment from its session
    only, a guest's from the browser that posted it."""
    commenter = comment.commenter
    if commenter is not None and commenter.user_id is not None:
        return request.user.is_authenticated and request.user.pk == commenter.user_id
    return comment.pk in own_entries(request)
