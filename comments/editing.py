"""The pages where readers edit and delete their own comments (comments/ownership.py says
whose a comment is)."""

import math

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from comments import services
from comments.client import client_ip
from comments.feedback import FORM_FEEDBACK, posted_tag
from comments.forms import CommentEditForm
from comments.locks import lock_timeout_seconds
from comments.models import Comment, commented_model
from comments.ownership import edit_deadline, edit_window_open, is_author
from comments.ratelimit import posting_throttle
from comments.session import own_pending_add
from newsroom.locking import LockTimeout

NOT_YOURS = (
    "You can only change your own comments: from the account that wrote them, or, for a "
    "comment posted without an account, from the browser that posted it."
)
REJECTED = "A moderator has removed this comment, so it can no longer be changed."


def _comment(slug: str, pk: int) -> Comment:
    """A comment of a published article that its author has not deleted."""
    article = get_object_or_404(commented_model().objects.published(), slug=slug)
    return get_object_or_404(
        Comment.objects.for_article(article)
        .exclude(status=Comment.Status.DELETED)
        .select_related("article", "commenter"),
        pk=pk,
    )


def _forbidden(request, comment: Comment, message: str, *, can_delete: bool = False):
    return render(
        request,
        "comments/comment_forbidden.html",
        {
            "article": comment.article,
            "comment": comment,
            "message": message,
            "can_delete": can_delete,
        },
        status=403,
    )


def _refusal(request, comment: Comment) -> str:
    """Why the reader may not change `comment`, or "" when they may."""
    if not is_author(request, comment):
        return NOT_YOURS
    if comment.status in (Comment.Status.REMOVED, Comment.Status.SPAM):
        return REJECTED
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def comment_edit(request, slug, pk):
    comment = _comment(slug, pk)
    if refusal := _refusal(request, comment):
        return _forbidden(request, comment, refusal)
    if not edit_window_open(comment):
        minutes = settings.COMMENTS_EDIT_MINUTES
        message = (
            f"The time to edit this comment is over: a comment can be edited for {minutes} "
            f"minutes after it is posted. You can still delete it."
            if minutes and edit_deadline(comment)
            else "This comment cannot be edited. You can still delete it."
        )
        return _forbidden(request, comment, message, can_delete=True)

    form = CommentEditForm(
        request.POST if request.method == "POST" else None, initial={"body": comment.body}
    )
    context = {"article": comment.article, "comment": comment, "form": form}
    if request.method == "GET" or not form.is_valid():
        status = 400 if form.is_bound else 200
        return _edit_page(request, context, status=status)
    staff = request.user.is_authenticated and request.user.is_staff
    if not staff:
        retry_after = posting_throttle(ip_address=client_ip(request), email=comment.author_email)
        if retry_after is not None:
            response = render(
                request,
                "429.html",
                {"article": comment.article, "retry_after": retry_after, "what": "edits"},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
    try:
        result = services.comment_edit(
            comment_id=comment.pk,
            body=form.cleaned_data["body"],
            editor=request.user if request.user.is_authenticated else None,
            ip_address=client_ip(request),
            staff=staff,
        )
    except LockTimeout:
        context["busy"] = True
        response = _edit_page(request, context, status=503)
        response["Retry-After"] = str(math.ceil(lock_timeout_seconds()))
        return response
    if result.comment is None:
        form.add_error("body", result.refused)
        return _edit_page(request, context, status=400)
    if result.held:
        own_pending_add(request.session, comment.pk)
        messages.info(
            request,
            "Your comment is saved and is awaiting moderation: other readers will see it once "
            "a moderator has approved it.",
            extra_tags=FORM_FEEDBACK,
        )
    else:
        messages.success(
            request, "Your comment is saved.", extra_tags=posted_tag(comment.pk)
        )
    return redirect(comment.get_absolute_url())


def _edit_page(request, context: dict, *, status: int):
    context["deadline"] = edit_deadline(context["comment"])
    return render(request, "comments/comment_edit.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def comment_delete(request, slug, pk):
    """One confirmation step, then the comment leaves the page for good."""
    comment = _comment(slug, pk)
    if not is_author(request, comment):
        return _forbidden(request, comment, NOT_YOURS)
    if request.method == "GET":
        return render(
            request,
            "comments/comment_delete.html",
            {"article": comment.article, "comment": comment},
        )
    try:
        services.comment_delete_by_author(comment_id=comment.pk)
    except LockTimeout:
        response = render(
            request,
            "comments/comment_delete.html",
            {"article": comment.article, "comment": comment, "busy": True},
            status=503,
        )
        response["Retry-After"] = str(math.ceil(lock_timeout_seconds()))
        return response
    messages.success(request, "Your comment is deleted.")
    return redirect(f"{comment.article.get_absolute_url()}#comments")
