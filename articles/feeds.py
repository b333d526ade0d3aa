from django.contrib.syndication.views import Feed
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.urls import reverse

from articles.models import Article
from comments.models import Comment
from comments.text import body_html

FEED_ITEMS = 20


class LatestArticlesFeed(Feed):
    title = "Newsroom: latest articles"
    description = "The newest articles of the paper."

    def link(self):
        return reverse("articles:list")

    def items(self):
        return Article.objects.published()[:FEED_ITEMS]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        paragraphs = [block["text"] for block in item.body if block["type"] == "paragraph"]
        return body_html(paragraphs[0]) if paragraphs else ""

    def item_pubdate(self, item):
        return item.published_at

    def item_author_name(self, item):
        return item.byline or None


class ArticleCommentsFeed(Feed):
    """The latest published comments of one article; imported comments carry no date and
    come after dated ones, newest import first."""

    def get_object(self, request, slug):
        return get_object_or_404(Article.objects.published(), slug=slug)

    def title(self, obj):
        return f"Comments on {obj.title}"

    def description(self, obj):
        return f"The latest readers' comments on {obj.title}."

    def link(self, obj):
        return f"{obj.get_absolute_url()}#comments"

    def items(self, obj):
        return (
            Comment.objects.for_article(obj)
            .visible()
            .select_related("article")
            .order_by(F("created").desc(nulls_last=True), "-pk")[:FEED_ITEMS]
        )

    def item_title(self, item):
        return f"{item.author_name} on {item.article.title}"

    def item_description(self, item):
        return body_html(item.body)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_pubdate(self, item):
        return item.created

    def item_author_name(self, item):
        return item.author_name
