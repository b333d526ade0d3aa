"""The review screen: the moderators' queue one comment at a time, a decision per keystroke.

It sits beside the queue in the admin (CommentQueueAdmin.get_urls). Each decision runs the
queue's own admin action (services, tree locks, admin log, messages), so the screen adds no
second way of writing. Without JavaScript its buttons are forms that post and redirect to the
next comment; static/js/review.js posts the same forms with `fragment=1` and swaps in the
answer's HTML.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from comments import queue, services
from comments.admin_forms import BlockForm, DecisionForm
from comments.models import Comment, Decision
from comments.services import BlockTarget

# Session key of the decision `u` may take back.
UNDO_KEY = "review_undo"
# The removal reasons by key: 1 to 9, then 0 for the tenth.
REASON_KEYS = "1234567890"
# The queue's admin action that makes each decision. Featuring a comment that waits for review
# publishes it first: only a published comment can be an editors' pick.
DECISIONS = {
    "approve": "approve_comments",
    "remove": "remove_comments",
    "spam": "mark_spam",
    "feature": "feature_comments",
    "block": "block_commenters",
}
ACTIONS = (*DECISIONS, "undo")


class ReviewForm(forms.Form):
    """What a button of the screen posts: the comment, the decision and the one after it."""

    comment = forms.IntegerField(min_value=1, required=False)
    action = forms.ChoiceField(
        choices=[(action, action) for action in ACTIONS],
        error_messages={"invalid_choice": "That is not a decision this screen makes."},
    )
    next = forms.IntegerField(min_value=1, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") not in (None, "undo") and not cleaned.get("comment"):
            raise forms.ValidationError("Say which comment to decide.", code="required")
        return cleaned


def review_url(comment_id: int | None) -> str:
    url = reverse("admin:comments_commentqueue_review")
    return f"{url}?{urlencode({'comment': comment_id})}" if comment_id else url


def _comment_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _undo_offered(request) -> bool:
    entry = request.session.get(UNDO_KEY)
    if not entry:
        return False
    return timezone.now().timestamp() - entry["at"] <= services.UNDO_SECONDS


def _context(request, model_admin, review, **extra) -> dict:
    reasons = [
        (key, value, label)
        for key, (value, label) in zip(REASON_KEYS, Decision.Reason.choices, strict=True)
    ]
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Review the queue",
        "review": review,
        "reasons": reasons,
        "block_form": BlockForm(),
        "decision_form": DecisionForm(),
        "undo": _undo_offered(request),
        "undo_seconds": services.UNDO_SECONDS,
        "queue_url": reverse("admin:comments_commentqueue_changelist"),
        "can_block_accounts": request.user.has_perm("comments.change_commenter"),
        **extra,
    }


def _answer(request, model_admin, review, *, fragment: bool, status: int = 200, **extra):
    """The screen for `review`: the whole page, or its main part as JSON for review.js."""
    context = _context(request, model_admin, review, **extra)
    url = review_url(review.comment.pk if review else None)
    if not fragment:
        return TemplateResponse(request, "admin/comments/review.html", context, status=status)
    # The messages of this request are said aloud by the script instead of shown on a page.
    said = " ".join(str(message) for message in messages.get_messages(request))
    return JsonResponse(
        {
            "html": render_to_string("admin/comments/review_main.html", context, request),
            "url": url,
            "announce": " ".join(filter(None, [extra.get("problem", ""), said])),
            "comment": review.comment.pk if review else None,
        },
        status=status,
    )


def review_view(request, *, model_admin):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        return _decide(request, model_admin)
    wanted = _comment_id(request.GET.get("comment"))
    review = queue.review_for(wanted)
    problem = ""
    if review is None and wanted is not None:
        review = queue.review_for(None)
        problem = "That comment no longer waits for review."
    if problem and request.GET.get("fragment") != "1":
        messages.info(request, problem)
        problem = ""
    return _answer(
        request, model_admin, review, fragment=request.GET.get("fragment") == "1", problem=problem
    )


def _refused(request, model_admin, *, comment_id, message: str, fragment: bool, **forms_shown):
    """A decision that could not be made: the same comment again, with what went wrong."""
    review = queue.review_for(comment_id) or queue.review_for(None)
    if fragment:
        return _answer(request, model_admin, review, fragment=True, status=400, problem=message,
                       **forms_shown)
    messages.error(request, message)
    return _answer(request, model_admin, review, fragment=False, status=400, **forms_shown)


def _decide(request, model_admin):
    fragment = request.POST.get("fragment") == "1"
    form = ReviewForm(request.POST)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return _refused(
            request,
            model_admin,
            comment_id=_comment_id(request.POST.get("comment")),
            message=message,
            fragment=fragment,
        )
    pk, action = form.cleaned_data["comment"], form.cleaned_data["action"]
    following = form.cleaned_data["next"]
    if action == "undo":
        return _undo(request, model_admin, fragment=fragment)
    comments = model_admin.get_queryset(request).filter(pk=pk)
    before = Comment.objects.filter(pk=pk).values("status", "removal_reason").first()
    if before is None or not comments.exists():
        return _refused(request, model_admin, comment_id=following, fragment=fragment,
                        message="That comment no longer waits for review.")
    refusal = _invalid(request, action)
    if refusal is not None:
        message, forms_shown = refusal
        return _refused(request, model_admin, comment_id=pk, fragment=fragment, message=message,
                        **forms_shown)
    if action == "feature" and before["status"] != Comment.Status.PUBLISHED:
        model_admin.approve_comments(request, comments)
        # Out of the queue once published.
        comments = Comment.objects.filter(pk=pk)
    decide = getattr(model_admin, DECISIONS[action])
    decide(request, comments)
    _undo_remember(request, pk, before, blocked=action == "block")
    review = (queue.review_for(following) if following else None) or queue.review_for(None)
    if fragment:
        return _answer(request, model_admin, review, fragment=True)
    return HttpResponseRedirect(review_url(review.comment.pk if review else None))


def _invalid(request, action: str) -> tuple[str, dict] | None:
    """Why the posted reason or block cannot be used (a tampered form, a missing choice)."""
    if action in ("remove", "spam"):
        data = request.POST.copy()
        if action == "spam" and not data.get("reason"):
            data["reason"] = Decision.Reason.SPAM
        form = DecisionForm(data)
        if form.is_valid():
            request.POST = data
            return None
        if "reason" in form.errors and data.get("reason"):
            return "Choose a reason from the list.", {"decision_form": form, "removing": True}
        return " ".join(e for errors in form.errors.values() for e in errors), {
            "decision_form": form,
            "removing": True,
        }
    if action == "block":
        form = BlockForm(request.POST)
        if (
            form.is_valid()
            and BlockTarget.ACCOUNT in form.cleaned_data["targets"]
            and not request.user.has_perm("comments.change_commenter")
        ):
            form.add_error("targets", "You may not suspend or ban accounts.")
        if not form.is_valid():
            message = " ".join(e for errors in form.errors.values() for e in errors)
            return message, {"block_form": form, "blocking": True}
    return None


def _undo_remember(request, pk: int, before: dict, *, blocked: bool) -> None:
    """Keep the moderator's latest decision for `u`; a block (several rows) is not undone."""
    request.session.pop(UNDO_KEY, None)
    if blocked:
        return
    decision = (
        Decision.objects.filter(comment_id=pk, moderator=request.user)
        .order_by("-created", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if decision is not None:
        request.session[UNDO_KEY] = {
            "decision": decision,
            "comment": pk,
            "status": before["status"],
            "reason": before["removal_reason"],
            "at": timezone.now().timestamp(),
        }


def _undo(request, model_admin, *, fragment: bool):
    entry = request.session.pop(UNDO_KEY, None)
    if not entry:
        return _refused(request, model_admin, comment_id=_comment_id(request.POST.get("comment")),
                        fragment=fragment, message="There is no decision to undo.")
    try:
        comment = services.decision_undo(
            decision_id=entry["decision"],
            moderator=request.user,
            previous_status=entry["status"],
            previous_reason=entry["reason"],
        )
    except services.UndoRefused as refusal:
        return _refused(request, model_admin, comment_id=entry["comment"], fragment=fragment,
                        message=str(refusal))
    status = comment.get_status_display().lower()
    model_admin.log_change(request, comment, f"Undone: the comment is {status} again.")
    messages.success(request, f"Undone: the comment is {status} again.")
    review = queue.review_for(comment.pk) or queue.review_for(None)
    if fragment:
        return _answer(request, model_admin, review, fragment=True)
    return HttpResponseRedirect(review_url(review.comment.pk if review else None))
