from django import template

from comments.forms import CommentForm

register = template.Library()


@register.inclusion_tag("comments/includes/comment_form.html", takes_context=True)
def comment_form(context, article, form=None, parent=None):
    """The form for a new comment, or a reply to `parent`, on `article`."""
    if form is None:
        form = CommentForm(initial={"parent": parent.pk if parent else None})
    return {
        "article": article,
        "form": form,
        "parent": parent,
        "open": article.discussion_open(),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
