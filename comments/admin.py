"""Moderation in the Django admin: comments, the queue, reports and the policy rules.

Every action goes through comments/services.py, which takes the tree locks, records who decided
and when, and refreshes the article pages. Moderation only changes a comment's status; only
Django's explicit "delete" removes rows.
"""

from functools import partial

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters, ShowFacets
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import ngettext
from mptt.admin import MPTTModelAdmin

from comments import sanctions, services
from comments.admin_forms import BlockForm, CommentAdminForm, DecisionForm, PickForm
from comments.admin_search import (
    COMMENT_FIELDS,
    SEARCH_HELP_TEXT,
    SearchFields,
    search_queryset,
)
from comments.models import (
    BannedPhrase,
    BlockedCommenter,
    Comment,
    Commenter,
    CommentQueue,
    CommentRevision,
    Decision,
    HoldReason,
    ModerationPolicy,
    Report,
    ReservedName,
    commented_model,
)
from comments.paging import LongListPaginator
from comments.services import BlockTarget

# The queue's reports column names the reasons in a word.
REPORT_REASON_SHORT = {
    Report.Reason.SPAM: "spam",
    Report.Reason.ABUSE: "abuse",
    Report.Reason.OFF_TOPIC: "off-topic",
    Report.Reason.OTHER: "other",
}
# How many of the selected comments a dialog lists before "and N more".
DIALOG_LISTED = 20


class ArticleFilter(admin.SimpleListFilter):
    """One article's comments. The choices are the articles commented on most recently, and
    the one chosen: a link for every article would make the sidebar thousands of links long.
    The article's title in each row of the list chooses it too."""

    title = "article"
    parameter_name = "article__id__exact"
    SHOWN = 10
    # How many of the latest comments are read to find the articles last commented on.
    LATEST_COMMENTS = 200

    def chosen(self) -> int | None:
        if self.value() is None:
            return None
        try:
            return int(self.value())
        except ValueError:
            raise IncorrectLookupParameters(
                f"No article has the number {self.value()!r}."
            ) from None

    def lookups(self, request, model_admin):
        latest = (
            Comment.objects.filter(created__isnull=False)
            .order_by("-created")
            .values_list("article_id", flat=True)[: self.LATEST_COMMENTS]
        )
        ids = list(dict.fromkeys(latest))[: self.SHOWN]
        chosen = self.chosen()
        if chosen is not None and chosen not in ids:
            ids.insert(0, chosen)
        titles = dict(commented_model().objects.filter(pk__in=ids).values_list("pk", "title"))
        return [(str(pk), Truncator(titles[pk]).chars(50)) for pk in ids if pk in titles]

    def queryset(self, request, queryset):
        chosen = self.chosen()
        return queryset if chosen is None else queryset.filter(article_id=chosen)


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


class RelatedReasonFilter(admin.SimpleListFilter):
    """Comments with a row of `model` (pointing to the comment, matching `only`) whose `field`
    is the chosen one of `reasons`."""

    model: type[HoldReason] | type[Report]
    reasons: type[HoldReason.Code] | type[Report.Reason]
    field = "reason"
    only: dict = {}

    def lookups(self, request, model_admin):
        return self.reasons.choices

    def queryset(self, request, queryset):
        if self.value() not in self.reasons.values:
            return queryset
        rows = self.model.objects.filter(
            comment=OuterRef("pk"), **self.only, **{self.field: self.value()}
        )
        return queryset.filter(Exists(rows))


class HoldReasonFilter(RelatedReasonFilter):
    """Comments the policy rules held for one reason."""

    title = "held because"
    parameter_name = "held_because"
    model, reasons, field = HoldReason, HoldReason.Code, "code"


class ReportReasonFilter(RelatedReasonFilter):
    """Comments with an open report for one reason."""

    title = "reported as"
    parameter_name = "reported_as"
    model, reasons, only = Report, Report.Reason, {"resolved": False}


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


