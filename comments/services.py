"""Writes to comments. Every tree write takes the locks of comments/locks.py first."""

from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Model, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from comments.forms import PARENT_GONE
from comments.locks import lock_article
from comments.models import BlockedCommenter, Comment, Commenter, Report, reporter_key
from comments.moderation import Verdict, comment_screen, is_duplicate
from comments.notifications import replies_notify
from comments.signals import discussion_changed_send
from newsroom.locking import lock_waits_bounded


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


def _comments_decide(
    *, comments: QuerySet[Comment], status: str, moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Give `comments` a moderator's `status` and resolve their open reports.

    A comment changes when its status differs or readers' reports on it are open; the changed
    comments are returned, as they were before the change.
    """
    selection = _selected(comments)
    _articles_lock(selection)
    open_reports = Report.objects.filter(comment=OuterRef("pk"), resolved=False)
    changing = selection.filter(~Q(status=status) | Exists(open_reports))
    changed = list(changing.order_by("pk"))
    if changed:
        changing.update(status=status, moderated_at=timezone.now(), moderated_by=moderator)
        Report.objects.filter(comment__in=selection, resolved=False).update(resolved=True)
        _pages_changed(changed)
        if status == Comment.Status.PUBLISHED:
            replies_notify(comments=changed)
    return changed


@transaction.atomic
def comments_approve(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Publish `comments` and dismiss the reports on them; returns the changed comments."""
    return _comments_decide(comments=comments, status=Comment.Status.PUBLISHED, moderator=moderator)


@transaction.atomic
def comments_remove(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Remove `comments` from the page; their replies stay. Returns the changed comments."""
    return _comments_decide(comments=comments, status=Comment.Status.REMOVED, moderator=moderator)


@transaction.atomic
def comments_mark_spam(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Mark `comments` as spam (hidden, like removed); returns the changed comments."""
    return _comments_decide(comments=comments, status=Comment.Status.SPAM, moderator=moderator)


@transaction.atomic
def threads_remove(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None
) -> list[Comment]:
    """Remove each of `comments` with all its replies, in one UPDATE over their tree ranges.

    Comments already removed or marked as spam keep their status. The reports on every comment
    of the threads are resolved. Returns the comments whose status changed.
    """
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
    changing = threads.exclude(status__in=[Comment.Status.REMOVED, Comment.Status.SPAM])
    changed = list(changing.order_by("pk"))
    if changed:
        changing.update(
            status=Comment.Status.REMOVED, moderated_at=timezone.now(), moderated_by=moderator
        )
        _pages_changed(changed)
    Report.objects.filter(comment__in=threads, resolved=False).update(resolved=True)
    return changed


@dataclass(frozen=True)
class Blocking:
    """What `commenters_block` did: the blocks it added and the pending comments it removed."""

    blocks: list[BlockedCommenter]
    removed: list[Comment]


@transaction.atomic
def commenters_block(
    *, comments: QuerySet[Comment], moderator: AbstractBaseUser | None, reason: str = ""
) -> Blocking:
    """Block the email addresses and IP addresses of the authors of `comments`.

    Their comments still waiting for review are removed: nobody needs to review them any more.
    Their published comments stay as they are until a moderator decides them.
    """
    kind = BlockedCommenter.Kind
    authors = list(
        _selected(comments).order_by().values_list("author_email", "ip_address").distinct()
    )
    emails = {email.strip() for email, _ in authors if email.strip()}
    ips = {ip for _, ip in authors if ip}
    wanted = {(kind.EMAIL, BlockedCommenter.normalize(kind.EMAIL, email)) for email in emails}
    wanted |= {(kind.IP, BlockedCommenter.normalize(kind.IP, ip)) for ip in ips}
    known = Q(kind=kind.EMAIL, value__in=[v for k, v in wanted if k == kind.EMAIL]) | Q(
        kind=kind.IP, value__in=[v for k, v in wanted if k == kind.IP]
    )
    rows = BlockedCommenter.objects.filter(known).values_list("pk", "kind", "value")
    existing = {pk: (k, v) for pk, k, v in rows}
    BlockedCommenter.objects.bulk_create(
        [
            BlockedCommenter(kind=k, value=v, reason=reason, created_by=moderator)
            for k, v in sorted(wanted - set(existing.values()))
        ],
        ignore_conflicts=True,
    )
    blocks = list(BlockedCommenter.objects.filter(known).exclude(pk__in=existing))

    pending = (
        Comment.objects.filter(status=Comment.Status.PENDING)
        .alias(email=Lower("author_email"))
        .filter(Q(email__in={email.lower() for email in emails}) | Q(ip_address__in=ips))
    )
    return Blocking(
        blocks=blocks,
        removed=_comments_decide(
            comments=pending, status=Comment.Status.REMOVED, moderator=moderator
        ),
    )


@transaction.atomic
def comment_update(
    *, comment: Comment, changed: Collection[str], moderator: AbstractBaseUser | None
) -> None:
    """Save a moderator's edit of the `changed` fields; a new status is a moderation decision."""
    lock_article(comment.article_id)
    fields = set(changed)
    if "status" in fields:
        comment.moderated_at = timezone.now()
        comment.moderated_by = moderator
        fields |= {"moderated_at", "moderated_by"}
        Report.objects.filter(comment=comment, resolved=False).update(resolved=True)
    if fields:
        # Only the edited columns: the in-memory lft/rght may be older than the lock.
        comment.save(update_fields=fields)
        discussion_changed_send(comment.article_id)
        if "status" in fields and comment.status == Comment.Status.PUBLISHED:
            replies_notify(comments=[comment])


@transaction.atomic
def comments_delete(*, comments: QuerySet[Comment]) -> int:
    """Delete `comments` and their replies for good; returns how many were selected."""
    selection = _selected(comments)
    article_ids = _articles_lock(selection)
    doomed = list(selection)
    # Each delete closes its gap in the tree; delaying the updates rebuilds each touched tree
    # once, which stays correct when a selected comment is inside another selected thread.
    with Comment.objects.delay_mptt_updates():
        for comment in doomed:
            comment.delete()
    for article_id in article_ids:
        discussion_changed_send(article_id)
    return len(doomed)


@dataclass(frozen=True)
class PostResult:
    """What `comment_post` did: stored `comment`, or refused it with a `refused` message.

    `refused_field` names the form field the message belongs to ("parent"), or is None when the
    message is about the whole comment.
    """

    comment: Comment | None = None
    refused: str = ""
    refused_field: str | None = None
    reasons: tuple[str, ...] = ()

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
    )
    if verdict.refused:
        return PostResult(refused=verdict.refused, reasons=tuple(verdict.reasons))

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
    if comment.status == Comment.Status.PUBLISHED:
        discussion_changed_send(article.pk)
        replies_notify(comments=[comment])
    return PostResult(comment=comment, reasons=tuple(verdict.reasons))


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
) -> ReportResult:
    """Record a reader's report of `comment`, once per reporter (`reporter_key`).

    Reports never hide a comment: as the Guardian puts it, "we never remove a comment just
    because it's been reported". At COMMENTS_REPORT_THRESHOLD distinct reporters it stays
    published and goes to the front of the queue; a moderator decides. The article lock orders
    this against moderators deciding the same comment.
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
            )
    except IntegrityError:
        return ReportResult(report=None)
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
