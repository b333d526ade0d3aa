"""Writes to comments. Every tree write takes the locks of comments/locks.py first."""

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
)
from django.db.models.functions import Coalesce, Greatest, Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from comments.decision_mail import decision_notify, moderation_alert_check
from comments.forms import PARENT_GONE
from comments.guests import LINK_HOURS, UNCONFIRMED_DAYS, email_normalized, link_token
from comments.identity import RESERVED_MESSAGE, is_reserved
from comments.locks import lock_article
from comments.models import (
    BlockedCommenter,
    Comment,
    Commenter,
    CommentRevision,
    Decision,
    HoldReason,
    Recommendation,
    Report,
    UnconfirmedComment,
    commented_model,
    reporter_key,
)
from comments.moderation import Reason, Verdict, comment_screen, is_duplicate
from comments.notifications import replies_notify
from comments.sanctions import REJECTED, premoderation_rule_matches
from comments.signals import discussion_changed_send
from newsroom.locking import lock_waits_bounded
from newsroom.mail import absolute_url, mail_queue


@transaction.atomic
def duplicates_mark(*, article: Model) -> int:
    """Flag, in page order, each comment that repeats an earlier one by the same author.

    Returns how many comments are flagged now.
    """
    seen: dict[str, list[str]] = {}
    flagged: list[int] = []
    unflagged: list[int] = []
    rows = (
        Comment.objects.for_article(article)
        .order_by("thread_position", "tree_id", "lft")
        .values_list("pk", "author_name", "body", "is_duplicate")
    )
    for pk, author, body, was_flagged in rows:
        earlier = seen.setdefault(author.casefold().strip(), [])
        duplicate = is_duplicate(body, earlier)
        if duplicate != was_flagged:
            (flagged if duplicate else unflagged).append(pk)
        earlier.append(body)
    if flagged:
        Comment.objects.filter(pk__in=flagged).update(is_duplicate=True)
    if unflagged:
        Comment.objects.filter(pk__in=unflagged).update(is_duplicate=False)
    if flagged or unflagged:
        discussion_changed_send(article.pk)
    return Comment.objects.for_article(article).filter(is_duplicate=True).count()


def _articles_lock(comments: QuerySet[Comment]) -> set[int]:
    """Lock, in id order, every article that `comments` belong to; return their ids."""
    article_ids = set(comments.order_by().values_list("article_id", flat=True).distinct())
    for article_id in sorted(article_ids):
        lock_article(article_id)
    return article_ids