class DecisionInline(admin.TabularInline):
    """The comment's decision history, newest first; written only by the services."""

    model = Decision
    fields = ["created", "status", "reason", "note", "moderator"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    view_on_site = False
    verbose_name_plural = "decision history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("moderator")


class RevisionInline(admin.TabularInline):
    """The comment's earlier texts, each as it was before one of its author's edits."""

    model = CommentRevision
    fields = ["edited", "body", "editor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    view_on_site = False
    verbose_name = "earlier text"
    verbose_name_plural = "earlier texts (edits by the author)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("editor")


def decisions_table(decisions) -> str:
    """Decisions as a small table (the commenter's record shows those on their comments)."""
    if not decisions:
        return "No decisions yet."
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td></tr>",
        (
            (
                f"{localtime(decision.created):%Y-%m-%d %H:%M}",
                reverse("admin:comments_comment_change", args=[decision.comment_id]),
                Truncator(" ".join(decision.comment.body.split())).chars(50),
                decision.get_status_display(),
                decision.get_reason_display() if decision.reason else "",
                decision.note,
                decision.moderator.get_username() if decision.moderator else "",
            )
            for decision in decisions
        ),
    )
    return format_html(
        '<table class="decision-history"><thead><tr><th scope="col">when</th>'
        '<th scope="col">comment</th><th scope="col">decision</th><th scope="col">reason</th>'
        '<th scope="col">note</th><th scope="col">moderator</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        rows,
    )


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
    list_filter = [
        "status",
        ArticleFilter,
        ReportedFilter,
        HoldReasonFilter,
        ReportReasonFilter,
        "is_duplicate",
        "created",
    ]
    # Searched by comments/admin_search.py (get_search_results), not by Django's icontains.
    search_fields = ["author_name", "author_email", "body", "ip_address"]
    search_help_text = SEARCH_HELP_TEXT
    list_select_related = ["article", "commenter"]
    list_per_page = 100
    # A list of a million comments stays fast (bench/bench_admin.py): it is counted up to a
    # bound and then estimated (comments/paging.py), the filters' counts are not offered, and
    # it sorts only by what an index orders; each filter reads an index (Comment.Meta).
    paginator = LongListPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    sortable_by = ["status", "created"]
    actions = [
        "approve_comments",
        "remove_comments",
        "mark_spam",
        "remove_threads",
        "block_commenters",
        "feature_comments",
        "unfeature_comments",
    ]
    form = CommentAdminForm
    fields = [
        "article",
        "parent",
        "author_name",
        "author_email",
        "commenter",
        "status",
        "removal_reason",
        "decision_note",
        "held_because",
        "body",
        "featured",
        "featured_note",
        "created",
        "edited",
        "ip_address",
        "user_agent",
        "is_duplicate",
        "import_key",
        "moderated_at",
        "moderated_by",
    ]
    # A moderator decides the status (with a reason for a removal) and may edit the body; the
    # rest is the record.
    readonly_fields = [
        name
        for name in fields
        if name not in (
            "status", "removal_reason", "decision_note", "body", "featured", "featured_note"
        )
    ]
    inlines = [ReportInline, DecisionInline, RevisionInline]

    def get_queryset(self, request):
        # Without the tree order the manager gives: the list's own order (get_ordering, or
        # the column chosen) then reads one index, not that column with the tree order after.
        return super().get_queryset(request).with_report_counts().order_by()

    def get_search_results(self, request, queryset, search_term):
        return search_queryset(queryset, search_term, COMMENT_FIELDS), False

    @admin.display(description="held because")
    def held_because(self, obj):
        reasons = list(obj.hold_reasons.all())
        return "; ".join(str(reason) for reason in reasons) or "—"

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
        return format_html(
            '<a href="?{}={}" title="Only this article’s comments">{}</a>',
            ArticleFilter.parameter_name,
            obj.article_id,
            Truncator(obj.article.title).chars(40),
        )

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

    def _dialog(self, request, queryset, *, template: str, title: str, form, **context):
        """An intermediate page of an action: the form, and the selected comments posted back
        with it (without JavaScript, like Django's own delete confirmation)."""
        count = queryset.count()
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "form": form,
                "action": request.POST.get("action", ""),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "comments": queryset.select_related("article")[:DIALOG_LISTED],
                "more": max(count - DIALOG_LISTED, 0),
                "count": count,
                **context,
            },
        )

    def _decide_with_reason(self, request, queryset, *, decide, initial: str, verb: str,
                            submit: str, title: str, tell: tuple[str, str]):
        """Ask why (reason and note), then decide the comments with it."""
        form = DecisionForm(
            request.POST if "apply" in request.POST else None, initial={"reason": initial}
        )
        if not form.is_valid():
            return self._dialog(
                request,
                queryset,
                template="admin/comments/decision_form.html",
                title=title,
                form=form,
                submit=submit,
                show_reasons=settings.COMMENTS_SHOW_REMOVAL_REASONS,
            )
        reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
        changed = decide(comments=queryset, moderator=request.user, reason=reason, note=note)
        label = Decision.Reason(reason).label.lower()
        _log_changes(request, changed, f"{verb} ({label}).")
        self._tell(request, len(changed), *tell)
        return None

    @admin.action(description="Remove selected comments (replies stay)", permissions=["change"])
    def remove_comments(self, request, queryset):
        return self._decide_with_reason(
            request,
            queryset,
            decide=services.comments_remove,
            initial="",
            verb="Removed",
            submit="Remove",
            title="Why are these comments removed?",
            tell=("%d comment removed.", "%d comments removed."),
        )

    @admin.action(description="Mark selected comments as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        return self._decide_with_reason(
            request,
            queryset,
            decide=services.comments_mark_spam,
            initial=Decision.Reason.SPAM,
            verb="Marked as spam",
            submit="Mark as spam",
            title="Mark these comments as spam",
            tell=("%d comment marked as spam.", "%d comments marked as spam."),
        )

    @admin.action(
        description="Remove selected comments and all their replies", permissions=["change"]
    )
    def remove_threads(self, request, queryset):
        return self._decide_with_reason(
            request,
            queryset,
            decide=services.threads_remove,
            initial="",
            verb="Removed with its thread",
            submit="Remove with all replies",
            title="Why are these threads removed?",
            tell=("%d comment removed with the threads.", "%d comments removed with the threads."),
        )

    @admin.action(
        description="Block the authors (choose what, for how long)…", permissions=["change"]
    )
    def block_commenters(self, request, queryset):
        form = BlockForm(request.POST if "apply" in request.POST else None)
        if (
            form.is_valid()
            and BlockTarget.ACCOUNT in form.cleaned_data["targets"]
            and not request.user.has_perm("comments.change_commenter")
        ):
            form.add_error("targets", "You may not suspend or ban accounts.")
        if not form.is_valid():
            authors = (
                queryset.order_by()
                .values_list("author_name", "author_email", "ip_address", "commenter__handle")
                .distinct()
            )
            return self._dialog(
                request,
                queryset,
                template="admin/comments/block_form.html",
                title="Block the authors of these comments",
                form=form,
                authors=list(authors[:DIALOG_LISTED]),
            )
        data = form.cleaned_data
        blocking = services.commenters_block(
            comments=queryset,
            moderator=request.user,
            targets=data["targets"],
            duration=data["duration"],
            remove_published=data["remove_published"],
            reason=data["reason"],
            note=data["note"],
        )
        until = (
            f"until {localtime(blocking.expires):%Y-%m-%d %H:%M}"
            if blocking.expires
            else "for good"
        )
        _log_changes(request, blocking.blocks, f"Blocked, {until}.", ADDITION)
        _log_changes(request, blocking.commenters, f"Account blocked, {until}.")
        label = Decision.Reason(data["reason"]).label.lower()
        _log_changes(request, blocking.removed, f"Removed ({label}): the commenter was blocked.")
        counts = [
            ("%d email, IP address or name blocked", "%d emails, IP addresses or names blocked",
             len(blocking.blocks)),
            ("%d account suspended or banned", "%d accounts suspended or banned",
             len(blocking.commenters)),
            ("%d comment removed", "%d comments removed", len(blocking.removed)),
        ]
        self.message_user(
            request,
            "; ".join(ngettext(one, many, n) % n for one, many, n in counts) + ".",
            messages.SUCCESS if any(n for _, _, n in counts) else messages.WARNING,
        )
        return None

    @admin.action(
        description="Feature selected comments as editors’ picks…", permissions=["change"]
    )
    def feature_comments(self, request, queryset):
        form = PickForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._dialog(
                request,
                queryset,
                template="admin/comments/pick_form.html",
                title="Feature these comments as editors’ picks",
                form=form,
            )
        # The service writes the admin log.
        changed = services.comments_feature(
            comments=queryset, moderator=request.user, note=form.cleaned_data["note"]
        )
        self._tell(request, len(changed), "%d comment featured.", "%d comments featured.")
        skipped = queryset.exclude(status=Comment.Status.PUBLISHED).count()
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d comment is not published and cannot be a pick.",
                    "%d comments are not published and cannot be picks.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
        return None

    @admin.action(description="Remove selected comments from the editors’ picks",
                  permissions=["change"])
    def unfeature_comments(self, request, queryset):
        changed = services.comments_unfeature(comments=queryset, moderator=request.user)
        self._tell(
            request, len(changed), "%d comment unfeatured.", "%d comments unfeatured."
        )

    def save_model(self, request, obj, form, change):
        services.comment_update(
            comment=obj,
            changed=[name for name in form.changed_data if name != "decision_note"],
            moderator=request.user,
            note=form.cleaned_data.get("decision_note", ""),
        )

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
    """Pending comments and those with reports not yet decided, with why each is here.

    The comments that need attention come first: the most open reports, then the oldest.
    Comments held by reports (open reports from COMMENTS_REPORT_THRESHOLD distinct reporters)
    stay on the site until a moderator decides.
    """

    # Narrow enough for a 1366-pixel screen: the author and the article go under the excerpt.
    list_display = [
        "summary",
        "status",
        "reason_reports",
        "reason_phrase",
        "reason_watch_phrase",
        "reason_links",
        "reason_first_comment",
        "reason_premoderated",
        "waiting_since",
    ]
    # The summary holds its own links: to the comment's page here, and to its place on the site.
    list_display_links = None
    change_list_template = "admin/comments/commentqueue/change_list.html"
    # Oldest first, not in tree order: indenting by level would suggest a nesting.
    mptt_level_indent = 0
    # The queue is short beside the comments: every column may sort it.
    sortable_by = None
    # The commenter is not shown: joining it to every waiting comment before the sort costs.
    list_select_related = ["article"]
    list_filter = [
        "status",
        HoldReasonFilter,
        ReportReasonFilter,
        ReportedFilter,
        ArticleFilter,
        "is_duplicate",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .awaiting_review()
            .annotate(held=Q(open_report_count__gte=settings.COMMENTS_REPORT_THRESHOLD))
            .prefetch_related(
                "hold_reasons",
                Prefetch(
                    "reports", queryset=Report.objects.filter(resolved=False), to_attr="open"
                ),
            )
        )

    def get_ordering(self, request):
        return [F("open_report_count").desc(), F("created").asc(nulls_first=True), "pk"]

    def get_urls(self):
        # Imported here: the review screen runs this module's actions.
        from comments.review import review_view

        review = self.admin_site.admin_view(partial(review_view, model_admin=self))
        return [
            path("review/", review, name="comments_commentqueue_review"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"report_threshold": settings.COMMENTS_REPORT_THRESHOLD, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description="comment")
    def summary(self, obj):
        return format_html(
            '<a href="{}">{}</a><span class="queue-byline">{} on “{}” · <a href="{}">view</a>'
            "</span>",
            reverse("admin:comments_commentqueue_change", args=[obj.pk]),
            Truncator(" ".join(obj.body.split())).chars(90),
            obj.author_name,
            Truncator(obj.article.title).chars(40),
            obj.get_absolute_url(),
        )

    @admin.display(description="since", ordering="created")
    def waiting_since(self, obj):
        return f"{localtime(obj.created):%d %b %H:%M}" if obj.created else "—"

    @staticmethod
    def _reasons(obj, *codes: str) -> list[HoldReason]:
        return [reason for reason in obj.hold_reasons.all() if reason.code in codes]

    @admin.display(description="reports", ordering="open_report_count")
    def reason_reports(self, obj):
        """Open reports: how many and for what; "held" once they reach the threshold."""
        if not obj.open_report_count:
            return "—"
        reasons = sorted({REPORT_REASON_SHORT[report.reason] for report in obj.open})
        url = reverse("admin:comments_report_changelist")
        return format_html(
            '<a href="{}?comment__id__exact={}&amp;resolved__exact=0">{}</a>{}: {}',
            url,
            obj.pk,
            obj.open_report_count,
            " (held)" if obj.held else "",
            ", ".join(reasons),
        )

    @admin.display(description="phrase")
    def reason_phrase(self, obj):
        return ", ".join(reason.detail for reason in self._reasons(obj, "phrase")) or "—"

    @admin.display(description="watch")
    def reason_watch_phrase(self, obj):
        """A watch phrase of the comment's article (Admin › Articles, on the article's page)."""
        return ", ".join(reason.detail for reason in self._reasons(obj, "watch_phrase")) or "—"

    @admin.display(description="links")
    def reason_links(self, obj):
        return ", ".join(reason.detail for reason in self._reasons(obj, "links")) or "—"

    @admin.display(description="first")
    def reason_first_comment(self, obj):
        return "yes" if self._reasons(obj, "first_comment") else "—"

    @admin.display(description="pre-mod.")
    def reason_premoderated(self, obj):
        code = HoldReason.Code
        which = {
            code.COMMENTER_PREMODERATED: "commenter",
            code.ARTICLE_PREMODERATED: "article",
            code.SITE_PREMODERATED: "site",
        }
        return ", ".join(which[reason.code] for reason in self._reasons(obj, *which)) or "—"


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["comment_excerpt", "reason", "detail", "created", "resolved"]
    list_filter = ["reason", "resolved", "created"]
    search_fields = ["detail", "comment__body", "comment__author_name"]
    search_help_text = SEARCH_HELP_TEXT
    # The report's detail and the comment's words; the comment's author's address or the
    # reporter's, by email or IP address.
    SEARCH = SearchFields(
        text=("detail", "comment__body", "comment__author_name"),
        email=("comment__author_email", "email"),
        ip=("comment__ip_address", "ip_address"),
        commenter="comment__commenter",
    )
    list_select_related = ["comment"]
    fields = ["comment", "reason", "detail", "created", "ip_address", "resolved"]
    readonly_fields = ["comment", "reason", "detail", "created", "ip_address"]

    # Readers file reports from the site.
    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        return search_queryset(queryset, search_term, self.SEARCH), False

    @admin.display(description="comment", ordering="comment")
    def comment_excerpt(self, obj):
        return Truncator(" ".join(obj.comment.body.split())).chars(60)


@admin.register(BannedPhrase)
class BannedPhraseAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["phrase", "action", "created"]
    list_filter = ["action"]
    search_fields = ["phrase"]


class BlockInForceFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No, ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.in_force()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.in_force().values("pk"))
        return queryset


