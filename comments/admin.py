"""Moderation in the Django admin: comments, the queue, reports and the policy rules.

Every action goes through comments/services.py, which takes the tree locks, records who decided
and when, and refreshes the article pages. Moderation only changes a comment's status; only
Django's explicit "delete" removes rows.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import ngettext
from mptt.admin import MPTTModelAdmin

from comments import services
from comments.models import (
    BannedPhrase,
    BlockedCommenter,
    Comment,
    Commenter,
    CommentQueue,
    ModerationPolicy,
    Report,
    ReservedName,
)


class ReportedFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("open", "Yes, not yet decided"), ("no", "No")]

    def queryset(self, request, queryset):
        reports = Report.objects.filter(comment=OuterRef("pk"))
        if self.value() == "yes":
            return queryset.filter(Exists(reports))
        if self.value() == "open":
            return queryset.filter(Exists(reports.filter(resolved=False)))
        if self.value() == "no":
            return queryset.filter(~Exists(reports))
        return queryset


class ReportInline(admin.TabularInline):
    """Readers' reports, for reading: a moderator's decision on the comment resolves them."""

    model = Report
    fields = ["reason", "detail", "created", "resolved"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    view_on_site = False

    def has_add_permission(self, request, obj=None):
        return False


def _log_changes(request, objects: list, message: str, action_flag: int = CHANGE) -> None:
    """One admin-log entry per changed object."""
    if objects:
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=objects,
            action_flag=action_flag,
            change_message=message,
        )


@admin.register(Comment)
class CommentAdmin(MPTTModelAdmin):
    list_display = [
        "excerpt",
        "author_name",
        "author_email",
        "ip_address",
        "article_title",
        "status",
        "reports",
        "duplicate",
        "created",
        "on_site",
        "commenter_link",
    ]
    list_display_links = ["excerpt"]
    change_list_template = "admin/comments/comment/change_list.html"
    mptt_indent_field = "excerpt"
    list_filter = ["status", "article", ReportedFilter, "is_duplicate", "created"]
    search_fields = ["author_name", "author_email", "body", "ip_address"]
    list_select_related = ["article", "commenter"]
    list_per_page = 100
    actions = [
        "approve_comments",
        "remove_comments",
        "mark_spam",
        "remove_threads",
        "block_commenters",
    ]
    fields = [
        "article",
        "parent",
        "author_name",
        "author_email",
        "commenter",
        "status",
        "body",
        "created",
        "ip_address",
        "user_agent",
        "is_duplicate",
        "import_key",
        "moderated_at",
        "moderated_by",
    ]
    # A moderator decides the status and may edit the body; the rest is the record.
    readonly_fields = [name for name in fields if name not in ("status", "body")]
    inlines = [ReportInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_report_counts()

    # Comments come from readers and imports; the admin moderates them.
    def has_add_permission(self, request):
        return False

    @admin.display(description="comment")
    def excerpt(self, obj):
        return Truncator(" ".join(obj.body.split())).chars(80)

    @admin.display(description="commenter", ordering="commenter__display_name")
    def commenter_link(self, obj):
        if obj.commenter is None:
            return "guest"
        url = reverse("admin:comments_commenter_change", args=[obj.commenter_id])
        return format_html('<a href="{}">{}</a>', url, obj.commenter.display_name)

    @admin.display(description="article", ordering="article__title")
    def article_title(self, obj):
        return Truncator(obj.article.title).chars(40)

    @admin.display(description="reports", ordering="report_count")
    def reports(self, obj):
        if not obj.report_count:
            return 0
        label = str(obj.report_count)
        if obj.open_report_count:
            label = f"{obj.report_count} ({obj.open_report_count} open)"
        url = reverse("admin:comments_report_changelist")
        return format_html('<a href="{}?comment__id__exact={}">{}</a>', url, obj.pk, label)

    @admin.display(description="duplicate", boolean=True, ordering="is_duplicate")
    def duplicate(self, obj):
        return obj.is_duplicate

    @admin.display(description="on site")
    def on_site(self, obj):
        return format_html('<a href="{}">view</a>', obj.get_absolute_url())

    def _tell(self, request, count: int, singular: str, plural: str) -> None:
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(request, ngettext(singular, plural, count) % count, level)

    @admin.action(description="Approve selected comments (publish)", permissions=["change"])
    def approve_comments(self, request, queryset):
        changed = services.comments_approve(comments=queryset, moderator=request.user)
        _log_changes(request, changed, "Approved.")
        self._tell(request, len(changed), "%d comment approved.", "%d comments approved.")

    @admin.action(description="Remove selected comments (replies stay)", permissions=["change"])
    def remove_comments(self, request, queryset):
        changed = services.comments_remove(comments=queryset, moderator=request.user)
        _log_changes(request, changed, "Removed.")
        self._tell(request, len(changed), "%d comment removed.", "%d comments removed.")

    @admin.action(description="Mark selected comments as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        changed = services.comments_mark_spam(comments=queryset, moderator=request.user)
        _log_changes(request, changed, "Marked as spam.")
        self._tell(
            request, len(changed), "%d comment marked as spam.", "%d comments marked as spam."
        )

    @admin.action(
        description="Remove selected comments and all their replies", permissions=["change"]
    )
    def remove_threads(self, request, queryset):
        changed = services.threads_remove(comments=queryset, moderator=request.user)
        _log_changes(request, changed, "Removed with its thread.")
        self._tell(
            request,
            len(changed),
            "%d comment removed with the threads.",
            "%d comments removed with the threads.",
        )

    @admin.action(
        description="Block the authors' emails and IP addresses; remove their pending comments",
        permissions=["change"],
    )
    def block_commenters(self, request, queryset):
        blocking = services.commenters_block(
            comments=queryset, moderator=request.user, note="Blocked from the comment list."
        )
        _log_changes(request, blocking.blocks, "Blocked from the comment list.", ADDITION)
        _log_changes(request, blocking.removed, "Removed: the commenter was blocked.")
        blocks, removed = len(blocking.blocks), len(blocking.removed)
        self.message_user(
            request,
            ngettext("%d email or IP address blocked", "%d emails or IP addresses blocked", blocks)
            % blocks
            + "; "
            + ngettext("%d pending comment removed.", "%d pending comments removed.", removed)
            % removed,
            messages.SUCCESS if blocks or removed else messages.WARNING,
        )

    def save_model(self, request, obj, form, change):
        services.comment_update(comment=obj, changed=form.changed_data, moderator=request.user)

    def delete_model(self, request, obj):
        services.comments_delete(comments=Comment.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.comments_delete(comments=queryset)

    def delete_selected_tree(self, modeladmin, request, queryset):
        """django-mptt's bulk delete, done under the tree locks like every other tree write."""
        if not request.POST.get("post"):
            return super().delete_selected_tree(modeladmin, request, queryset)
        if not self.has_delete_permission(request):
            raise PermissionDenied
        self.log_deletions(request, queryset)
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self._tell(request, count, "%d comment deleted.", "%d comments deleted.")
        return None