def _selected(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """The same comments, free of the caller's annotations, filters on joins and ordering."""
    return Comment.objects.filter(pk__in=comments.order_by().values("pk"))


def _pages_changed(comments: list[Comment]) -> None:
    for article_id in {comment.article_id for comment in comments}:
        discussion_changed_send(article_id)


REMOVING = REJECTED
PICK_NOTE_MAX_LENGTH = Comment._meta.get_field("featured_note").max_length


def _reason_checked(status: str, reason: str) -> str:
    """The decision's reason: one of Decision.Reason for a removal or spam, none otherwise."""
    if status not in REMOVING:
        return ""
    if reason not in Decision.Reason.values:
        raise ValueError(f"A removal needs a reason from Decision.Reason, not {reason!r}.")
    return reason


def _decisions_record(
    changed: list[Comment],
    *,
    status: str,
    reason: str,
    note: str,
    moderator: AbstractBaseUser | None,
    when: datetime,
) -> None:
    Decision.objects.bulk_create(
        Decision(
            comment_id=comment.pk,
            status=status,
            reason=reason,
            note=note,
            moderator=moderator,
            created=when,
        )
        for comment in changed
    )


def _comments_decide(
    *,
    comments: QuerySet[Comment],
    status: str,
    moderator: AbstractBaseUser | None,
    reason: str = "",
    note: str = "",
) -> list[Comment]:
    """Give `comments` a moderator's `status` and resolve their open reports.

    A comment changes when its status differs or readers' reports on it are open; the changed
    comments are returned, as they were before the change. Each gets a Decision with `reason`
    (required for a removal or spam) and `note`.
    """
    reason = _reason_checked(status, reason)
    selection = _selected(comments)
    _articles_lock(selection)
    open_reports = Report.objects.filter(comment=OuterRef("pk"), resolved=False)
    changing = selection.filter(~Q(status=status) | Exists(open_reports))
    changed = list(changing.order_by("pk"))
    if changed:
        now = timezone.now()
        changing.update(
            status=status, moderated_at=now, moderated_by=moderator, removal_reason=reason
        )
        Report.objects.filter(comment__in=selection, resolved=False).update(resolved=True)
        _decisions_record(
            changed, status=status, reason=reason, note=note, moderator=moderator, when=now
        )
        decision_notify(comments=changed, status=status)
        _pages_changed(changed)
        if status in REJECTED:
            commenters_premoderate_by_rule(commenter_ids={c.commenter_id for c in changed})
        elif status == Comment.Status.PUBLISHED:
            replies_notify(comments=changed)
    return changed


@transaction.atomic
def comments_approve(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None, note: str = ""
) -> list[Comment]:
    """Publish `comments` and dismiss the reports on them; returns the changed comments."""
    return _comments_decide(
        comments=comments, status=Comment.Status.PUBLISHED, moderator=moderator, note=note
    )


@transaction.atomic
def comments_remove(
    *,
    comments: QuerySet[Comment],
    moderator: AbstractBaseUser | None,
    reason: str = Decision.Reason.OTHER,
    note: str = "",
) -> list[Comment]:
    """Remove `comments` from the page, for `reason`; their replies stay. Returns the changed
    comments."""
    return _comments_decide(
        comments=comments,
        status=Comment.Status.REMOVED,
        moderator=moderator,
        reason=reason,
        note=note,
    )


@transaction.atomic
def comments_mark_spam(
    *,
    comments: QuerySet[Comment],
    moderator: AbstractBaseUser | None,
    reason: str = Decision.Reason.SPAM,
    note: str = "",
) -> list[Comment]:
    """Mark `comments` as spam (hidden, like removed); returns the changed comments."""
    return _comments_decide(
        comments=comments, status=Comment.Status.SPAM, moderator=moderator, reason=reason, note=note
    )


@transaction.atomic
def threads_remove(
    *,
    comments: QuerySet[Comment],
    moderator: AbstractBaseUser | None,
    reason: str = Decision.Reason.OTHER,
    note: str = "",
) -> list[Comment]:
    """Remove each of `comments` with all its replies, in one UPDATE over their tree ranges.

    Comments already removed or marked as spam keep their status. The reports on every comment
    of the threads are resolved. Returns the comments whose status changed, each with a
    Decision for `reason`.
    """
    reason = _reason_checked(Comment.Status.REMOVED, reason)
    roots = _selected(comments)
    article_ids = _articles_lock(roots)
    # The statements below read the tree ranges themselves, inside the locks: the caller's
    # copies may predate a reply that shifted lft/rght.
    inside = roots.filter(
        tree_id=OuterRef("tree_id"), lft__lte=OuterRef("lft"), rght__gte=OuterRef("lft")
    )
    threads = Comment.objects.filter(
        article_id__in=article_ids, tree_id__in=roots.values("tree_id")
    ).filter(Exists(inside))
    changing = threads.exclude(status__in=REMOVING)
    changed = list(changing.order_by("pk"))
    if changed:
        now = timezone.now()
        changing.update(
            status=Comment.Status.REMOVED,
            moderated_at=now,
            moderated_by=moderator,
            removal_reason=reason,
        )
        _decisions_record(
            changed,
            status=Comment.Status.REMOVED,
            reason=reason,
            note=note,
            moderator=moderator,
            when=now,
        )
        _pages_changed(changed)
        commenters_premoderate_by_rule(commenter_ids={c.commenter_id for c in changed})
    Report.objects.filter(comment__in=threads, resolved=False).update(resolved=True)
    decision_notify(comments=changed, status=Comment.Status.REMOVED)
    return changed


class BlockTarget(TextChoices):
    """What a block holds on to: the authors' email addresses, IP addresses, names or
    accounts."""

    EMAIL = "email", "Email address"
    IP = "ip", "IP address"
    NAME = "name", "Name"
    ACCOUNT = "account", "Account"


@dataclass(frozen=True)
class Blocking:
    """What `commenters_block` did: the blocks it added or lengthened, the accounts it
    suspended or banned, and the comments it removed."""

    blocks: list[BlockedCommenter]
    commenters: list[Commenter]
    removed: list[Comment]
    # When the blocks and suspensions end; None for good.
    expires: datetime | None = None


def _blocks_write(
    wanted: set[tuple[str, str]],
    *,
    expires: datetime | None,
    note: str,
    moderator: AbstractBaseUser | None,
) -> list[BlockedCommenter]:
    """Add the `wanted` (kind, value) blocks until `expires` (None: for good); a block already
    there is lengthened to that, never shortened. Returns the blocks added or changed."""
    kind_values: dict[str, list[str]] = {}
    for kind, value in wanted:
        kind_values.setdefault(kind, []).append(value)
    known = Q(pk__in=[])
    for kind, values in kind_values.items():
        known |= Q(kind=kind, value__in=values)
    existing = {
        (block.kind, block.value): block
        for block in BlockedCommenter.objects.select_for_update().filter(known).order_by("pk")
    }
    touched = []
    for block in existing.values():
        if block.expires is not None and (expires is None or expires > block.expires):
            block.expires = expires
            block.save(update_fields=["expires"])
            touched.append(block)
    BlockedCommenter.objects.bulk_create(
        [
            BlockedCommenter(
                kind=kind, value=value, reason=note, created_by=moderator, expires=expires
            )
            for kind, value in sorted(wanted - set(existing))
        ],
        ignore_conflicts=True,
    )
    added = BlockedCommenter.objects.filter(known).exclude(
        pk__in=[block.pk for block in existing.values()]
    )
    return [*touched, *added.order_by("pk")]


def _accounts_sanction(
    commenter_ids: set[int], *, until: datetime | None, note: str
) -> list[Commenter]:
    """Suspend the commenters until `until`, or ban them when it is None; a ban is never made
    a suspension, nor a suspension shortened. Returns the commenters changed."""
    changed = []
    rows = Commenter.objects.select_for_update().filter(pk__in=commenter_ids).order_by("pk")
    status = Commenter.Status
    for commenter in rows:
        if commenter.status == status.BANNED:
            continue
        if until is not None and commenter.status == status.SUSPENDED and (
            commenter.status_until is None or commenter.status_until >= until
        ):
            continue
        commenter.status = status.BANNED if until is None else status.SUSPENDED
        commenter.status_until = until
        commenter.status_reason = note[: Commenter._meta.get_field("status_reason").max_length]
        commenter.save(update_fields=["status", "status_until", "status_reason"])
        changed.append(commenter)
    return changed


@transaction.atomic
def commenters_block(
    *,
    comments: QuerySet[Comment],
    moderator: AbstractBaseUser | None,
    targets: Collection[str] = (BlockTarget.EMAIL, BlockTarget.IP),
    duration: timedelta | None = None,
    remove_published: bool = False,
    reason: str = Decision.Reason.OTHER,
    note: str = "",
) -> Blocking:
    """Block the authors of `comments` by the chosen `targets`, for `duration` (None: for good).

    Emails, IP addresses and names become BlockedCommenter rows that end by themselves at
    `expires`; an account is suspended until then, or banned. The authors' comments still
    waiting for review are removed, for `reason` (nobody needs to review them any more), and
    their published ones too with `remove_published`.
    """
    targets = set(targets)
    unknown = targets - set(BlockTarget.values)
    if unknown or not targets:
        raise ValueError(f"Block targets must be some of {BlockTarget.values}, not {targets}.")
    reason = _reason_checked(Comment.Status.REMOVED, reason)
    expires = timezone.now() + duration if duration is not None else None
    kind = BlockedCommenter.Kind
    authors = list(
        _selected(comments)
        .order_by()
        .values_list("author_email", "ip_address", "author_name", "commenter_id")
        .distinct()
    )
    emails = {email.strip() for email, _, _, _ in authors if email.strip()}
    ips = {ip for _, ip, _, _ in authors if ip}
    names = {name.strip() for _, _, name, _ in authors if name.strip()}
    accounts = {commenter for _, _, _, commenter in authors if commenter is not None}

    wanted: set[tuple[str, str]] = set()
    same_author = Q(pk__in=[])
    if BlockTarget.EMAIL in targets:
        wanted |= {(kind.EMAIL, BlockedCommenter.normalize(kind.EMAIL, e)) for e in emails}
        same_author |= Q(email__in={email.lower() for email in emails})
    if BlockTarget.IP in targets:
        wanted |= {(kind.IP, BlockedCommenter.normalize(kind.IP, ip)) for ip in ips}
        same_author |= Q(ip_address__in=ips)
    if BlockTarget.NAME in targets:
        wanted |= {(kind.NAME, BlockedCommenter.normalize(kind.NAME, n)) for n in names}
        same_author |= Q(name__in={name.lower() for name in names})
    blocks = _blocks_write(wanted, expires=expires, note=note, moderator=moderator)
    commenters = []
    if BlockTarget.ACCOUNT in targets:
        commenters = _accounts_sanction(
            accounts, until=expires, note=note or "Blocked by a moderator."
        )
        same_author |= Q(commenter_id__in=accounts)

    statuses = [Comment.Status.PENDING]
    if remove_published:
        statuses.append(Comment.Status.PUBLISHED)
    theirs = (
        Comment.objects.filter(status__in=statuses)
        .alias(email=Lower("author_email"), name=Lower("author_name"))
        .filter(same_author)
    )
    removed = _comments_decide(
        comments=theirs,
        status=Comment.Status.REMOVED,
        moderator=moderator,
        reason=reason,
        note=note,
    )
    return Blocking(blocks=blocks, commenters=commenters, removed=removed, expires=expires)


@transaction.atomic
def comment_update(
    *,
    comment: Comment,
    changed: Collection[str],
    moderator: AbstractBaseUser | None,
    note: str = "",
) -> None:
    """Save a moderator's edit of the `changed` fields; a new status is a moderation decision,
    recorded with the comment's `removal_reason` (required for a removal or spam) and `note`."""
    lock_article(comment.article_id)
    fields = set(changed)
    if "status" in fields or "removal_reason" in fields:
        comment.removal_reason = _reason_checked(comment.status, comment.removal_reason)
        comment.moderated_at = timezone.now()
        comment.moderated_by = moderator
        fields |= {"status", "removal_reason", "moderated_at", "moderated_by"}
        Report.objects.filter(comment=comment, resolved=False).update(resolved=True)
        Decision.objects.create(
            comment=comment,
            status=comment.status,
            reason=comment.removal_reason,
            note=note,
            moderator=moderator,
            created=comment.moderated_at,
        )
        decision_notify(comments=Comment.objects.filter(pk=comment.pk), status=comment.status)
    if "featured" in fields or "featured_note" in fields:
        fields |= _pick_fields(comment)
    if fields:
        # Only the edited columns: the in-memory lft/rght may be older than the lock.
        comment.save(update_fields=fields)
        discussion_changed_send(comment.article_id)
        if "status" in fields and comment.status == Comment.Status.PUBLISHED:
            replies_notify(comments=[comment])
    if "status" in fields and comment.status in REJECTED:
        commenters_premoderate_by_rule(commenter_ids={comment.commenter_id})


def _pick_fields(comment: Comment) -> set[str]:
    """Keep a pick's time and note consistent with `featured` after an edit on its page."""
    if not comment.featured:
        comment.featured_at, comment.featured_note = None, ""
    elif comment.featured_at is None:
        comment.featured_at = timezone.now()
    return {"featured", "featured_at", "featured_note"}


def _picks_log(changed: list[Comment], moderator: AbstractBaseUser | None, message: str) -> None:
    if changed and moderator is not None:
        LogEntry.objects.log_actions(
            user_id=moderator.pk, queryset=changed, action_flag=CHANGE, change_message=message
        )


@transaction.atomic
def comments_feature(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None, note: str = ""
) -> list[Comment]:
    """Make the published ones of `comments` editors' picks, with the public `note`.

    A comment already featured keeps its time and takes the new note. Each changed comment
    gets an admin-log entry by `moderator`, and its article's pages change. Returns the
    changed comments, as they were before the change.
    """
    note = " ".join(note.split())
    if len(note) > PICK_NOTE_MAX_LENGTH:
        raise ValueError(f"A pick's note has at most {PICK_NOTE_MAX_LENGTH} characters.")
    selection = _selected(comments)
    _articles_lock(selection)
    changing = selection.filter(status=Comment.Status.PUBLISHED).filter(
        Q(featured=False) | ~Q(featured_note=note)
    )
    changed = list(changing.order_by("pk"))
    if changed:
        picks = Comment.objects.filter(pk__in=[comment.pk for comment in changed])
        picks.filter(featured=False).update(featured=True, featured_at=timezone.now())
        picks.update(featured_note=note)
        message = "Featured as an editors’ pick"
        _picks_log(changed, moderator, f"{message}: {note}." if note else f"{message}.")
        _pages_changed(changed)
    return changed


@transaction.atomic
def comments_unfeature(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Take `comments` out of the editors' picks; returns the changed comments."""
    selection = _selected(comments)
    _articles_lock(selection)
    changing = selection.filter(featured=True)
    changed = list(changing.order_by("pk"))
    if changed:
        changing.update(featured=False, featured_at=None, featured_note="")
        _picks_log(changed, moderator, "No longer an editors’ pick.")
        _pages_changed(changed)
    return changed


@transaction.atomic
def comments_delete(*, comments: QuerySet[Comment]) -> int:
    """Delete `comments` and their replies for good; returns how many were selected."""
    selection = _selected(comments)
    article_ids = _articles_lock(selection)
    doomed = list(selection)
    kept_threads = _thread_recommends_lost(doomed)
    # Each delete closes its gap in the tree; delaying the updates rebuilds each touched tree
    # once, which stays correct when a selected comment is inside another selected thread.
    with Comment.objects.delay_mptt_updates():
        for comment in doomed:
            comment.delete()
    for tree_id, lost in kept_threads.items():
        Comment.objects.filter(tree_id=tree_id, parent=None).update(
            thread_recommend_count=Greatest(F("thread_recommend_count") - lost, 0)
        )
    for article_id in article_ids:
        discussion_changed_send(article_id)
    return len(doomed)


def _thread_recommends_lost(doomed: list[Comment]) -> dict[int, int]:
    """The recommendations that deleting `doomed` (with their replies) takes from each thread
    whose top-level comment stays: {tree_id: count}."""
    subtrees = Q(pk__in=[])
    for comment in doomed:
        subtrees |= Q(tree_id=comment.tree_id, lft__gte=comment.lft, rght__lte=comment.rght)
    kept_roots = {comment.tree_id for comment in doomed if comment.parent_id is None}
    return dict(
        Comment.objects.filter(subtrees, recommend_count__gt=0)
        .exclude(tree_id__in=kept_roots)
        .order_by()
        .values("tree_id")
        .annotate(lost=Sum("recommend_count"))
        .values_list("tree_id", "lost")
    )


def _recommendations_withdraw(recommendations: QuerySet[Recommendation]) -> None:
    """Take `recommendations` out of their comments' and threads' counts, before the rows go
    with the readers who made them: four queries, however many there are.

    Rows are locked as recommending locks them, a reply before its thread's top-level comment:
    the recommended replies in id order, then the threads' top-level comments in id order. A
    top-level comment's own count changes with its thread's, so no top-level row is held while
    waiting for a reply that a reader recommending it could hold while waiting for that row.
    """
    withdrawn = recommendations.order_by()
    replies = Comment.objects.filter(pk__in=withdrawn.values("comment_id"), parent__isnull=False)
    roots = Comment.objects.filter(tree_id__in=withdrawn.values("comment__tree_id"), parent=None)
    for rows in (replies, roots):
        list(rows.select_for_update().order_by("pk").values_list("pk", flat=True))
    from_comment = withdrawn.filter(comment=OuterRef("pk")).values("comment_id")
    from_thread = withdrawn.filter(comment__tree_id=OuterRef("tree_id")).values(
        "comment__tree_id"
    )
    replies.update(recommend_count=_less("recommend_count", from_comment))
    roots.update(
        recommend_count=_less("recommend_count", from_comment),
        thread_recommend_count=_less("thread_recommend_count", from_thread),
    )


def _less(field: str, taken: QuerySet) -> Greatest:
    """`field` less the number of `taken` rows, never below 0. `taken` is filtered on an
    OuterRef and grouped (values()) by the column it matches, so that it counts in one row."""
    return Greatest(F(field) - Coalesce(Subquery(taken.annotate(n=Count("pk")).values("n")), 0), 0)


@dataclass(frozen=True)
class PostResult:
    """What `comment_post` did: stored `comment`, or refused it with a `refused` message.

    `refused_field` names the form field the message belongs to ("parent"), or is None when the
    message is about the whole comment.
    """

    comment: Comment | None = None
    refused: str = ""
    refused_field: str | None = None
    reasons: tuple[Reason, ...] = ()
    # The commenter may not post at all now (suspended or banned), whatever the comment.
    forbidden: bool = False

    @property
    def pending(self) -> bool:
        return self.comment is not None and self.comment.status == Comment.Status.PENDING


def _reply_target(parent: Comment) -> Comment:
    """The comment a reply to `parent` hangs under: `parent`, or, when the reply would go
    deeper than COMMENTS_MAX_DEPTH, `parent`'s ancestor at the deepest level that allows it."""
    deepest_parent_level = max(settings.COMMENTS_MAX_DEPTH, 1) - 1
    if parent.level <= deepest_parent_level:
        return parent
    return Comment.objects.get(
        tree_id=parent.tree_id,
        lft__lt=parent.lft,
        rght__gt=parent.rght,
        level=deepest_parent_level,
    )


@lock_waits_bounded()
@transaction.atomic
def comment_post(
    *,
    article: Model,
    parent_id: int | None,
    author_name: str,
    author_email: str,
    body: str,
    ip_address: str | None,
    user_agent: str,
    commenter: Commenter | None = None,
    staff: bool = False,
) -> PostResult:
    """Post a reader's comment on `article`, as a reply to `parent_id` or a new thread.

    The policy rules run first and may refuse the comment (nothing is stored) or hold it; a
    `staff` member's comment skips them. The tree write runs under the article's lock
    (comments/locks.py), and the parent is read again after it: until then a moderator may
    have hidden it, or another reply shifted its lft/rght. Raises LockTimeout, having stored
    nothing, when the lock is not granted in time.
    """
    verdict = Verdict() if staff else comment_screen(
        article=article,
        author_name=author_name,
        author_email=author_email,
        ip_address=ip_address,
        body=body,
        commenter=commenter,
    )
    if verdict.refused:
        return PostResult(
            refused=verdict.refused, reasons=tuple(verdict.reasons), forbidden=verdict.forbidden
        )

    parent = None
    thread_position = 0
    lock_article(article.pk)
    if parent_id is None:
        last = Comment.objects.for_article(article).filter(parent=None).aggregate(
            last=Max("thread_position")
        )["last"]
        thread_position = (last or 0) + 1
    else:
        parent = Comment.objects.for_article(article).visible().filter(pk=parent_id).first()
        if parent is None:
            return PostResult(refused=PARENT_GONE, refused_field="parent")
        parent = _reply_target(parent)

    earlier = Comment.objects.for_article(article).filter(author_name__iexact=author_name)
    comment = Comment(
        article=article,
        parent=parent,
        author_name=author_name,
        author_email=author_email,
        commenter=commenter,
        body=body,
        status=verdict.status,
        created=timezone.now(),
        thread_position=thread_position,
        ip_address=ip_address,
        user_agent=user_agent[: Comment._meta.get_field("user_agent").max_length],
        is_duplicate=is_duplicate(body, list(earlier.values_list("body", flat=True))),
    )
    comment.save()
    if verdict.reasons:
        HoldReason.objects.bulk_create(
            HoldReason(comment=comment, code=reason.code, detail=reason.detail[:200])
            for reason in verdict.reasons
        )
    if comment.status == Comment.Status.PENDING:
        moderation_alert_check()
    if comment.status == Comment.Status.PUBLISHED:
        discussion_changed_send(article.pk)
        replies_notify(comments=[comment])
    return PostResult(comment=comment, reasons=tuple(verdict.reasons))


@dataclass(frozen=True)
class GuestSubmitResult:
    """What `guest_comment_submit` did: kept `unconfirmed` and mailed its link, or refused it
    at once with a `refused` message (nothing stored, no mail)."""

    unconfirmed: UnconfirmedComment | None = None
    refused: str = ""


@lock_waits_bounded()
@transaction.atomic
def guest_comment_submit(
    *,
    article: Model,
    parent_id: int | None,
    author_name: str,
    author_email: str,
    body: str,
    ip_address: str | None,
    user_agent: str,
) -> GuestSubmitResult:
    """Keep a guest's comment unconfirmed and mail them the link that posts it
    (COMMENTS_GUESTS=verify).

    The rules that refuse (a blocked commenter, a refused phrase) run now, so that the guest
    learns it before going to their mail and no mail goes to a blocked address; all the rules
    run again when the link is followed. The mail is queued when the transaction commits.
    """
    verdict = comment_screen(
        article=article,
        author_name=author_name,
        author_email=author_email,
        ip_address=ip_address,
        body=body,
    )
    if verdict.refused:
        return GuestSubmitResult(refused=verdict.refused)
    unconfirmed = UnconfirmedComment.objects.create(
        article=article,
        parent_id=parent_id,
        author_name=author_name,
        author_email=author_email.strip(),
        body=body,
        ip_address=ip_address,
        user_agent=user_agent[: UnconfirmedComment._meta.get_field("user_agent").max_length],
        created=timezone.now(),
        nonce=secrets.token_hex(16),
    )
    _confirm_mail_queue(unconfirmed)
    return GuestSubmitResult(unconfirmed=unconfirmed)


def _confirm_mail_queue(unconfirmed: UnconfirmedComment) -> None:
    path = reverse(
        "comments:confirm", kwargs={"token": link_token(pk=unconfirmed.pk, nonce=unconfirmed.nonce)}
    )
    context = {
        "comment": unconfirmed,
        "article": unconfirmed.article,
        "article_url": absolute_url(unconfirmed.article.get_absolute_url()),
        "link": absolute_url(path),
        "hours": LINK_HOURS,
    }
    mail_queue(
        to=unconfirmed.author_email,
        subject=f"Confirm your comment on “{unconfirmed.article.title}”",
        text=render_to_string("comments/mail/guest_confirm.txt", context),
        html=render_to_string("comments/mail/guest_confirm.html", context),
    )


@dataclass(frozen=True)
class ConfirmResult:
    """What following a confirmation link did.

    `posted` is `comment_post`'s result (published, held, or refused with its message) and
    `unconfirmed` the submission it came from (its text, to show again when refused).
    `commenter` is the confirmed address's record. `used` says no submission matched the link:
    it was followed before. `closed` says the discussion closed (or the article was withdrawn)
    since: nothing changed.
    """

    posted: PostResult | None = None
    unconfirmed: UnconfirmedComment | None = None
    commenter: Commenter | None = None
    used: bool = False
    closed: bool = False


@lock_waits_bounded()
@transaction.atomic
def guest_comment_confirm(*, pk: int, nonce: str) -> ConfirmResult:
    """Post the unconfirmed comment a link names, as if it were posted now, and delete it.

    The row is locked first (select_for_update; on SQLite the transaction holds the database's
    write lock), so two clicks at once post it once: the second finds nothing and is told the
    link was used. The post and the deletion commit together, so a failure (LockTimeout
    included) leaves the row to be confirmed again, and nothing is lost or posted twice.
    A reply whose parent has gone, a name reserved since, or a rule that now refuses it
    deletes the row and returns the refusal with the text, for the guest to post again.
    """
    unconfirmed = (
        UnconfirmedComment.objects.select_for_update()
        .select_related("article")
        .filter(pk=pk, nonce=nonce)
        .first()
    )
    if unconfirmed is None:
        return ConfirmResult(used=True)
    article = unconfirmed.article
    published = commented_model().objects.published().filter(pk=article.pk).exists()
    if not (published and article.discussion_open()):
        return ConfirmResult(unconfirmed=unconfirmed, closed=True)
    # The link proved the address is the guest's, whatever happens to this comment.
    commenter = commenter_for_email(
        email=unconfirmed.author_email, display_name=unconfirmed.author_name
    )
    if is_reserved(unconfirmed.author_name):
        posted = PostResult(refused=RESERVED_MESSAGE, refused_field="name")
    else:
        posted = comment_post(
            article=article,
            parent_id=unconfirmed.parent_id,
            author_name=unconfirmed.author_name,
            author_email=unconfirmed.author_email,
            body=unconfirmed.body,
            ip_address=unconfirmed.ip_address,
            user_agent=unconfirmed.user_agent,
            commenter=commenter,
        )
    unconfirmed.delete()
    return ConfirmResult(posted=posted, unconfirmed=unconfirmed, commenter=commenter)


@transaction.atomic
def unconfirmed_comments_purge(*, dry_run: bool = False) -> int:
    """Delete the unconfirmed comments older than UNCONFIRMED_DAYS (their links expired long
    before); returns how many there are (deleted, or to delete with `dry_run`)."""
    cutoff = timezone.now() - timedelta(days=UNCONFIRMED_DAYS)
    old = UnconfirmedComment.objects.filter(created__lt=cutoff)
    if dry_run:
        return old.count()
    deleted, _ = old.delete()
    return deleted


@dataclass(frozen=True)
class ReportResult:
    """What `report_create` did: the new report, or None when this reporter had reported it."""

    report: Report | None

    @property
    def already_reported(self) -> bool:
        return self.report is None


@transaction.atomic
def report_create(
    *,
    comment: Comment,
    reason: str,
    detail: str,
    ip_address: str | None,
    account: AbstractBaseUser | None = None,
    email: str = "",
) -> ReportResult:
    """Record a reader's report of `comment`, once per reporter (`reporter_key`).

    Reports never hide a comment: as the Guardian puts it, "we never remove a comment just
    because it's been reported". At COMMENTS_REPORT_THRESHOLD distinct reporters it stays
    published and goes to the front of the queue; a moderator decides. The article lock orders
    this against moderators deciding the same comment. `email`, when given, is thanked once
    the report is decided (comments/decision_mail.py).
    """
    lock_article(comment.article_id)
    try:
        with transaction.atomic():
            report = Report.objects.create(
                comment=comment,
                reason=reason,
                detail=detail,
                reporter=reporter_key(ip_address=ip_address),
                ip_address=ip_address,
                account=account,
                email=email.strip(),
            )
    except IntegrityError:
        return ReportResult(report=None)
    moderation_alert_check()
    return ReportResult(report=report)


def _handle_candidates(display_name: str):
    """Handles for a display name, the plain slug first, then numbered ones."""
    base = slugify(display_name)[:90].strip("-") or "reader"
    yield base
    n = 2
    while True:
        yield f"{base}-{n}"
        n += 1


@transaction.atomic
def commenter_create(*, user: AbstractBaseUser, display_name: str) -> Commenter:
    """The commenter record of a new account, with a handle made from its display name.

    The handle is the first candidate no commenter holds; a concurrent sign-up that takes the
    same one makes the insert fail, and the next candidate is tried.
    """
    for handle in _handle_candidates(display_name):
        if Commenter.objects.filter(handle=handle).exists():
            continue
        try:
            with transaction.atomic():
                return Commenter.objects.create(
                    user=user, display_name=display_name, handle=handle
                )
        except IntegrityError:
            if Commenter.objects.filter(user=user).exists():
                raise


def commenter_for_email(*, email: str, display_name: str) -> Commenter:
    """The record of a guest's confirmed address, made on its first confirmation.

    It has no public profile: a guest picks a name with each comment. Two confirmations of
    one address at once make one record (the address is unique; the loser reads the winner's).
    """
    email = email_normalized(email)
    existing = Commenter.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    name = display_name[: Commenter._meta.get_field("display_name").max_length]
    for handle in _handle_candidates(name):
        if Commenter.objects.filter(handle=handle).exists():
            continue
        try:
            with transaction.atomic():
                return Commenter.objects.create(
                    email=email, display_name=name, handle=handle, profile_public=False
                )
        except IntegrityError:
            existing = Commenter.objects.filter(email__iexact=email).first()
            if existing is not None:
                return existing


def commenter_for_user(*, user: AbstractBaseUser) -> Commenter:
    """The account's commenter record, made on first use for an account made without one (a
    staff member created with createsuperuser or in the admin)."""
    try:
        return user.commenter
    except Commenter.DoesNotExist:
        name = user.get_full_name().strip() or user.get_username()
        return commenter_create(user=user, display_name=name[:80])


@transaction.atomic
def commenter_update(*, commenter: Commenter, display_name: str, profile_public: bool) -> None:
    """Save a reader's own settings. The handle stays, so links to the profile keep working."""
    commenter.display_name = display_name
    commenter.profile_public = profile_public
    commenter.save(update_fields=["display_name", "profile_public"])
    commenter_comments_refresh(commenter=commenter)


@transaction.atomic
def commenter_comments_refresh(*, commenter: Commenter) -> None:
    """Show a commenter's changed name, profile or badge on their comments.

    The discussion reads the name from each comment, so the comments are renamed; the pages
    that show them are built again.
    """
    comments = Comment.objects.filter(commenter=commenter)
    comments.exclude(author_name=commenter.display_name).update(
        author_name=commenter.display_name
    )
    for article_id in sorted(set(comments.values_list("article_id", flat=True).distinct())):
        discussion_changed_send(article_id)


@transaction.atomic
def commenters_premoderate_by_rule(*, commenter_ids: Collection[int | None]) -> list[int]:
    """Put under pre-moderation each of `commenter_ids` whom the policy's automatic rule
    catches (comments/sanctions.py), recording why; returns their ids. Called after moderators
    reject comments; a commenter already suspended, banned or pre-moderated is left as they
    are."""
    caught = []
    for match in premoderation_rule_matches(set(commenter_ids)):
        updated = (
            Commenter.objects.with_current_status()
            .filter(pk=match.commenter_id, status_now=Commenter.Status.ACTIVE)
            .update(
                status=Commenter.Status.PREMODERATED,
                status_until=match.until,
                status_reason=match.reason,
            )
        )
        if updated:
            caught.append(match.commenter_id)
    return caught


# How long a moderator may take back a decision they made.
UNDO_SECONDS = 30


class UndoRefused(Exception):
    """The decision cannot be taken back; the message says why, for the moderator."""


@dataclass(frozen=True)
class EditResult:
    """What `comment_edit` did: saved the new text (the comment `held` for review when the
    rules now hold it), or refused it with a `refused` message and changed nothing."""

    comment: Comment | None = None
    refused: str = ""
    held: bool = False
    reasons: tuple[Reason, ...] = ()


@lock_waits_bounded()
@transaction.atomic
def decision_undo(
    *,
    decision_id: int,
    moderator: AbstractBaseUser,
    previous_status: str,
    previous_reason: str = "",
) -> Comment:
    """Take back `moderator`'s latest decision on a comment within UNDO_SECONDS: the comment gets
    `previous_status` again (with `previous_reason` for a removal or spam), the readers' reports
    that decision resolved are open again, and the undo is a Decision of its own.

    Raises UndoRefused when the decision is not the comment's latest, is another moderator's, or
    is older than UNDO_SECONDS.
    """
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None or decision.moderator_id != moderator.pk:
        raise UndoRefused("There is no decision of yours to undo.")
    if previous_status not in Comment.Status.values:
        raise ValueError(f"Unknown comment status {previous_status!r}.")
    comment = Comment.objects.only("article_id").get(pk=decision.comment_id)
    lock_article(comment.article_id)
    history = list(
        Decision.objects.filter(comment_id=comment.pk).order_by("-created", "-pk")[:2]
    )
    if history[0].pk != decision.pk:
        raise UndoRefused("Another decision on this comment came since; it was not undone.")
    now = timezone.now()
    if now - decision.created > timedelta(seconds=UNDO_SECONDS):
        raise UndoRefused(f"Too late: a decision can be undone within {UNDO_SECONDS} seconds.")
    reason = (
        _reason_checked(previous_status, previous_reason or Decision.Reason.OTHER)
        if previous_status in REMOVING
        else ""
    )
    # The reports this decision resolved: those filed since the decision before it.
    resolved = Report.objects.filter(
        comment_id=comment.pk, resolved=True, created__lte=decision.created
    )
    if len(history) > 1:
        resolved = resolved.filter(created__gt=history[1].created)
    resolved.update(resolved=False)
    Comment.objects.filter(pk=comment.pk).update(
        status=previous_status, removal_reason=reason, moderated_at=now, moderated_by=moderator
    )
    Decision.objects.create(
        comment_id=comment.pk,
        status=previous_status,
        reason=reason,
        note=f"Undid the decision of {timezone.localtime(decision.created):%H:%M:%S}.",
        moderator=moderator,
        created=now,
    )
    discussion_changed_send(comment.article_id)
    return Comment.objects.get(pk=comment.pk)


@lock_waits_bounded()
@transaction.atomic
def comment_edit(
    *,
    comment_id: int,
    body: str,
    editor: AbstractBaseUser | None,
    ip_address: str | None,
    staff: bool = False,
) -> EditResult:
    """Replace a comment's text by its author's `body`, keeping the text it replaces as a
    CommentRevision.

    The policy rules run again on the new text: a refusal changes nothing, a hold makes the
    comment pending with the new hold reasons (a comment already pending stays so). The
    article's lock orders this against another edit of the same comment, and the comment is
    read again under it, so the revision kept is the text the edit really replaces: when two
    edits race, the later one keeps the earlier one's text. The caller has checked that the
    editor owns the comment and that the edit window is open.
    """
    article_id = Comment.objects.values_list("article_id", flat=True).get(pk=comment_id)
    lock_article(article_id)
    comment = Comment.objects.select_related("article", "commenter").get(pk=comment_id)
    verdict = Verdict() if staff else comment_screen(
        article=comment.article,
        author_name=comment.author_name,
        author_email=comment.author_email,
        ip_address=ip_address,
        body=body,
        commenter=comment.commenter,
    )
    if verdict.refused:
        return EditResult(refused=verdict.refused, reasons=tuple(verdict.reasons))
    if body == comment.body:
        return EditResult(comment=comment, held=comment.status == Comment.Status.PENDING)
    now = timezone.now()
    CommentRevision.objects.create(comment=comment, body=comment.body, edited=now, editor=editor)
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.body = body
    comment.edited = now
    fields = ["body", "edited"]
    if verdict.status == Comment.Status.PENDING:
        comment.status = Comment.Status.PENDING
        fields.append("status")
        HoldReason.objects.filter(comment=comment).delete()
        HoldReason.objects.bulk_create(
            HoldReason(comment=comment, code=reason.code, detail=reason.detail[:200])
            for reason in verdict.reasons
        )
    # Only the edited columns: the in-memory lft/rght may be older than the lock.
    comment.save(update_fields=fields)
    if was_published:
        discussion_changed_send(article_id)
    return EditResult(
        comment=comment,
        held=comment.status == Comment.Status.PENDING,
        reasons=tuple(verdict.reasons),
    )


@lock_waits_bounded()
@transaction.atomic
def comment_delete_by_author(*, comment_id: int) -> Comment:
    """Take a comment off the page at its author's wish: it becomes "[deleted by its author]"
    where replies hang under it, and leaves the feeds and the API. The row stays for the
    moderators; the readers' open reports on it are resolved (nothing is left to decide). The
    caller has checked that the reader owns it."""
    article_id = Comment.objects.values_list("article_id", flat=True).get(pk=comment_id)
    lock_article(article_id)
    comment = Comment.objects.get(pk=comment_id)
    if comment.status == Comment.Status.DELETED:
        return comment
    was_published = comment.status == Comment.Status.PUBLISHED
    comment.status = Comment.Status.DELETED
    comment.save(update_fields=["status"])
    Report.objects.filter(comment=comment, resolved=False).update(resolved=True)
    if was_published:
        discussion_changed_send(article_id)
    return comment


@lock_waits_bounded()
@transaction.atomic
def commenter_erase(
    *,
    commenter: Commenter | None = None,
    email: str = "",
    user: AbstractBaseUser | None = None,
    mail_to: str = "",
) -> int:
    """Erase what the site holds about a reader: the `commenter` record and the comments
    written under it, the guest comments written with `email` (an address the reader proved
    is theirs: by a link mailed to it, or as an account's verified address), and the `user`
    account.

    Their comments become "[deleted by its author]" (a removed or spam one keeps that status)
    in their places in the trees, with their text, earlier texts, name, address, IP address
    and user agent cleared; unconfirmed comments from the address are deleted; the reply
    subscriptions and waiting reply mail end with the record, which is deleted (a record
    needs an account or an address, so nothing anonymous of it could remain), and so is the
    account. A mail confirming it goes to `mail_to` (by default the proven address), queued
    once this commits. Returns how many comments were erased.
    """
    address = email_normalized(email or (commenter.email if commenter else "") or "")
    theirs = Q(pk__in=[])
    if commenter is not None:
        theirs |= Q(commenter=commenter)
    if address:
        # Guest comments under the address: with no record, or the address's own record.
        theirs |= Q(author_email__iexact=address) & (
            Q(commenter=None) | Q(commenter__user=None)
        )
    comments = Comment.objects.filter(theirs)
    _articles_lock(comments)
    erased = list(comments.order_by("pk").values_list("pk", "article_id", "status"))
    ids = [pk for pk, _, _ in erased]
    CommentRevision.objects.filter(comment_id__in=ids).delete()
    cleared = {
        "author_name": "",
        "author_email": "",
        "body": "",
        "ip_address": None,
        "user_agent": "",
        "commenter": None,
    }
    Comment.objects.filter(pk__in=ids, status__in=REMOVING).update(**cleared)
    Comment.objects.filter(pk__in=ids).exclude(status__in=REMOVING).update(
        status=Comment.Status.DELETED, **cleared
    )
    Report.objects.filter(comment_id__in=ids, resolved=False).update(resolved=True)
    if address:
        UnconfirmedComment.objects.filter(author_email__iexact=address).delete()
    departing = Q(pk__in=[])
    if commenter is not None:
        departing |= Q(commenter=commenter)
    if address:
        departing |= Q(commenter__email__iexact=address, commenter__user=None)
    _recommendations_withdraw(Recommendation.objects.filter(departing))
    if commenter is not None:
        commenter.delete()
    if address:
        Commenter.objects.filter(email__iexact=address, user=None).delete()
    if user is not None:
        user.delete()
    for article_id in sorted({article_id for _, article_id, _ in erased}):
        discussion_changed_send(article_id)
    if mail_to or address:
        _erased_mail_queue(mail_to or address, count=len(ids), account=user is not None)
    return len(ids)


def _erased_mail_queue(address: str, *, count: int, account: bool) -> None:
    context = {"count": count, "account": account, "site_url": absolute_url("/")}
    mail_queue(
        to=address,
        subject="Your data has been erased",
        text=render_to_string("comments/mail/erased.txt", context),
        html=render_to_string("comments/mail/erased.html", context),
    )
