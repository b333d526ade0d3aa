from django import template

from comments.forms import CommentForm

register = template.Library()


@register.inclusion_tag("comments/includes/comment_form.html", takes_context=True)
def comment_form(context, article, form=None, parent=None):
    """The form for a new comment, or a reply to `parent`, on `article`.

    A fresh form starts with the name and email the reader asked this browser to remember.
    """
    request = context.get("request")
    if form is None:
        form = CommentForm(initial=CommentForm.initial_for(request, parent=parent))
    return {
        "article": article,
        "form": form,
        "parent": parent,
        "open": article.discussion_open(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
