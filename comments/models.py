import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import connections, models
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet


class CommentQuerySet(TreeQuerySet):
    def visible(self):
        return self.filter(status=Comment.Status.PUBLISHED)

    def threads(self, *, own_pending=()):
        """Top-level comments whose thread holds something a reader may see: a published
        comment anywhere in it, or one of the reader's own (`own_pending` ids) pending ones."""
        shown = Q(status=Comment.Status.PUBLISHED)
        if own_pending:
            shown |= Q(pk__in=own_pending, status=Comment.Status.PENDING)
        in_thread = Comment.objects.filter(shown, tree_id=OuterRef("tree_id"))
        return self.filter(parent=None).filter(Exists(in_thread))

    def imported(self):
        return self.exclude(import_key="")

    def for_article(self, article):
        return self.filter(article=article)

    def awaiting_review(self):
        """Comments a moderator should look at: pending, or reported and not yet decided.

        The ids of both kinds, each read from a partial index, rather than "pending OR EXISTS
        (an open report)": the planner can use no index for that OR, and reads every comment.
        """
        pending = Comment.objects.filter(status=Comment.Status.PENDING).order_by().values("pk")
        reported = Report.objects.filter(resolved=False).order_by().values("comment_id")
        return self.filter(pk__in=pending.union(reported))

    def with_report_counts(self):
        """Annotate `report_count` (every report) and `open_report_count` (unresolved).

        Subqueries rather than a join: no GROUP BY, and the queryset stays usable in `pk__in`.
        """
        reports = Report.objects.filter(comment=OuterRef("pk")).order_by().values("comment")

        def count(rows):
            return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

        return self.annotate(
            report_count=count(reports), open_report_count=count(reports.filter(resolved=False))
        )


# The PostgreSQL sequence that numbers comment trees (migration 0004).
TREE_ID_SEQUENCE = "comments_comment_tree_id_seq"


