"""The pages of "Download my data": an account's download from its settings page, and a
guest's request for a link mailed to their confirmed address, and that link."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comments.client import client_ip
from comments.data_export import (
    LINK_HOURS,
    Subject,
    data_link_send,
    export_filename,
    link_commenter,
    personal_data_json,
    subject_for_guest,
    subject_for_user,
)
from comments.forms import DataRequestForm
from comments.ratelimit import data_request_throttle
from comments.signed_links import LinkInvalid


def _attachment(subject: Subject) -> HttpResponse:
    response = HttpResponse(
        personal_data_json(subject), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename()}"'
    return response


@never_cache
@login_required
@require_POST
def account_data_download(request):
    """The signed-in reader's data, from the button on their account page."""
    return _attachment(subject_for_user(request.user))


@never_cache
@require_http_methods(["GET", "POST"])
def data_request(request):
    """The form where a guest asks for the link to their data."""
    form = DataRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        retry_after = data_request_throttle(ip_address=client_ip(request), email=email)
        if retry_after is not None:
            response = render(
                request,
                "comments/data_request.html",
                {"form": form, "retry_after": retry_after, "hours": LINK_HOURS},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        data_link_send(email=email)
        return redirect("comments:data_request_sent")
    return render(
        request,
        "comments/data_request.html",
        {"form": form, "hours": LINK_HOURS},
        status=400 if form.is_bound else 200,
    )


@require_GET
def data_request_sent(request):
    """The same answer whatever the address: nobody learns whether the site holds anything."""
    return render(request, "comments/data_request_sent.html", {"hours": LINK_HOURS})


@never_cache
@require_GET
def guest_data_download(request, token):
    """The link mailed to a guest: their data as a file, or a page saying why not."""
    try:
        commenter = link_commenter(token)
    except LinkInvalid as problem:
        if problem.expired:
            return _link_problem(request, "expired", status=410)
        return _link_problem(request, "invalid", status=400)
    if commenter is None:
        return _link_problem(request, "gone", status=410)
    return _attachment(subject_for_guest(commenter))


def _link_problem(request, problem: str, *, status: int):
    return render(
        request,
        "comments/data_link_problem.html",
        {"problem": problem, "hours": LINK_HOURS},
        status=status,
    )
