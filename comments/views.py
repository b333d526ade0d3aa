import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Model
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comments import recommendations, services
from comments.client import client_ip
from comments.feedback import FORM_FEEDBACK, posted_tag, recommended_tag, reported_tag
from comments.forms import (
    AUTHOR_COOKIE,
    EMAIL_COOKIE,
    REMEMBER_MAX_AGE,
    AccountCommentForm,
    CommentForm,
    ReportForm,
    remember_cookie_value,
)
from comments.guests import (
    CLOSED,
    LINK_HOURS,
    VERIFY,
    guest_policy,
    is_verified_here,
    link_read,
    sign_in_url,
    verified_cookie_set,
)
from comments.identity import RESERVED_MESSAGE, has_verified_email, is_reserved
from comments.locks import lock_timeout_seconds
from comments.models import Comment, UnconfirmedComment, commented_model
from comments.ownership import edit_window_open, own_cookie_add
from comments.ratelimit import posting_throttle, report_throttle
from comments.sanctions import posting_refusal
from comments.session import own_pending_add
from comments.signed_links import LinkInvalid
from comments.subscriptions import reply_subscription_create
from comments.templatetags.comment_tags import approximate_wait
from newsroom.locking import LockTimeout


def _article(slug: str) -> Model:
    return get_object_or_404(commented_model().objects.published(), slug=slug)


def _closed(request, article: Model):
    return render(request, "comments/closed.html", {"article": article}, status=403)


def _replied_to(article: Model, form: CommentForm) -> Comment | None:
    """The visible comment the form replies to, if any, to show above the form again."""
    parent_id = form.cleaned_data.get("parent")
    if parent_id is None:
        return None
    return Comment.objects.for_article(article).visible().filter(pk=parent_id).first()


def _form_page(request, article: Model, form: CommentForm, *, forbidden: bool = False):
    """The form again, with its messages and everything typed, and the comment replied to.

    `forbidden`: the commenter may not post now (suspended or banned), whatever they correct.
    """
    return render(
        request,
        "comments/comment_form_page.html",
        {
            "article": article,
            "form": form,
            "parent": _replied_to(article, form),
            "forbidden": forbidden,
        },
        status=403 if forbidden else 400,
    )


