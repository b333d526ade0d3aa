"""Articles in the admin: the list with comment counts, and opening or closing discussions."""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from articles.models import Article
from articles.services import discussions_set_open
from comments.admin_inlines import WatchPhraseInline
from comments.models import Comment


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "publication",
        "published_at",
        "comments_open",
        "premoderated",
        "visible_comments",
        "waiting_comments",
        "on_site",
    ]
    list_filter = ["publication", "comments_open", "premoderated", "published_at"]
    search_fields = ["title", "byline", "publication", "body_text"]
    readonly_fields = ["source_key", "created", "updated"]
    prepopulated_fields = {"slug": ["title"]}
    list_per_page = 50
    actions = ["open_comments", "close_comments"]
    inlines = [WatchPhraseInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_comment_counts()
            .annotate(
                waiting_comment_count=Count(
                    "comments", filter=Q(comments__status=Comment.Status.PENDING)
                )
            )
        )

    @admin.display(description="visible comments", ordering="visible_comment_count")
    def visible_comments(self, obj):
        return obj.visible_comment_count

    @admin.display(description="waiting comments", ordering="waiting_comment_count")
    def waiting_comments(self, obj):
        if not obj.waiting_comment_count:
            return 0
        url = reverse("admin:comments_commentqueue_changelist")
        return format_html(
            '<a href="{}?article__id__exact={}">{}</a>', url, obj.pk, obj.waiting_comment_count
        )

    @admin.display(description="page")
    def on_site(self, obj):
        return format_html('<a href="{}">view</a>', obj.get_absolute_url())

    def _discussions_set(self, request, queryset, *, is_open: bool) -> None:
        changed = discussions_set_open(articles=queryset, is_open=is_open)
        if changed:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=changed,
                action_flag=CHANGE,
                change_message="Comments opened." if is_open else "Comments closed.",
            )
        count = len(changed)
        verb = "opened" if is_open else "closed"
        text = ngettext(
            "Comments %(verb)s on %(count)d article.",
            "Comments %(verb)s on %(count)d articles.",
            count,
        ) % {"verb": verb, "count": count}
        self.message_user(request, text, messages.SUCCESS if count else messages.WARNING)

    @admin.action(description="Open comments on selected articles", permissions=["change"])
    def open_comments(self, request, queryset):
        self._discussions_set(request, queryset, is_open=True)

    @admin.action(description="Close comments on selected articles", permissions=["change"])
    def close_comments(self, request, queryset):
        self._discussions_set(request, queryset, is_open=False)