@admin.register(BlockedCommenter)
class BlockedCommenterAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ["value", "kind", "reason", "expires", "created", "created_by"]
    list_filter = ["kind", BlockInForceFilter]
    search_fields = ["value", "reason"]
    list_select_related = ["created_by"]
    fields = ["kind", "value", "reason", "expires", "created_by"]
    readonly_fields = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ModerationPolicy)
class ModerationPolicyAdmin(admin.ModelAdmin):
    """The single policy row: the list page opens it."""

    fieldsets = [
        (None, {"fields": ["mode"]}),
        (
            "Automatic pre-moderation of a commenter",
            {
                "description": "Off by default. The rule is judged each time a moderator "
                "removes one of a commenter’s comments or marks it as spam; the reason is "
                "written on the commenter’s record.",
                "fields": [
                    "auto_premoderation",
                    ("auto_premoderation_share", "auto_premoderation_window"),
                    "auto_premoderation_days",
                ],
            },
        ),
    ]
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


class StatusNowFilter(admin.SimpleListFilter):
    """The status in force now: a suspension or pre-moderation past its end counts as active."""

    title = "status now"
    parameter_name = "status_now"

    def lookups(self, request, model_admin):
        return Commenter.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Commenter.Status.values:
            return queryset.filter(status_now=self.value())
        return queryset


