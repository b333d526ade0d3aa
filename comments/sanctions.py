"""What a commenter's status means for a new comment, and the rule that puts a commenter under
pre-moderation when moderators reject too many of their comments.

A status is read as `Commenter.current_status`: a timed suspension or pre-moderation whose end
has passed no longer applies, without a job having to lift it.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import formats, timezone

from comments.models import Comment, Commenter, ModerationPolicy

SUSPENDED_MESSAGE = (
    "Your commenting is suspended until {until}, so this comment was not posted. "
    "You can post it once the suspension has ended."
)
BANNED_MESSAGE = (
    "You can no longer post comments here: the moderators have banned your account, "
    "so this comment was not posted."
)
REJECTED = (Comment.Status.REMOVED, Comment.Status.SPAM)


def moment(value) -> str:
    """A date and time as the site shows it to readers, with its time zone."""
    return formats.date_format(timezone.localtime(value), "j F Y, H:i T")


def posting_refusal(commenter: Commenter | None) -> str:
    """Why `commenter` may not post now (suspended or banned), for the reader; empty when
    they may. Reads nothing from the database."""
    if commenter is None:
        return ""
    status = commenter.current_status
    if status == Commenter.Status.SUSPENDED:
        message = SUSPENDED_MESSAGE.format(until=moment(commenter.status_until))
    elif status == Commenter.Status.BANNED:
        message = BANNED_MESSAGE
    else:
        return ""
    if commenter.status_reason:
        message += f" The moderators’ reason: {commenter.status_reason}"
    return message


def premoderation_detail(commenter: Commenter | None) -> str | None:
    """None when `commenter`'s comments are not held for review; otherwise until when they
    are ("until 2 January 2099, 03:04 UTC"), or "" for until a moderator lifts it. Reads
    nothing from the database."""
    if commenter is None or commenter.current_status != Commenter.Status.PREMODERATED:
        return None
    if commenter.status_until is None:
        return ""
    return f"until {moment(commenter.status_until)}"


@dataclass(frozen=True)
class RuleMatch:
    """A commenter the automatic rule catches, and why, in words for the record."""

    commenter_id: int
    reason: str
    until: object  # a datetime, or None for "until a moderator lifts it"


def premoderation_rule_matches(commenter_ids: set[int]) -> list[RuleMatch]:
    """The commenters among `commenter_ids`, active now, whom the policy's automatic
    pre-moderation rule catches: more than its share of their last N comments rejected
    (removed or marked as spam). The comments still awaiting review are not counted yet; the
    published ones count whether a moderator approved them or not. A commenter with fewer
    than N comments is judged as if the others had been published, so a newcomer is caught by
    the same count of rejections as anyone else.

    Three queries when the rule is on and someone may be caught, one otherwise.
    """
    commenter_ids = {pk for pk in commenter_ids if pk is not None}
    policy = ModerationPolicy.objects.first()
    if not commenter_ids or policy is None or not policy.auto_premoderation:
        return []
    window = policy.auto_premoderation_window
    recent = (
        Comment.objects.filter(commenter_id__in=commenter_ids)
        .exclude(status=Comment.Status.PENDING)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("commenter_id")],
                order_by=[F("created").desc(nulls_last=True), F("pk").desc()],
            )
        )
        .filter(rank__lte=window)
        .values_list("commenter_id", "status")
    )
    rejected = Counter(pk for pk, status in recent if status in REJECTED)
    caught = {
        pk: count
        for pk, count in rejected.items()
        if count * 100 > policy.auto_premoderation_share * window
    }
    if not caught:
        return []
    active = (
        Commenter.objects.filter(pk__in=caught)
        .with_current_status()
        .filter(status_now=Commenter.Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    days = policy.auto_premoderation_days
    until = timezone.now() + timedelta(days=days) if days else None
    return [
        RuleMatch(
            commenter_id=pk,
            reason=(
                f"Automatic: moderators rejected {caught[pk]} of this commenter’s last "
                f"{window} comments (more than {policy.auto_premoderation_share}%)."
            ),
            until=until,
        )
        for pk in sorted(active)
    ]