def tree_ids_allocate(count: int, *, using: str = "default") -> list[int]:
    """`count` tree ids used by no tree, in increasing order, for new top-level comments.

    django-mptt's MAX(tree_id) + 1 gives two concurrent transactions the same id unless a
    table-wide lock serialises them. A sequence hands out each id once without a lock, so a
    new thread needs only its article's lock. SQLite serialises writers (BEGIN IMMEDIATE), so
    MAX() + 1 stays safe there.
    """
    if count <= 0:
        return []
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [TREE_ID_SEQUENCE, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
    top = Comment.objects.using(using).aggregate(top=Max("tree_id"))["top"] or 0
    return list(range(top + 1, top + 1 + count))


def removal_reason_choices() -> list[tuple[str, str]]:
    return Decision.Reason.choices


class CommentManager(TreeManager.from_queryset(CommentQuerySet)):
    def _get_next_tree_id(self):
        """django-mptt's hook for a new root's tree id: the allocator's, not MAX() + 1."""
        return tree_ids_allocate(1, using=self.db)[0]


class Comment(MPTTModel):
    """A reader's comment. Each top-level comment is the root of its own tree."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Awaiting moderation"
        REMOVED = "removed", "Removed"
        SPAM = "spam", "Spam"
        DELETED = "deleted", "Deleted by its author"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="comments"
    )
    parent = TreeForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    author_name = models.CharField(max_length=200)
    author_email = models.EmailField(blank=True)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    # Imported comments carry no date.
    created = models.DateTimeField(null=True, blank=True)
    # Position in the article file ("3", "3.1", "3.1.1"); empty for comments posted on the site.
    import_key = models.CharField(max_length=100, blank=True)
    # Page order of top-level threads within their article (replies keep sibling order in the tree).
    thread_position = models.PositiveIntegerField(default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    is_duplicate = models.BooleanField(default=False)
    # Set when a moderator decides the status; a re-import never overrides such a decision.
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderated_comments",
    )
    # The account (or verified email) that posted it; None for a guest's comment.
    commenter = models.ForeignKey(
        "comments.Commenter",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    # The reason (a Decision.Reason) of the latest removal or spam decision, for the
    # "[removed]" placeholder to show without another query; empty otherwise.
    removal_reason = models.CharField(
        max_length=24, blank=True, choices=removal_reason_choices
    )
    # When its author last edited it (CommentRevision keeps the earlier texts); None if never.
    edited = models.DateTimeField(null=True, blank=True)
    # Readers' recommendations of this comment, and on a top-level comment of its whole thread
    # (the "top" order): kept with each Recommendation by comments/recommendations.py, so the
    # page reads them without counting.
    recommend_count = models.PositiveIntegerField(default=0)
    thread_recommend_count = models.PositiveIntegerField(default=0)
    # An editors' pick: shown in the picks block above the discussion, with its public note.
    featured = models.BooleanField("editors’ pick", default=False)
    featured_at = models.DateTimeField(null=True, blank=True)
    featured_note = models.CharField(
        "pick note",
        max_length=200,
        blank=True,
        help_text="Shown to readers with the pick, e.g. “A reader with first-hand knowledge”.",
    )

    objects = CommentManager()

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta(MPTTModel.Meta):
        ordering = ["tree_id", "lft"]
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="comment_tree_lft_idx"),
            models.Index(fields=["article", "thread_position"], name="comment_article_thread_idx"),
            models.Index(fields=["article", "status"], name="comment_article_status_idx"),
            models.Index(
                fields=["article", "-featured_at"],
                condition=Q(featured=True),
                name="comment_article_picks_idx",
            ),
            # The admin's lists (comments/admin.py): the queue and the "pending" filter, the
            # date filters and order, a commenter's comments and record, the duplicates.
            models.Index(
                fields=["created", "id"],
                condition=Q(status="pending"),
                name="comment_pending_created_idx",
            ),
            models.Index(fields=["created", "id"], name="comment_created_idx"),
            models.Index(fields=["commenter", "status"], name="comment_commenter_status_idx"),
            models.Index(
                fields=["tree_id", "lft"],
                condition=Q(is_duplicate=True),
                name="comment_duplicate_tree_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "import_key"],
                condition=~Q(import_key=""),
                name="comment_unique_import_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["published", "pending", "removed", "spam", "deleted"]),
                name="comment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        excerpt = self.body[:60].replace("\n", " ")
        return f"{self.author_name}: {excerpt}"

    def get_absolute_url(self) -> str:
        return reverse(
            "articles:comment_permalink",
            kwargs={"slug": self.article.slug, "pk": self.pk},
        )


def commented_model() -> type[models.Model]:
    """The model comments are about (`Comment.article`'s, "articles.Article"), known to comments
    only through that foreign key. Comments relies on its manager's `published()`, and on
    `discussion_open()`, `premoderated`, `slug` and `get_absolute_url()` of its rows."""
    return Comment._meta.get_field("article").related_model


class CommentQueue(Comment):
    """The comments awaiting review, oldest first: the moderators' queue in the admin."""

    class Meta:
        proxy = True
        verbose_name = "comment awaiting review"
        verbose_name_plural = "comments awaiting review"


def reporter_key(*, ip_address: str | None) -> str:
    """Who a report counts as: one reporter per IPv4 address or IPv6 /64 network.

    A session is not a reporter: clearing cookies would make a new one. IPv6 is counted by its
    /64, the block one household or one server is usually given. Reports with no address count
    as one unknown reporter. The prefix leaves room for "user:ID" or "email:HASH" keys.
    """
    if not ip_address:
        return "ip:unknown"
    address = ipaddress.ip_address(ip_address)
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip6:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


class Report(models.Model):
    """A reader's report of a comment; one per comment per reporter (see `reporter_key`)."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse or personal attack"
        OFF_TOPIC = "off_topic", "Off-topic"
        OTHER = "other", "Other"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True)
    reporter = models.CharField(max_length=100)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # The account of a reader who reported while signed in, for their own data export; it
    # plays no part in counting reporters.
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment_reports",
    )
    created = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)
    # Where to thank the reporter once the report is decided (comments/decision_mail.py);
    # never shown, and cleared when the mail is queued.
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [
            # The few decided reports whose reporter waits for thanks, read after each decision.
            models.Index(
                fields=["resolved"], condition=~Q(email=""), name="report_email_waiting_idx"
            ),
            # The open reports, few beside the decided ones: the queue, and the admin's
            # "reported, not yet decided" and "reported as" filters.
            models.Index(
                fields=["comment"], condition=Q(resolved=False), name="report_open_comment_idx"
            ),
            models.Index(
                fields=["reason", "comment"],
                condition=Q(resolved=False),
                name="report_open_reason_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="report_once_per_reporter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} report on comment {self.comment_id}"

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_report_change", args=[self.pk])


class BannedPhrase(models.Model):
    """A word or phrase the policy does not allow; matched whole-word, case-folded."""

    class Action(models.TextChoices):
        HOLD = "hold", "Hold for review"
        REFUSE = "refuse", "Refuse"

    phrase = models.CharField(max_length=200, unique=True)
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.HOLD)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_bannedphrase_change", args=[self.pk])


class BlockedCommenterQuerySet(models.QuerySet):
    def in_force(self, now=None):
        """Blocks that have not ended: permanent ones, and timed ones until `expires`."""
        return self.filter(Q(expires__isnull=True) | Q(expires__gt=now or timezone.now()))


class BlockedCommenter(models.Model):
    """A commenter whose posts are refused, by email, IP address or name, for good or until
    `expires` (compared when a comment is screened: a timed block ends by itself)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        IP = "ip", "IP address"
        NAME = "name", "Name"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=254)
    reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    expires = models.DateTimeField(
        null=True, blank=True, help_text="Empty: the block is permanent."
    )

    objects = BlockedCommenterQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="blocked_commenter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def save(self, *args, **kwargs):
        self.value = self.normalize(self.kind, self.value)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_blockedcommenter_change", args=[self.pk])

    @classmethod
    def normalize(cls, kind: str, value: str) -> str:
        """The form a value is stored and compared in: case-folded, an address in canonical form."""
        value = value.strip()
        if kind == cls.Kind.IP:
            try:
                return str(ipaddress.ip_address(value))
            except ValueError:
                return value
        return " ".join(value.casefold().split())

    def clean(self) -> None:
        self.value = self.normalize(self.kind, self.value)
        if not self.value:
            raise ValidationError({"value": "Enter the value to block."}, code="blank")
        if self.kind == self.Kind.IP:
            try:
                ipaddress.ip_address(self.value)
            except ValueError:
                raise ValidationError(
                    {"value": "Enter a valid IPv4 or IPv6 address."}, code="invalid"
                ) from None
        elif self.kind == self.Kind.EMAIL:
            try:
                validate_email(self.value)
            except ValidationError:
                raise ValidationError(
                    {"value": "Enter a valid email address."}, code="invalid"
                ) from None


class ModerationPolicy(models.Model):
    """The site-wide moderation settings: one row, edited in the admin."""

    class Mode(models.TextChoices):
        OPEN = "open", "Publish at once (rules still apply)"
        FIRST_COMMENT = "first_comment", "Hold a commenter's comments until one is approved"
        PREMODERATE = "premoderate", "Hold every new comment for review"

    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.OPEN)
    # The automatic pre-moderation rule (comments/sanctions.py), judged when a moderator
    # rejects one of a commenter's comments.
    auto_premoderation = models.BooleanField(
        "automatic pre-moderation",
        default=False,
        help_text="Hold a commenter’s comments for review when too many of their recent "
        "comments were rejected (removed or marked as spam) by moderators.",
    )
    auto_premoderation_window = models.PositiveSmallIntegerField(
        "comments looked at",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many of the commenter’s latest comments the rule looks at (those "
        "awaiting review are not counted). A commenter with fewer is judged as if the others "
        "had been published.",
    )
    auto_premoderation_share = models.PositiveSmallIntegerField(
        "rejected share (%)",
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Pre-moderate when more than this share of those comments was rejected.",
    )
    auto_premoderation_days = models.PositiveSmallIntegerField(
        "for (days)",
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text="How long the pre-moderation lasts; 0 keeps it until a moderator lifts it.",
    )
    updated = models.DateTimeField(auto_now=True)
    # A new random value with every change of a banned phrase (comments/phrases.py): each
    # process keeps its compiled matcher until this moves. Random rather than counted, so that
    # rules rolled back and changed again never come back under a number already seen.
    phrases_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "moderation policy"
        verbose_name_plural = "moderation policy"
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Moderation: {self.get_mode_display()}"

    def save(self, *args, **kwargs):
        # Only comments/phrases.py moves phrases_version, in an UPDATE of its own: saving a
        # copy read earlier (the admin's form) must not put an old version back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "phrases_version"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_moderationpolicy_change", args=[self.pk])

    @classmethod
    def current(cls) -> "ModerationPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class CommenterQuerySet(models.QuerySet):
    def with_current_status(self):
        """Annotate `status_now`: the status in force now, a timed one that has ended
        being "active" (see `Commenter.current_status`)."""
        return self.annotate(
            status_now=models.Case(
                models.When(Commenter.ended_status_q(), then=Value(Commenter.Status.ACTIVE)),
                default=F("status"),
                output_field=models.CharField(),
            )
        )

    def with_record(self):
        """Annotate the counts a moderator reads on the record: `<status>_count` for each
        comment status (published_count, pending_count, removed_count, spam_count) and
        `report_count`, the readers' reports on the commenter's comments. Subqueries, like
        `CommentQuerySet.with_report_counts`, so that the list stays one query; COUNT(*)
        rather than of the ids, which the (commenter, status) index answers alone."""

        def count(rows):
            rows = rows.order_by().values("commenter")
            return Coalesce(Subquery(rows.annotate(n=Count("*")).values("n")), 0)

        comments = Comment.objects.filter(commenter=OuterRef("pk"))
        counts = {
            f"{status}_count": count(comments.filter(status=status))
            for status in Comment.Status.values
        }
        reports = Report.objects.filter(comment__commenter=OuterRef("pk")).order_by()
        report_count = Coalesce(
            Subquery(
                reports.values("comment__commenter").annotate(n=Count("pk")).values("n")
            ),
            0,
        )
        return self.annotate(**counts, report_count=report_count)


class Commenter(models.Model):
    """Who writes comments: a reader's account, or (later) a guest's verified email address.

    The moderation status a moderator gives the commenter lives here. A status with an end
    (`status_until`) ends by itself: `current_status` compares it with the time it is read,
    so no job has to lift it.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PREMODERATED = "premoderated", "Comments held for review"
        SUSPENDED = "suspended", "Suspended"
        BANNED = "banned", "Banned"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="commenter",
    )
    email = models.EmailField(null=True, blank=True, unique=True)
    display_name = models.CharField(max_length=80)
    handle = models.SlugField(max_length=100, unique=True)
    profile_public = models.BooleanField(
        "public profile", default=True, help_text="Show the reader's page of comments."
    )
    badge = models.CharField(
        max_length=40,
        blank=True,
        help_text='Shown beside a staff member’s comments; empty shows "Staff".',
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_until = models.DateTimeField(
        "until",
        null=True,
        blank=True,
        help_text="When a suspension or pre-moderation ends by itself (required for a "
        "suspension; empty pre-moderation lasts until a moderator lifts it).",
    )
    status_reason = models.CharField(
        "reason",
        max_length=300,
        blank=True,
        help_text="Shown to the commenter when a suspension or ban stops a comment.",
    )
    notes = models.TextField(
        "moderators’ notes", blank=True, help_text="For moderators only; never shown to readers."
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = CommenterQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(email__isnull=False),
                name="commenter_has_account_or_email",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "premoderated", "suspended", "banned"]),
                name="commenter_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("comments:profile", kwargs={"handle": self.handle})

    TIMED = (Status.PREMODERATED, Status.SUSPENDED)

    @classmethod
    def ended_status_q(cls) -> Q:
        """The rows whose timed status has ended by now."""
        return Q(status__in=cls.TIMED, status_until__lte=timezone.now())

    @property
    def current_status(self) -> str:
        """The status in force now: a suspension or pre-moderation whose end has passed is
        over, without anything having to change the row."""
        if (
            self.status in self.TIMED
            and self.status_until is not None
            and self.status_until <= timezone.now()
        ):
            return self.Status.ACTIVE
        return self.status

    def clean(self) -> None:
        if self.status == self.Status.SUSPENDED and self.status_until is None:
            raise ValidationError(
                {"status_until": "Give the end of the suspension, or choose “Banned”."},
                code="suspension_end",
            )
        if self.status == self.Status.BANNED and self.status_until is not None:
            raise ValidationError(
                {"status_until": "A ban has no end: clear this date, or choose “Suspended”."},
                code="ban_end",
            )
        if self.status == self.Status.ACTIVE:
            self.status_until = None


class ReservedName(models.Model):
    """A name no reader may comment under, nor under a look-alike of it (comments/identity.py)."""

    name = models.CharField(max_length=80, unique=True)
    note = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_reservedname_change", args=[self.pk])


class UnconfirmedComment(models.Model):
    """A guest's comment waiting for the guest to follow the link mailed to them
    (COMMENTS_GUESTS=verify).

    It is kept apart from Comment, so that the tree, the counts, the feeds, the API and the
    moderators' queue never see it. Following the link posts it as a Comment and deletes this
    row in one transaction (comments/services.py `guest_comment_confirm`); a row nobody
    confirmed is deleted after UNCONFIRMED_DAYS (`manage.py purge_unconfirmed_comments`).
    """

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="unconfirmed_comments"
    )
    # The comment replied to, without a constraint: it may be deleted before the click, and
    # the click then tells the guest so and shows their text to post again.
    parent = models.ForeignKey(
        Comment,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    author_name = models.CharField(max_length=200)
    author_email = models.EmailField()
    body = models.TextField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(db_index=True)
    # Random, and part of the signed link: a link names exactly this row.
    nonce = models.CharField(max_length=32)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        excerpt = self.body[:60].replace("\n", " ")
        return f"{self.author_name} (unconfirmed): {excerpt}"

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()
class HoldReason(models.Model):
    """One reason the policy rules held a comment for review (comments/moderation.py).

    A row per reason rather than a list on the comment: each reason is then an indexed filter
    of the moderators' queue, on PostgreSQL as on SQLite."""

    class Code(models.TextChoices):
        PHRASE = "phrase", "Held phrase"
        LINKS = "links", "Links"
        FIRST_COMMENT = "first_comment", "First comment"
        COMMENTER_PREMODERATED = "commenter_premoderated", "Commenter pre-moderated"
        ARTICLE_PREMODERATED = "article_premoderated", "Article pre-moderated"
        SITE_PREMODERATED = "site_premoderated", "Site pre-moderated"
        WATCH_PHRASE = "watch_phrase", "Watch phrase of the article"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="hold_reasons")
    code = models.CharField(max_length=24, choices=Code.choices)
    # Which phrase, how many links.
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["comment", "pk"]
        indexes = [models.Index(fields=["code", "comment"], name="holdreason_code_comment_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    code__in=[
                        "phrase",
                        "links",
                        "first_comment",
                        "commenter_premoderated",
                        "article_premoderated",
                        "site_premoderated",
                        "watch_phrase",
                    ]
                ),
                name="holdreason_code_valid",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_code_display()
        return f"{label}: {self.detail}" if self.detail else label

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_comment_change", args=[self.comment_id])


