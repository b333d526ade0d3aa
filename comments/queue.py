"""The review screen's reads: the moderators' queue in its order, one comment of it with the
thread around it and why it is there, and its commenter's record.

A fixed number of queries for a comment, whatever the size of its thread or of the queue.
"""

from dataclasses import dataclass, field

from django.db.models import F, QuerySet

from comments.models import Comment, Commenter, Decision, Report
from comments.sanctions import moment

# How many comments of the queue the screen counts through with j and k.
QUEUE_WINDOW = 1000
# Siblings shown before and after the comment, replies shown under it.
SIBLINGS_SHOWN = 2
REPLIES_SHOWN = 10
DECISIONS_SHOWN = 5
OTHERS_SHOWN = 5


def review_queue() -> QuerySet[Comment]:
    """The queue in the order it is worked: the most open reports, then the oldest."""
    return (
        Comment.objects.awaiting_review()
        .with_report_counts()
        .order_by(F("open_report_count").desc(), F("created").asc(nulls_first=True), "pk")
    )


@dataclass(frozen=True)
class Review:
    comment: Comment
    position: int
    total: int
    more: bool
    previous_id: int | None
    next_id: int | None
    reports: list[Report]
    parent: Comment | None
    siblings_before: list[Comment]
    siblings_after: list[Comment]
    replies: list[Comment]
    commenter: Commenter | None
    # The commenter's status in force now, in words ("Suspended until 4 Mar 2026, 06:06").
    commenter_status: str = ""
    decisions: list[Decision] = field(default_factory=list)
    others: list[Comment] = field(default_factory=list)

    @property
    def report_groups(self) -> list[tuple[str, int, list[str]]]:
        """The open reports by reason, most frequent first: (reason, how many, details)."""
        groups: dict[str, list[Report]] = {}
        for report in self.reports:
            groups.setdefault(report.get_reason_display(), []).append(report)
        return sorted(
            (
                (label, len(reports), [report.detail for report in reports if report.detail])
                for label, reports in groups.items()
            ),
            key=lambda group: -group[1],
        )


def commenter_status_label(commenter: Commenter) -> str:
    """The status in force now (`with_current_status`), with its end when it has one."""
    status = Commenter.Status(commenter.status_now)
    if commenter.status_until is not None and status in Commenter.TIMED:
        return f"{status.label} until {moment(commenter.status_until)}"
    return status.label


def _neighbours(ids: list[int], pk: int) -> tuple[int, int | None, int | None]:
    """The comment's place in the window (1-based) and the ids before and after it."""
    index = ids.index(pk)
    return (
        index + 1,
        ids[index - 1] if index > 0 else None,
        ids[index + 1] if index + 1 < len(ids) else None,
    )


def review_for(comment_id: int | None) -> Review | None:
    """The comment `comment_id` of the queue with its context, the queue's first one when
    `comment_id` is None, or None when that comment (or any) no longer waits for review."""
    # With the status beside the id, no index holds every column read, and the planner looks
    # the few waiting comments up by id: for the id alone it reads the whole (created, id)
    # index, 1,000,000 entries for 7,000 waiting comments (bench/bench_admin.py).
    window = review_queue().values_list("pk", "status")[: QUEUE_WINDOW + 1]
    ids = [pk for pk, _ in window]
    more = len(ids) > QUEUE_WINDOW
    ids = ids[:QUEUE_WINDOW]
    if comment_id is None and ids:
        comment_id = ids[0]
    comment = (
        review_queue()
        .filter(pk=comment_id)
        .select_related("article", "parent", "commenter")
        .prefetch_related("hold_reasons")
        .first()
        if comment_id is not None
        else None
    )
    if comment is None:
        return None
    if comment.pk in ids:
        position, previous_id, next_id = _neighbours(ids, comment.pk)
    else:
        position, previous_id, next_id = len(ids) + 1, (ids[-1] if ids else None), None
    reports = list(Report.objects.filter(comment=comment, resolved=False))
    parent = comment.parent
    siblings_before: list[Comment] = []
    siblings_after: list[Comment] = []
    if parent is not None:
        siblings = Comment.objects.filter(parent_id=parent.pk, tree_id=comment.tree_id)
        around = list(
            siblings.filter(lft__lt=comment.lft).order_by("-lft")[:SIBLINGS_SHOWN]
        )
        siblings_before = around[::-1]
        siblings_after = list(siblings.filter(lft__gt=comment.lft).order_by("lft")[:SIBLINGS_SHOWN])
    replies = list(
        Comment.objects.filter(parent_id=comment.pk, tree_id=comment.tree_id).order_by("lft")[
            :REPLIES_SHOWN
        ]
    )
    commenter = None
    commenter_status = ""
    decisions: list[Decision] = []
    if comment.commenter_id is not None:
        commenter = (
            Commenter.objects.with_record().with_current_status().get(pk=comment.commenter_id)
        )
        commenter_status = commenter_status_label(commenter)
        decisions = list(
            Decision.objects.filter(comment__commenter_id=commenter.pk)
            .select_related("moderator", "comment")
            .order_by("-created", "-pk")[:DECISIONS_SHOWN]
        )
        theirs = review_queue().filter(commenter_id=commenter.pk)
    elif comment.author_email:
        theirs = review_queue().filter(commenter=None, author_email__iexact=comment.author_email)
    else:
        theirs = Comment.objects.none()
    others = list(theirs.exclude(pk=comment.pk).select_related("article")[:OTHERS_SHOWN])
    return Review(
        comment=comment,
        position=position,
        total=len(ids),
        more=more,
        previous_id=previous_id,
        next_id=next_id,
        reports=reports,
        parent=parent,
        siblings_before=siblings_before,
        siblings_after=siblings_after,
        replies=replies,
        commenter=commenter,
        commenter_status=commenter_status,
        decisions=decisions,
        others=others,
    )