def _too_many(request, article: Model, retry_after: int, *, what: str):
    response = render(
        request,
        "429.html",
        {"article": article, "retry_after": retry_after, "what": what},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _busy(request, article: Model, form: CommentForm):
    """The discussion's lock stayed taken too long: nothing was stored, the form is kept."""
    retry_after = math.ceil(lock_timeout_seconds())
    context = {
        "article": article,
        "form": form,
        "parent": _replied_to(article, form),
        "retry_after": retry_after,
    }
    response = render(
        request,
        "comments/comment_busy.html",
        context,
        status=503,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _remember_author(response, form: CommentForm) -> None:
    """Keep the author's name and email in signed cookies when asked, or forget them."""
    if form.cleaned_data["remember"]:
        for cookie, value in (
            (AUTHOR_COOKIE, form.cleaned_data["name"]),
            (EMAIL_COOKIE, form.cleaned_data["email"]),
        ):
            response.set_cookie(
                cookie,
                remember_cookie_value(value),
                max_age=REMEMBER_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
    else:
        response.delete_cookie(AUTHOR_COOKIE, samesite="Lax")
        response.delete_cookie(EMAIL_COOKIE, samesite="Lax")


def _unverified(request, article: Model):
    """A signed-in reader whose address is not verified yet: nothing is stored."""
    return render(request, "comments/unverified.html", {"article": article}, status=403)


@require_POST
def comment_post(request, slug):
    article = _article(slug)
    if not article.discussion_open():
        return _closed(request, article)
    # A signed-in reader comments as the account: its name and verified address, no fields.
    account = request.user if request.user.is_authenticated else None
    staff = account is not None and account.is_staff
    if account is not None and not staff and not has_verified_email(account):
        return _unverified(request, article)
    if account is None and guest_policy() == CLOSED:
        return _guests_closed(request, article)
    form = (AccountCommentForm if account else CommentForm)(request.POST, article=article)
    if form.is_trap_filled():
        # Answer a bot as if it had succeeded, so it learns nothing.
        return redirect(f"{article.get_absolute_url()}#comments")
    if not form.is_valid():
        return _form_page(request, article, form)

    commenter = None
    if account is None:
        author_name, author_email = form.cleaned_data["name"], form.cleaned_data["email"]
    else:
        commenter = services.commenter_for_user(user=account)
        author_name, author_email = commenter.display_name, account.email
        # A name reserved after the account chose it is not posted under either.
        if not staff and is_reserved(author_name):
            form.add_error(None, f"{RESERVED_MESSAGE} (Change it in your account settings.)")
            return _form_page(request, article, form)

    ip_address = client_ip(request)
    if not staff:
        retry_after = posting_throttle(ip_address=ip_address, email=author_email)
        if retry_after is not None:
            return _too_many(request, article, retry_after, what="comments")

    # An address this browser confirmed is a verified identity; any other is only typed.
    if account is None and is_verified_here(request, author_email):
        commenter = services.commenter_for_email(email=author_email, display_name=author_name)
    elif account is None and guest_policy() == VERIFY:
        return _guest_submit(request, article, form, ip_address=ip_address)

    try:
        result = services.comment_post(
            article=article,
            parent_id=form.cleaned_data["parent"],
            author_name=author_name,
            author_email=author_email,
            body=form.cleaned_data["body"],
            ip_address=ip_address,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            commenter=commenter,
            staff=staff,
        )
    except LockTimeout:
        return _busy(request, article, form)
    if result.comment is None:
        form.add_error(result.refused_field, result.refused)
        return _form_page(request, article, form, forbidden=result.forbidden)

    if commenter is not None and form.cleaned_data.get("notify_replies"):
        reply_subscription_create(comment=result.comment, commenter=commenter)
    response = _posted(request, result)
    if account is None:
        _remember_author(response, form)
    return response


def _posted(request, result: services.PostResult):
    """Send the author to their new comment, saying whether it is published or held, with a
    link to edit it while it may be edited; this browser remembers the comment as its own
    (comments/ownership.py)."""
    comment = result.comment
    if result.pending:
        own_pending_add(request.session, comment.pk)
        text = (
            "Thank you. Your comment is awaiting moderation: other readers will see it once a "
            "moderator has approved it."
        )
        level, tags = messages.INFO, FORM_FEEDBACK
    else:
        text = "Thank you, your comment is published."
        level, tags = messages.SUCCESS, posted_tag(comment.pk)
    if edit_window_open(comment):
        url = reverse(
            "comments:edit", kwargs={"slug": comment.article.slug, "pk": comment.pk}
        )
        minutes = settings.COMMENTS_EDIT_MINUTES
        text = format_html(
            '{} <a href="{}">Edit it</a> (for {} minutes).', text, url, minutes
        )
    messages.add_message(request, level, text, extra_tags=tags)
    response = redirect(comment.get_absolute_url())
    own_cookie_add(response, request, comment)
    return response


def _guests_closed(request, article: Model):
    """COMMENTS_GUESTS=closed and a guest posted anyway: nothing is stored."""
    return render(
        request,
        "comments/guests_closed.html",
        {"article": article, "sign_in_url": sign_in_url(article)},
        status=403,
    )


def _guest_submit(request, article: Model, form: CommentForm, *, ip_address: str | None):
    """COMMENTS_GUESTS=verify: keep the comment unconfirmed and mail the guest its link."""
    email = form.cleaned_data["email"]
    try:
        result = services.guest_comment_submit(
            article=article,
            parent_id=form.cleaned_data["parent"],
            author_name=form.cleaned_data["name"],
            author_email=email,
            body=form.cleaned_data["body"],
            ip_address=ip_address,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except LockTimeout:
        return _busy(request, article, form)
    if result.unconfirmed is None:
        form.add_error(None, result.refused)
        return _form_page(request, article, form)
    messages.info(
        request,
        f"Check your email: we sent a link to {email}. Your comment will appear once you "
        f"follow it (within {LINK_HOURS} hours). If no mail comes, look in your spam folder.",
    )
    parent = _replied_to(article, form)
    response = redirect(
        parent.get_absolute_url() if parent else f"{article.get_absolute_url()}#comments"
    )
    _remember_author(response, form)
    return response


def _link_problem(request, problem: str, *, status: int, article: Model | None = None):
    """A confirmation link that cannot be used: expired, invalid or used before."""
    return render(
        request,
        "comments/guest_link_problem.html",
        {"problem": problem, "article": article, "hours": LINK_HOURS},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def guest_comment_confirm(request, token):
    """The page a confirmation link opens: the comment, and a button that posts it.

    A GET changes nothing: mail scanners and link previews open links in mail before (or
    instead of) the reader, and the click must be the reader's, in the browser that will
    remember their address.
    """
    try:
        target = link_read(token)
    except LinkInvalid as problem:
        if problem.expired:
            return _link_problem(request, "expired", status=410)
        return _link_problem(request, "invalid", status=400)

    if request.method == "GET":
        unconfirmed = (
            UnconfirmedComment.objects.select_related("article")
            .filter(pk=target.pk, nonce=target.nonce)
            .first()
        )
        if unconfirmed is None:
            return _link_problem(request, "used", status=410)
        return _confirm_page(request, unconfirmed)

    try:
        result = services.guest_comment_confirm(pk=target.pk, nonce=target.nonce)
    except LockTimeout:
        unconfirmed = UnconfirmedComment.objects.filter(pk=target.pk).first()
        if unconfirmed is None:
            return _link_problem(request, "used", status=410)
        return _confirm_page(request, unconfirmed, busy=True)
    if result.used:
        return _link_problem(request, "used", status=410)
    if result.closed:
        return _closed(request, result.unconfirmed.article)

    posted = result.posted
    if posted.comment is not None:
        response = _posted(request, posted)
    else:
        response = _form_page(request, result.unconfirmed.article, _refused_form(result))
    verified_cookie_set(response, request, result.commenter.email)
    return response


def _confirm_page(request, unconfirmed: UnconfirmedComment, *, busy: bool = False):
    retry_after = math.ceil(lock_timeout_seconds())
    response = render(
        request,
        "comments/guest_confirm.html",
        {
            "article": unconfirmed.article,
            "comment": unconfirmed,
            "busy": busy,
            "retry_after": retry_after,
        },
        status=503 if busy else 200,
    )
    if busy:
        response["Retry-After"] = str(retry_after)
    return response


def _refused_form(result: services.ConfirmResult) -> CommentForm:
    """The comment form filled with a confirmed comment that could not be posted, with the
    reason, for the guest to correct and post again (their address is confirmed now)."""
    unconfirmed, posted = result.unconfirmed, result.posted
    parent_gone = posted.refused_field == "parent"
    form = CommentForm(
        {
            "name": unconfirmed.author_name,
            "email": unconfirmed.author_email,
            "body": unconfirmed.body,
            "parent": "" if parent_gone else (unconfirmed.parent_id or ""),
        },
        article=unconfirmed.article,
    )
    form.is_valid()
    if posted.refused not in form.errors.get(posted.refused_field or "__all__", []):
        form.add_error(posted.refused_field, posted.refused)
    return form


@require_GET
def comment_reply(request, slug, pk):
    article = _article(slug)
    parent = get_object_or_404(Comment.objects.for_article(article).visible(), pk=pk)
    return render(request, "comments/comment_reply.html", {"article": article, "parent": parent})


@require_http_methods(["GET", "POST"])
def comment_report(request, slug, pk):
    article = _article(slug)
    comment = get_object_or_404(Comment.objects.for_article(article).visible(), pk=pk)
    form = ReportForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        retry_after = report_throttle(ip_address=client_ip(request))
        if retry_after is not None:
            return _too_many(request, article, retry_after, what="reports")
        result = services.report_create(
            comment=comment,
            reason=form.cleaned_data["reason"],
            detail=form.cleaned_data["detail"],
            ip_address=client_ip(request),
            account=request.user if request.user.is_authenticated else None,
            email=form.reporter_email(),
        )
        if result.already_reported:
            messages.info(
                request,
                "You have already reported this comment. Thank you.",
                extra_tags=reported_tag(comment.pk),
            )
        else:
            messages.success(
                request,
                "Thank you for your report. A moderator will look at this comment.",
                extra_tags=reported_tag(comment.pk),
            )
        return redirect(comment.get_absolute_url())
    status = 400 if form.is_bound else 200
    return render(
        request,
        "comments/comment_report.html",
        {"article": article, "comment": comment, "form": form},
        status=status,
    )


RECOMMEND_SIGN_IN_MESSAGE = (
    "Sign in to recommend comments. Readers with an account can recommend, and so can guests "
    "whose email address this browser has confirmed."
)


def _wants_json(request) -> bool:
    """static/js/recommend.js asks for JSON; a form without JavaScript gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def _recommend_refused(request, article: Model, comment: Comment, message: str, *, sign_in: bool):
    back = comment.get_absolute_url()
    sign_in_link = f"{reverse('account_login')}?{urlencode({'next': back})}" if sign_in else ""
    if _wants_json(request):
        return JsonResponse({"error": message, "sign_in_url": sign_in_link}, status=403)
    context = {
        "article": article,
        "comment": comment,
        "message": message,
        "sign_in_url": sign_in_link,
    }
    return render(request, "comments/recommend_refused.html", context, status=403)


@never_cache
@require_http_methods(["GET", "POST"])
def comment_recommend(request, slug, pk):
    """Recommend a comment, or take the recommendation back: the page of one button without
    JavaScript (the form posts `recommended` 1 or 0), JSON for static/js/recommend.js (which
    posts it as the button's new state)."""
    article = _article(slug)
    comment = get_object_or_404(
        Comment.objects.for_article(article).visible().select_related("article"), pk=pk
    )
    # An account without a commenter record yet (made in the admin) gets one when it first
    # recommends; until then it recommends nothing.
    commenter = recommendations.reader_commenter(request, create=request.method == "POST")
    if commenter is None and not request.user.is_authenticated:
        return _recommend_refused(
            request, article, comment, RECOMMEND_SIGN_IN_MESSAGE, sign_in=True
        )
    if refusal := posting_refusal(commenter):
        return _recommend_refused(request, article, comment, refusal, sign_in=False)
    if request.method == "GET":
        context = {
            "article": article,
            "comment": comment,
            "recommended": commenter is not None
            and comment.recommendations.filter(commenter=commenter).exists(),
        }
        return render(request, "comments/comment_recommend.html", context)
    retry_after = recommendations.recommend_throttle(
        ip_address=client_ip(request), commenter=commenter
    )
    if retry_after is not None:
        if _wants_json(request):
            response = JsonResponse(
                {"error": "You have recommended many comments in a short time. "
                 f"Try again in {approximate_wait(retry_after)}."},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        return _too_many(request, article, retry_after, what="recommendations")
    wanted = {"1": True, "0": False}.get(request.POST.get("recommended", ""))
    result = recommendations.recommendation_set(
        comment=comment, commenter=commenter, recommended=wanted
    )
    if _wants_json(request):
        return JsonResponse({"recommended": result.recommended, "count": result.count})
    noun = "recommendation" if result.count == 1 else "recommendations"
    if result.recommended:
        text = f"You recommended {comment.author_name}’s comment ({result.count} {noun})."
    else:
        text = f"You no longer recommend {comment.author_name}’s comment."
    messages.success(request, text, extra_tags=recommended_tag(comment.pk))
    return redirect(comment.get_absolute_url())


@never_cache
@require_GET
def recommended_by_reader(request, slug):
    """`{"recommended": {id: count}}`: the comments of the article this reader recommends,
    with their counts now, for static/js/recommend.js to press their buttons (the cached
    discussion is the same for every reader). Never cached."""
    article = _article(slug)
    commenter = recommendations.reader_commenter(request)
    counts = recommendations.recommended_counts(article=article, commenter=commenter)
    response = JsonResponse({"recommended": {str(pk): n for pk, n in counts.items()}})
    patch_vary_headers(response, ["Cookie"])
    return response