class Decision(models.Model):
    """A moderator's decision on a comment: the status given, and for a removal why."""

    class Reason(models.TextChoices):
        OFFENSIVE = "offensive", "Offensive"
        ABUSIVE = "abusive", "Abusive or a personal attack"
        SPAM = "spam", "Spam"
        ADVERTISING = "advertising", "Advertising"
        OFF_TOPIC = "off_topic", "Off-topic"
        ILLEGAL = "illegal", "Illegal content"
        HARASSMENT = "harassment", "Harassment"
        MISINFORMATION = "misinformation", "Misinformation"
        HATE_SPEECH = "hate_speech", "Hate speech"
        OTHER = "other", "Other"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="decisions")
    status = models.CharField(max_length=16, choices=Comment.Status.choices)
    # Required for a removal or spam decision; empty for an approval.
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment_decisions",
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["comment", "-created"], name="decision_comment_created_idx")
        ]

    def __str__(self) -> str:
        text = f"{self.get_status_display()} on comment {self.comment_id}"
        return f"{text} ({self.get_reason_display().lower()})" if self.reason else text

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_comment_change", args=[self.comment_id])


# What the "[removed]" placeholder says of each removal reason, in a few words.
REMOVAL_REASON_SHORT = {
    Decision.Reason.OFFENSIVE: "offensive",
    Decision.Reason.ABUSIVE: "personal attack",
    Decision.Reason.SPAM: "spam",
    Decision.Reason.ADVERTISING: "advertising",
    Decision.Reason.OFF_TOPIC: "off-topic",
    Decision.Reason.ILLEGAL: "illegal content",
    Decision.Reason.HARASSMENT: "harassment",
    Decision.Reason.MISINFORMATION: "misinformation",
    Decision.Reason.HATE_SPEECH: "hate speech",
}


