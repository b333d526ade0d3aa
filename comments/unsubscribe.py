"""The page that stops reply mail, reached from a mail's link without signing in.

The signed token in the address says whose mail and which thread. A mail program's one-click
unsubscribe (RFC 8058) posts `List-Unsubscribe=One-Click` to the same address and gets no page.
"""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comments.models import Comment
from comments.signed_links import LinkInvalid
from comments.subscriptions import (
    UNSUBSCRIBE_MAX_AGE,
    Unsubscribe,
    reply_mail_stop,
    unsubscribe_pending,
    unsubscribe_token_read,
)

ONE_CLICK = ("List-Unsubscribe", "One-Click")


def is_one_click(request) -> bool:
    """A mail program's one-click unsubscribe (RFC 8058), not a reader's visit."""
    return request.method == "POST" and request.POST.get(ONE_CLICK[0]) == ONE_CLICK[1]


def link_refused(request, error: LinkInvalid, *, one_click: bool, template: str):
    """The answer to an altered or expired unsubscribe link: a page saying which, or a plain
    400 for a mail program."""
    if one_click:
        return HttpResponse(
            "This unsubscribe link is not valid.", status=400, content_type="text/plain"
        )
    return render(
        request,
        template,
        {"expired": error.expired, "max_age_days": UNSUBSCRIBE_MAX_AGE.days},
        status=400,
    )


def _thread(scope: Unsubscribe) -> Comment | None:
    if scope.thread_id is None:
        return None
    return Comment.objects.select_related("article").filter(pk=scope.thread_id).first()


# A mail program's one-click post carries no CSRF cookie (RFC 8058); the signed token in the
# address is what authorises the post, and it only ever stops mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    one_click = is_one_click(request)
    try:
        scope = unsubscribe_token_read(token)
    except LinkInvalid as error:
        return link_refused(
            request, error, one_click=one_click, template="comments/unsubscribe_invalid.html"
        )
    if one_click:
        reply_mail_stop(commenter_id=scope.commenter_id, thread_id=scope.thread_id)
        return HttpResponse(status=204)

    context = {"thread": _thread(scope), "token": token}
    if request.method == "POST":
        choice = request.POST.get("scope")
        if choice == "all" or (choice == "thread" and context["thread"] is not None):
            everything = choice == "all"
            stopped = reply_mail_stop(
                commenter_id=scope.commenter_id,
                thread_id=None if everything else scope.thread_id,
            )
            context.update(stopped=stopped, everything=everything)
            return render(request, "comments/unsubscribed.html", context)
        context["choice_missing"] = True
    context["pending"] = unsubscribe_pending(scope)
    return render(
        request,
        "comments/unsubscribe.html",
        context,
        status=400 if context.get("choice_missing") else 200,
    )
