"""Erasing a reader's data at their request: what the site holds for an address, and the
signed link that lets a guest prove the address is theirs.

The writing is `comments.services.commenter_erase`. An account asks from its settings page
and confirms with its password; a guest asks with an address, and the link mailed there
opens the confirmation. The link names the address's record and a digest of the address, not
the address itself, so no address is ever written in a URL or a server's log.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q

from comments.guests import email_normalized
from comments.models import Comment, Commenter, UnconfirmedComment
from comments.signed_links import LinkInvalid, link_read, link_sign

ERASE_SALT = "comments.erase"
ERASE_LINK_HOURS = 24
ERASE_LINK_MAX_AGE = timedelta(hours=ERASE_LINK_HOURS)
NEUTRAL_MESSAGE = "If we hold anything for this address, we have sent a link to it."


@dataclass(frozen=True)
class EraseTarget:
    """What an erase link names: a guest's address, known to the site by `address`."""

    address: str


def _digest(address: str) -> str:
    return hashlib.sha256(email_normalized(address).encode()).hexdigest()[:32]


def guest_data_exists(address: str) -> bool:
    """Whether the site holds anything for a guest's `address`: comments written with it (not
    by an account), its confirmed address's record, or comments waiting for confirmation."""
    address = email_normalized(address)
    return (
        Commenter.objects.filter(email__iexact=address, user=None).exists()
        or Comment.objects.filter(author_email__iexact=address)
        .filter(Q(commenter=None) | Q(commenter__user=None))
        .exists()
        or UnconfirmedComment.objects.filter(author_email__iexact=address).exists()
    )


def erase_token(address: str) -> str:
    """The token of a guest's erase link: rows that hold the address (its record, its first
    comment, its first unconfirmed comment) by id, and the address's digest, signed with the
    time."""
    address = email_normalized(address)
    data = {"d": _digest(address)}
    for key, rows in _anchors().items():
        data[key] = (
            rows.filter(author_email__iexact=address) if key != "r" else
            rows.filter(email__iexact=address, user=None)
        ).order_by("pk").values_list("pk", flat=True).first()
    return link_sign(data, salt=ERASE_SALT)


def _anchors():
    return {
        "r": Commenter.objects.all(),
        "c": Comment.objects.all(),
        "u": UnconfirmedComment.objects.all(),
    }


def erase_token_read(token: str) -> EraseTarget:
    """The address an erase link names; raises LinkInvalid when the link was altered or is
    too old (`expired`), or when nothing of the address is left to name it (it was erased)."""
    anchor = (int, type(None))
    data = link_read(
        token,
        salt=ERASE_SALT,
        max_age=ERASE_LINK_MAX_AGE,
        shape={"d": str, "r": anchor, "c": anchor, "u": anchor},
    )
    for key, rows in _anchors().items():
        if data[key] is None:
            continue
        field = "email" if key == "r" else "author_email"
        address = rows.filter(pk=data[key]).values_list(field, flat=True).first()
        if address and _digest(address) == data["d"]:
            return EraseTarget(address=email_normalized(address))
    raise LinkInvalid
