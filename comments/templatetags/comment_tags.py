from django import template
from django.template.defaultfilters import pluralize

from comments.form_html import comment_form_html
from comments.rendering import created_html, discussion_html
from comments.text import body_html

register = template.Library()


@register.simple_tag(takes_context=True)
def comment_form(context, article, form=None, parent=None):
    """The form for a new comment, or a reply to `parent`, on `article` (comments/form_html.py),
    for the page's reader, with the confirmations among the page's messages that belong at the
    form."""
    return comment_form_html(
        article,
        request=context.get("request"),
        form=form,
        parent=parent,
        messages=context.get("messages", ()),
        csrf_token=context.get("csrf_token"),
    )


@register.simple_tag
def discussion_comments(discussion, article):
    """The nested comments of one page of the discussion (comments/rendering.py)."""
    return discussion_html(discussion.items, article=article)


@register.filter
def comment_body(text: str):
    """A comment's body as HTML, as the discussion shows it."""
    return body_html(text)


@register.filter
def comment_date(created):
    """A comment's date as a <time> element, as the discussion shows it."""
    return created_html(created)


@register.filter
def approximate_wait(seconds: int) -> str:
    """A wait as a reader reads it: "about 6 minutes" for 356 seconds, "about 40 seconds"."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 55:
        return f"about {int(seconds / 10 + 0.5) * 10} seconds"
    minutes = max(1, int(seconds / 60 + 0.5))
    if minutes < 60:
        return f"about {minutes} minute{pluralize(minutes)}"
    hours = int(seconds / 3600 + 0.5)
    return f"about {hours} hour{pluralize(hours)}"
