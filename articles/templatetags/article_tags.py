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
