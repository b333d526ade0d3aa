from django import template

from articles import structured_data

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_url(context, path: str) -> str:
    """`path` as an absolute URL on the host the reader asked for."""
    return context["request"].build_absolute_uri(path)


@register.filter
def iso_datetime(value):
    """A date as the pages' `datetime` attributes give it: ISO 8601, to the second."""
    return structured_data.iso_datetime(value)


@register.simple_tag(takes_context=True)
def news_article_json_ld(context, article, discussion):
    """The schema.org NewsArticle of the page, with the comments it shows (JSON-LD)."""
    record = structured_data.news_article(
        article, discussion.items, absolute_url=context["request"].build_absolute_uri
    )
    return structured_data.json_ld(record)
