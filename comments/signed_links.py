"""Signed, timestamped tokens for the links the site mails (a guest's confirmation, a data
download, an erase request, an unsubscribe), made and read in one way.

A token is `django.core.signing` of a small dict under a salt of its own, so a token made for
one kind of link is refused by every other kind. Reading checks the signature, the age and the
shape of the value: only this site signs with its key, but a value of another shape is refused
rather than trusted.
"""

from datetime import timedelta

from django.core import signing

# What a field of a token may hold: a type, or a tuple of types (`type(None)` for optional).
Shape = dict[str, type | tuple[type, ...]]


class LinkInvalid(Exception):
    """A link this site did not make, or one changed or cut short; `expired` when it is
    genuine but too old."""

    def __init__(self, *, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def link_sign(data: dict, *, salt: str) -> str:
    """The signed, timestamped token of `data`."""
    return signing.dumps(data, salt=salt, compress=True)


def link_read(token: str, *, salt: str, max_age: timedelta, shape: Shape) -> dict:
    """The value of a token made by `link_sign` with `salt`, no older than `max_age`, whose
    fields have the types `shape` names (a bool is no int). Raises LinkInvalid."""
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkInvalid(expired=True) from None
    except signing.BadSignature:
        raise LinkInvalid from None
    if not isinstance(value, dict):
        raise LinkInvalid
    for name, types in shape.items():
        field = value.get(name)
        allowed = types if isinstance(types, tuple) else (types,)
        if not isinstance(field, allowed) or (isinstance(field, bool) and bool not in allowed):
            raise LinkInvalid
    return value
