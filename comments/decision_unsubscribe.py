"""The page that stops the mail about a reader's published comments, reached from that mail's
link without signing in. A mail program's one-click unsubscribe (RFC 8058) posts
`List-Unsubscribe=One-Click` to the same address and gets no page."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comments.decision_mail import PUBLISHED_MAIL_SALT, published_mail_set, published_mail_wanted
from comments.models import Commenter
from comments.signed_links import LinkInvalid
from comments.subscriptions import unsubscribe_token_read
from comments.unsubscribe import is_one_click, link_refused


# The signed token in the address authorises the post (a mail program's one-click post carries
# no CSRF cookie), and it only ever stops mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def decision_mail_stop(request, token):
    one_click = is_one_click(request)
    try:
        scope = unsubscribe_token_read(token, salt=PUBLISHED_MAIL_SALT)
    except LinkInvalid as error:
        return link_refused(
            request, error, one_click=one_click, template="comments/decision_mail_invalid.html"
        )
    commenter = get_object_or_404(Commenter, pk=scope.commenter_id)
    if one_click:
        published_mail_set(commenter=commenter, published=False)
        return HttpResponse(status=204)
    if request.method == "POST":
        stopped = published_mail_set(commenter=commenter, published=False)
        return render(
            request,
            "comments/decision_mail_stopped.html",
            {"stopped": stopped, "commenter": commenter},
        )
    return render(
        request,
        "comments/decision_mail_stop.html",
        {"token": token, "wanted": published_mail_wanted(commenter), "commenter": commenter},
    )
