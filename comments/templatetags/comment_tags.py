from django import template
from django.template.defaultfilters import pluralize

from comments.feedback import FORM_FEEDBACK
from comments.forms import CommentForm
from comments.guests import CLOSED, guest_policy, is_verified_here, sign_in_url
from comments.rendering import created_html, discussion_html
from comments.text import body_html

register = template.Library()


@register.inclusion_tag("comments/includes/comment_form.html", takes_context=True)
def comment_form(context, article, form=None, parent=None):
    """The form for a new comment, or a reply to `parent`, on `article`.

    A fresh form starts with the name and email the reader asked this browser to remember; a
    fresh form for a new thread is the article's composer. A form with errors puts the focus
    on its first field in error, and the messages tagged FORM_FEEDBACK (a held comment's
    confirmation) show in the form. Under COMMENTS_GUESTS=closed a guest is invited to sign in
    instead (`sign_in_url`).

    "Email me when someone replies" is offered to the readers mail can reach: accounts, and a
    guest whose address in the form (remembered, or typed before an error) this browser has
    confirmed. Such a form is the guest's own: the shared page copy never holds one, since a
    reader with a remembered address is not a plain reader (articles/page_cache.py).
    """
    request = context.get("request")
    composer = form is None and parent is None
    if form is None:
        form = CommentForm(initial=CommentForm.initial_for(request, parent=parent))
    signed_in = request is not None and request.user.is_authenticated
    reply_mail_offered = signed_in or (
        request is not None and _guest_email_verified(request, form)
    )
    first_error = None
    if form.errors:
        fields = [field for field in form.text_fields() if field.errors] or [form["body"]]
        first_error = fields[0].name
    return {
        "sign_in_url": (
            sign_in_url(article, parent=parent)
            if guest_policy() == CLOSED and not signed_in
            else ""
        ),
        "article": article,
        "form": form,
        "parent": parent,
        "open": article.discussion_open(),
        "composer": composer,
        "reply_mail_offered": reply_mail_offered,
        "first_error": first_error,
        "feedback": [
            message
            for message in context.get("messages", ())
            if message.extra_tags == FORM_FEEDBACK
        ],
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


def _guest_email_verified(request, form) -> bool:
    email = form["email"].value() if "email" in form.fields else None
    return bool(email) and isinstance(email, str) and is_verified_here(request, email)


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
