"""Who may comment under which name: the reserved names and the display names of accounts.

A name is reserved when it looks like a staff member's name or one the moderators listed
(ReservedName). "Looks like" compares name_key(): the skeleton of comments/normalize.py (NFKC,
case folded, invisible characters dropped, confusable letters mapped to one), with accents,
spaces and punctuation removed, so "Ｍｏｄｅｒａｔｏｒ", "m o d e r a t o r", "Modérator" and a
spelling with a Cyrillic "о" are all "moderator".
"""

import unicodedata

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import CharField, Value
from django.db.models.functions import Coalesce

from comments.models import Commenter, ReservedName
from comments.normalize import skeleton
from comments.text import CONTROL_CHARACTER

DISPLAY_NAME_MIN = 2
DISPLAY_NAME_MAX = Commenter._meta.get_field("display_name").max_length

STAFF_BADGE = "Staff"

RESERVED_MESSAGE = (
    "This name is reserved for the newsroom’s staff, or looks too much like one that is. "
    "Choose another name."
)


def name_key(name: str) -> str:
    """The form in which two names that look alike are equal."""
    bare = "".join(
        char
        for char in unicodedata.normalize("NFD", skeleton(name))
        if not unicodedata.combining(char)
    )
    return "".join(char for char in skeleton(bare) if char.isalnum())


def _protected_names(*, except_user=None) -> list[str]:
    """The reserved names and the names staff members are known by (their commenter's display
    name, their full name and their user name), read in one query."""
    staff = get_user_model().objects.filter(is_staff=True)
    if except_user is not None:
        staff = staff.exclude(pk=except_user.pk)
    blank = Value("", output_field=CharField())
    reserved = ReservedName.objects.order_by().annotate(last=blank, username=blank, display=blank)
    rows = (
        staff.order_by()
        .annotate(display=Coalesce("commenter__display_name", blank))
        .values_list("first_name", "last_name", "username", "display")
    )
    names = []
    for first, last, username, display in rows.union(
        reserved.values_list("name", "last", "username", "display"), all=True
    ):
        names += [f"{first} {last}", username, display]
    return names


def is_reserved(name: str, *, except_user=None) -> bool:
    """Whether `name` is, or looks like, a reserved name or a staff member's name (other than
    `except_user`'s own). One query."""
    key = name_key(name)
    if not key:
        return False
    return any(name_key(other) == key for other in _protected_names(except_user=except_user))


def display_name_clean(value: str, *, user=None) -> str:
    """A display name as typed, checked and with its white space collapsed; raises
    ValidationError with a message for the reader."""
    if bad := CONTROL_CHARACTER.search(value):
        raise ValidationError(
            "Remove the invisible control character (U+%(code)04X) from your name.",
            code="control_character",
            params={"code": ord(bad.group())},
        )
    name = " ".join(value.split())
    if len(name_key(name)) < DISPLAY_NAME_MIN:
        raise ValidationError(
            "Use at least %(min)d letters or digits in your name.",
            code="too_short",
            params={"min": DISPLAY_NAME_MIN},
        )
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            "Use at most %(max)d characters.", code="too_long", params={"max": DISPLAY_NAME_MAX}
        )
    if is_reserved(name, except_user=user):
        raise ValidationError(RESERVED_MESSAGE, code="reserved")
    return name


def has_verified_email(user) -> bool:
    """Whether the account's primary email address has been verified (allauth's record)."""
    return EmailAddress.objects.filter(user=user, primary=True, verified=True).exists()


def badge_for(*, is_staff: bool, badge: str) -> str:
    """The badge a commenter's comments show: a staff member's own text, or STAFF_BADGE.
    comments/selectors.py computes the same in SQL for the discussion's rows."""
    if not is_staff:
        return ""
    return badge or STAFF_BADGE
