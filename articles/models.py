from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections, models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

SEARCH_MAX_LENGTH = 200
EXCERPT_WORDS = 40
# What the article list shows of each article; the rest (the whole body above all) stays unread.
LISTING_DEFERRED = ("body", "body_text", "captions", "discussion_policy")


def excerpt_of(body: list[dict]) -> str:
    """The start of the body's first paragraph, as the article list shows it."""
    first = next((block["text"] for block in body if block["type"] == "paragraph"), "")
    return Truncator(first).words(EXCERPT_WORDS, truncate=" …")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__lte=timezone.now())

    def with_comment_counts(self):
        """Annotate `visible_comment_count`: the comments a reader can see."""
        return self.annotate(
            visible_comment_count=Count("comments", filter=Q(comments__status="published"))
        )

    def listing(self, query: str = ""):
        """What readers browse: published articles matching `query`, newest first, counted.

        Only what the list shows is read: the stored excerpt, not the body. The ordering is
        explicit because a query with GROUP BY ignores Meta.ordering.
        """
        return (
            self.published()
            .search(query)
            .with_comment_counts()
            .defer(*LISTING_DEFERRED)
            .order_by(*self.model._meta.ordering)
        )

    def search(self, query: str):
        """Articles whose title or body hold every word of `query`.

        Full-text search (English stemming, web-search syntax that never fails to parse) on
        PostgreSQL; a case-insensitive match of each word elsewhere.
        """
        query = " ".join(query.split())[:SEARCH_MAX_LENGTH]
        if not query:
            return self
        if connections[self.db].vendor == "postgresql":
            # alias(), not annotate(): the document is matched, never sent back with the rows.
            return self.alias(
                search_document=SearchVector("title", "body_text", config="english")
            ).filter(search_document=SearchQuery(query, config="english", search_type="websearch"))
        words = Q()
        for word in query.split():
            words &= Q(title__icontains=word) | Q(body_text__icontains=word)
        return self.filter(words)


class Article(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    # The file name without its extension: a re-import of the same file updates this row.
    source_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    publication = models.CharField(max_length=200, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    byline = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    agency = models.CharField(max_length=200, blank=True)
    captions = models.JSONField(default=list, blank=True)
    # Ordered blocks: [{"type": "paragraph" | "heading", "text": "..."}].
    body = models.JSONField(default=list, blank=True)
    # The body's text, kept for search.
    body_text = models.TextField(blank=True, editable=False)
    # The start of the first paragraph, kept for the article list (which reads no body).
    excerpt = models.TextField(blank=True, editable=False)
    discussion_policy = models.TextField(blank=True)
    comments_open = models.BooleanField(default=True)
    premoderated = models.BooleanField(
        default=False, help_text="Every new comment on this article waits for a moderator."
    )
    published_at = models.DateTimeField(default=timezone.now, db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.body_text = "\n\n".join(block["text"] for block in self.body)
        self.excerpt = excerpt_of(self.body)
        if kwargs.get("update_fields") is not None and "body" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_text", "excerpt"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def discussion_open(self) -> bool:
        """Whether readers may post: comments open, and not past COMMENTS_CLOSE_AFTER_DAYS."""
        if not self.comments_open:
            return False
        days = settings.COMMENTS_CLOSE_AFTER_DAYS
        return days is None or timezone.now() < self.published_at + timedelta(days=days)
