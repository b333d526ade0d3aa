import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, models
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
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
        """Comments a moderator should look at: pending, or reported and not yet decided."""
        open_reports = Report.objects.filter(comment=OuterRef("pk"), resolved=False)
        return self.filter(Q(status=Comment.Status.PENDING) | Exists(open_reports))

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

    objects = CommentManager()

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta(MPTTModel.Meta):
        ordering = ["tree_id", "lft"]
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="comment_tree_lft_idx"),
            models.Index(fields=["article", "thread_position"], name="comment_article_thread_idx"),
            models.Index(fields=["article", "status"], name="comment_article_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "import_key"],
                condition=~Q(import_key=""),
                name="comment_unique_import_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["published", "pending", "removed", "spam"]),
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
    created = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["created", "id"]
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


class BlockedCommenter(models.Model):
    """A commenter whose posts are refused, by email, IP address or name."""

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
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "moderation policy"
        verbose_name_plural = "moderation policy"
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Moderation: {self.get_mode_display()}"

    def get_absolute_url(self) -> str:
        return reverse("admin:comments_moderationpolicy_change", args=[self.pk])

    @classmethod
    def current(cls) -> "ModerationPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class Commenter(models.Model):
    """Who writes comments: a reader's account, or (later) a guest's verified email address.

    The moderation status fields are recorded here so that a moderator's decision about a
    commenter has one place to live.
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
    status_until = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

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