def _comments_url(commenter: Commenter, status: str | None = None) -> str:
    """The admin's comment list, showing only `commenter`'s comments (with `status`)."""
    query = f"?commenter__id__exact={commenter.pk}"
    if status:
        query += f"&status__exact={status}"
    return reverse("admin:comments_comment_changelist") + query


def _count_link(commenter: Commenter, count: int, status: str | None = None):
    if not count:
        return 0
    return format_html('<a href="{}">{}</a>', _comments_url(commenter, status), count)


@admin.register(Commenter)
class CommenterAdmin(admin.ModelAdmin):
    """The record of each commenter: the account's name, handle and badge, what became of
    their comments and the reports against them, and the moderation status a moderator gives
    them, with its reason and the moderators' notes."""

    RECENT = 10
    DECISIONS_SHOWN = 50

    list_display = [
        "display_name",
        "address",
        "status_now_display",
        "comment_counts",
        "reports",
    ]
    list_filter = [StatusNowFilter, "status", "profile_public"]
    search_fields = ["display_name", "handle", "user__email", "email"]
    search_help_text = SEARCH_HELP_TEXT
    # An email term matches the commenter's own address or their account's.
    SEARCH = SearchFields(text=("display_name", "handle"), commenter="pk")
    list_select_related = ["user"]
    fieldsets = [
        (
            None,
            {"fields": ["display_name", "handle", "user", "email", "badge", "profile_public",
                        "created"]},
        ),
        (
            "Record",
            {"fields": [("published", "held", "removed", "spam", "reports"), "recent_comments"]},
        ),
        (
            "Moderation",
            {
                "description": "A suspension and a pre-moderation end by themselves at "
                "their date. Suspended and banned commenters cannot post; the comments of a "
                "pre-moderated one are held for review.",
                "fields": [
                    "status_now_display",
                    "status",
                    "status_until",
                    "status_reason",
                    "notes",
                ],
            },
        ),
        ("Decision history", {"fields": ["decision_history"]}),
    ]
    readonly_fields = [
        "user",
        "email",
        "created",
        "published",
        "held",
        "removed",
        "spam",
        "reports",
        "recent_comments",
        "status_now_display",
        "decision_history",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_record().with_current_status()

    # Commenters come from sign-ups; the admin looks after them.
    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        return search_queryset(queryset, search_term, self.SEARCH), False

    @admin.display(description="decisions on their comments")
    def decision_history(self, obj):
        decisions = (
            Decision.objects.filter(comment__commenter=obj)
            .select_related("comment", "moderator")
            .order_by("-created", "-pk")[: self.DECISIONS_SHOWN]
        )
        return decisions_table(list(decisions))

    @admin.display(description="email address")
    def address(self, obj):
        return obj.user.email if obj.user is not None else obj.email

    @admin.display(description="status now", ordering="status_now")
    def status_now_display(self, obj):
        status = Commenter.Status(obj.status_now)
        if status != obj.status:
            ended = Commenter.Status(obj.status).label.lower()
            return f"{status.label} (the {ended} status ended {sanctions.moment(obj.status_until)})"
        if obj.status_until is not None and status in Commenter.TIMED:
            return f"{status.label} until {sanctions.moment(obj.status_until)}"
        return status.label

    @admin.display(description="comments")
    def comment_counts(self, obj):
        """The four counts in one column, which leaves the list room on a laptop's screen."""
        counts = [
            (obj.published_count, Comment.Status.PUBLISHED, "published"),
            (obj.pending_count, Comment.Status.PENDING, "held"),
            (obj.removed_count, Comment.Status.REMOVED, "removed"),
            (obj.spam_count, Comment.Status.SPAM, "spam"),
        ]
        shown = [(count, status, label) for count, status, label in counts if count]
        if not shown:
            return "none"
        return format_html_join(
            ", ",
            '<a href="{}">{}&nbsp;{}</a>',
            ((_comments_url(obj, status), count, label) for count, status, label in shown),
        )

    @admin.display(description="published", ordering="published_count")
    def published(self, obj):
        return _count_link(obj, obj.published_count, Comment.Status.PUBLISHED)

    @admin.display(description="held", ordering="pending_count")
    def held(self, obj):
        return _count_link(obj, obj.pending_count, Comment.Status.PENDING)

    @admin.display(description="removed", ordering="removed_count")
    def removed(self, obj):
        return _count_link(obj, obj.removed_count, Comment.Status.REMOVED)

    @admin.display(description="spam", ordering="spam_count")
    def spam(self, obj):
        return _count_link(obj, obj.spam_count, Comment.Status.SPAM)

    @admin.display(description="reports", ordering="report_count")
    def reports(self, obj):
        if not obj.report_count:
            return 0
        return format_html(
            '<a href="{}&amp;reported=yes">{}</a>', _comments_url(obj), obj.report_count
        )

    @admin.display(description="latest comments")
    def recent_comments(self, obj):
        comments = list(
            obj.comments.select_related("article").order_by(
                F("created").desc(nulls_last=True), "-pk"
            )[: self.RECENT]
        )
        if not comments:
            return "No comments yet."
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a><br>{}{} · on “{}”{}</li>',
            (
                (
                    reverse("admin:comments_comment_change", args=[comment.pk]),
                    Truncator(" ".join(comment.body.split())).chars(80),
                    comment.get_status_display(),
                    f" · {sanctions.moment(comment.created)}" if comment.created else "",
                    Truncator(comment.article.title).chars(60),
                    # Only a published comment has a place on the site.
                    format_html(' · <a href="{}">on the site</a>', comment.get_absolute_url())
                    if comment.status == Comment.Status.PUBLISHED
                    else "",
                )
                for comment in comments
            ),
        )
        return format_html(
            '<ol class="commenter-comments">{}</ol><p><a href="{}">All their comments</a></p>',
            items,
            _comments_url(obj),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.commenter_comments_refresh(commenter=obj)


@admin.register(ReservedName)
class ReservedNameAdmin(admin.ModelAdmin):
    """Names no reader may comment under, nor under a look-alike (comments/identity.py)."""

    view_on_site = False
    list_display = ["name", "note", "created"]
    search_fields = ["name", "note"]