@admin.register(CommentQueue)
class CommentQueueAdmin(CommentAdmin):
    """Pending comments and those with reports not yet decided.

    Comments held by reports (open reports from COMMENTS_REPORT_THRESHOLD distinct reporters)
    come first: they stay on the site until a moderator decides. Then the oldest first.
    """

    list_display = [
        *CommentAdmin.list_display[:6],
        "held_by_reports",
        *CommentAdmin.list_display[6:],
    ]
    # Oldest first, not in tree order: indenting by level would suggest a nesting.
    mptt_level_indent = 0
    list_filter = ["status", "article", ReportedFilter, "is_duplicate"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .awaiting_review()
            .annotate(held=Q(open_report_count__gte=settings.COMMENTS_REPORT_THRESHOLD))
        )

    def get_ordering(self, request):
        return [F("held").desc(), F("created").asc(nulls_first=True), "pk"]

    @admin.display(description="held by reports", boolean=True, ordering="held")
    def held_by_reports(self, obj):
        return obj.held


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["comment_excerpt", "reason", "detail", "created", "resolved"]
    list_filter = ["reason", "resolved", "created"]
    search_fields = ["detail", "comment__body", "comment__author_name"]
    list_select_related = ["comment"]
    fields = ["comment", "reason", "detail", "created", "ip_address", "resolved"]
    readonly_fields = ["comment", "reason", "detail", "created", "ip_address"]

    # Readers file reports from the site.
    def has_add_permission(self, request):
        return False

    @admin.display(description="comment", ordering="comment")
    def comment_excerpt(self, obj):
        return Truncator(" ".join(obj.comment.body.split())).chars(60)


@admin.register(BannedPhrase)
class BannedPhraseAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["phrase", "action", "created"]
    list_filter = ["action"]
    search_fields = ["phrase"]


@admin.register(BlockedCommenter)
class BlockedCommenterAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["value", "kind", "reason", "created", "created_by"]
    list_filter = ["kind"]
    search_fields = ["value", "reason"]
    list_select_related = ["created_by"]
    fields = ["kind", "value", "reason", "created_by"]
    readonly_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ModerationPolicy)
class ModerationPolicyAdmin(admin.ModelAdmin):
    """The single policy row: the list page opens it."""

    fields = ["mode"]
    view_on_site = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        policy = ModerationPolicy.current()
        return HttpResponseRedirect(
            reverse("admin:comments_moderationpolicy_change", args=[policy.pk])
        )


@admin.register(Commenter)
class CommenterAdmin(admin.ModelAdmin):
    """The record of each commenter: an account's name, handle and badge, and the moderation
    status a moderator gives it."""

    list_display = [
        "display_name",
        "handle",
        "user",
        "email",
        "status",
        "profile_public",
        "created",
    ]
    list_filter = ["status", "profile_public"]
    search_fields = ["display_name", "handle", "user__email", "email"]
    list_select_related = ["user"]
    fields = [
        "display_name",
        "handle",
        "user",
        "email",
        "badge",
        "profile_public",
        "status",
        "status_until",
        "status_reason",
        "notes",
        "created",
    ]
    readonly_fields = ["user", "email", "created"]

    # Commenters come from sign-ups; the admin looks after them.
    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.commenter_comments_refresh(commenter=obj)


@admin.register(ReservedName)
class ReservedNameAdmin(admin.ModelAdmin):
    """Names no reader may comment under, nor under a look-alike (comments/identity.py)."""

    view_on_site = False
    list_display = ["name", "note", "created"]
    search_fields = ["name", "note"]