class ReplySubscription(models.Model):
    """A commenter's wish to be mailed when someone replies to their comment, or below it."""

    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, related_name="reply_subscription"
    )
    commenter = models.ForeignKey(
        Commenter, on_delete=models.CASCADE, related_name="reply_subscriptions"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Replies to comment {self.comment_id} mailed to {self.commenter}"

    def get_absolute_url(self) -> str:
        return self.comment.get_absolute_url()


class ReplyMailPreference(models.Model):
    """How an account wants its reply mail: ticked by default or not, batched or daily."""

    class Frequency(models.TextChoices):
        BATCHED = "batched", "A mail for each thread, at most every few minutes"
        DAILY = "daily", "One daily digest"

    commenter = models.OneToOneField(
        Commenter, on_delete=models.CASCADE, related_name="reply_mail_preference"
    )
    subscribe_by_default = models.BooleanField(default=False)
    frequency = models.CharField(
        max_length=8, choices=Frequency.choices, default=Frequency.BATCHED
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=["batched", "daily"]),
                name="reply_mail_frequency_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Reply mail of {self.commenter}: {self.get_frequency_display()}"

    def get_absolute_url(self) -> str:
        return reverse("comments:settings")


class ReplyNotice(models.Model):
    """One published reply to be mailed to one recipient, in the next mail of its batch.

    A batch is a recipient's unsent notices of one thread, or of every thread for a daily
    digest; it goes out at `due` in one mail, which sets `sent`.
    """

    recipient = models.ForeignKey(
        Commenter, on_delete=models.CASCADE, related_name="reply_notices"
    )
    reply = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    # The top-level comment of the reply's tree.
    thread = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    digest = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    due = models.DateTimeField()
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["recipient", "thread", "sent"], name="reply_notice_batch_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "reply"], name="reply_notice_once_per_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"Reply {self.reply_id} for {self.recipient}"

    def get_absolute_url(self) -> str:
        return self.reply.get_absolute_url()


class CommentRevision(models.Model):
    """A comment's text before one of its author's edits (comments/services.py `comment_edit`),
    kept for the moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    # When the edit replaced this text.
    edited = models.DateTimeField()
    # The account that edited it; None for a guest (who edits from the browser that posted).
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["comment", "edited", "pk"]

    def __str__(self) -> str:
        return f"Comment {self.comment_id} before its edit of {self.edited:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_comment_change", args=[self.comment_id])


class Recommendation(models.Model):
    """A reader's recommendation of a comment: one per comment per commenter (an account's, or
    a verified guest address's). There is no negative reaction."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="recommendations")
    commenter = models.ForeignKey(
        Commenter, on_delete=models.CASCADE, related_name="recommendations"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "commenter"], name="recommendation_once_per_commenter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.commenter} recommends comment {self.comment_id}"

    def get_absolute_url(self) -> str:
        return self.comment.get_absolute_url()


class DecisionMailPreference(models.Model):
    """Whether a commenter is mailed when a moderator publishes one of their held comments
    (comments/decision_mail.py). Without a row, they are."""

    commenter = models.OneToOneField(
        Commenter, on_delete=models.CASCADE, related_name="decision_mail_preference"
    )
    published = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        state = "on" if self.published else "off"
        return f"Mail about published comments of {self.commenter}: {state}"

    def get_absolute_url(self) -> str:
        return reverse("comments:settings")


class WatchPhrase(models.Model):
    """A phrase that holds for review every new comment on one article containing it (a
    defendant's name, a court case), matched as the banned phrases are (comments/phrases.py).
    The site-wide rules are unchanged by it."""

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="watch_phrases"
    )
    phrase = models.CharField(max_length=200)
    note = models.CharField(max_length=300, blank=True, help_text="For moderators only.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "phrase"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "phrase"], name="watch_phrase_unique_per_article"
            ),
        ]

    def __str__(self) -> str:
        return self.phrase

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()

    def clean(self) -> None:
        self.phrase = " ".join(self.phrase.split())
        if not self.phrase:
            raise ValidationError({"phrase": "Enter the phrase to watch for."}, code="blank")
