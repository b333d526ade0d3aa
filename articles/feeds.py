import re

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import format_html

from articles.models import Article
from comments.models import Comment
from comments.text import body_html
from newsroom.conditional_get import revalidated

FEED_ITEMS = 20
# What XML 1.0 cannot hold, and Django's feed writer refuses (UnserializableContentError).
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value):
    return NOT_XML.sub("", value) if isinstance(value, str) else value


class XmlSafeRssFeed(Rss201rev2Feed):
    """RSS that drops the characters XML cannot hold from every text, so no stored value
    (a comment posted before the form refused control characters, say) breaks a feed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*map(_xml_text, args), **{k: _xml_text(v) for k, v in kwargs.items()})

    def add_item(self, *args, **kwargs):
        super().add_item(*map(_xml_text, args), **{k: _xml_text(v) for k, v in kwargs.items()})

    def latest_post_date(self):
        """The channel's lastBuildDate. Without a dated item Django's is now, which changes the
        feed, and its ETag, every second: the feed's `undated_build_date` stands in then."""
        if self.feed.get("undated_build_date") and not any(
            item["pubdate"] or item["updateddate"] for item in self.items
        ):
            return self.feed["undated_build_date"]
        return super().latest_post_date()


class RevalidatedFeed(Feed):
    """A feed that feed readers poll cheaply: validators, and 304 when nothing changed.

    It replaces the Last-Modified date Django's feeds take from the newest item, which stays
    put when an item is removed.
    """

    feed_type = XmlSafeRssFeed

    @method_decorator(revalidated)
    def __call__(self, request, *args, **kwargs):
        return super().__call__(request, *args, **kwargs)


class LatestArticlesFeed(RevalidatedFeed):
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


class ArticleCommentsFeed(RevalidatedFeed):
    """The latest published comments of one article; imported comments carry no date and
    come after dated ones, newest import first."""

    def get_object(self, request, slug):
        return get_object_or_404(Article.objects.published(), slug=slug)

    def feed_extra_kwargs(self, obj):
        # Imported comments carry no date.
        return {"undated_build_date": obj.published_at}

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


class ArticlePicksFeed(ArticleCommentsFeed):
    """An article's editors' picks, the latest picked first, each with its public note."""

    def title(self, obj):
        return f"Editors’ picks on {obj.title}"

    def description(self, obj):
        return f"The comments the editors picked from the discussion of {obj.title}."

    def items(self, obj):
        return (
            Comment.objects.for_article(obj)
            .visible()
            .filter(featured=True)
            .select_related("article")
            .order_by(F("featured_at").desc(nulls_last=True), "-pk")[:FEED_ITEMS]
        )

    def item_description(self, item):
        body = body_html(item.body)
        if item.featured_note:
            return format_html("<p><em>{}</em></p>{}", item.featured_note, body)
        return body

    def item_pubdate(self, item):
        return item.featured_at
