"""The pages where readers erase what the site holds about them (comments/erasure.py)."""

import math

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from comments import services
from comments.client import client_ip
from comments.erasure import (
    ERASE_LINK_HOURS,
    NEUTRAL_MESSAGE,
    erase_token,
    erase_token_read,
    guest_data_exists,
)
from comments.forms import EraseAccountForm, EraseRequestForm
from comments.identity import has_verified_email
from comments.locks import lock_timeout_seconds
from comments.models import Commenter
from comments.ratelimit import posting_throttle
from comments.signed_links import LinkInvalid
from newsroom.locking import LockTimeout
from newsroom.mail import absolute_url, mail_queue


def _busy(request, template: str, context: dict):
    response = render(request, template, {**context, "busy": True}, status=503)
    response["Retry-After"] = str(math.ceil(lock_timeout_seconds()))
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_erase(request):
    """An account's erasure, confirmed with its password."""
    form = EraseAccountForm(request.POST or None, user=request.user)
    context = {"form": form}
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "comments/erase_account.html", context, status=400 if form.is_bound else 200
        )
    user = request.user
    commenter = Commenter.objects.filter(user=user).first()
    try:
        services.commenter_erase(
            commenter=commenter,
            # Guest comments under the account's address go too, once the address is proven.
            email=user.email if has_verified_email(user) else "",
            user=user,
            mail_to=user.email,
        )
    except LockTimeout:
        return _busy(request, "comments/erase_account.html", context)
    logout(request)
    return render(request, "comments/erased.html", {"account": True})


@never_cache
@require_http_methods(["GET", "POST"])
def guest_erase_request(request):
    """A guest's address: the erase link is mailed to it when the site holds anything for it,
    and the answer is the same either way."""
    form = EraseRequestForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return render(
            request,
            "comments/erase_request.html",
            {"form": form},
            status=400 if form.is_bound else 200,
        )
    address = form.cleaned_data["email"]
    retry_after = posting_throttle(ip_address=client_ip(request), email=address)
    if retry_after is not None:
        response = render(
            request, "429.html", {"retry_after": retry_after, "what": "requests"}, status=429
        )
        response["Retry-After"] = str(retry_after)
        return response
    if guest_data_exists(address):
        link = absolute_url(
            reverse("comments:guest_erase_confirm", kwargs={"token": erase_token(address)})
        )
        context = {"link": link, "hours": ERASE_LINK_HOURS, "site_url": absolute_url("/")}
        mail_queue(
            to=address,
            subject="Erase your comments at Newsroom",
            text=render_to_string("comments/mail/erase_link.txt", context),
            html=render_to_string("comments/mail/erase_link.html", context),
        )
    messages.info(request, NEUTRAL_MESSAGE)
    return redirect("comments:guest_erase")


@never_cache
@require_http_methods(["GET", "POST"])
def guest_erase_confirm(request, token):
    """The page an erase link opens: what will be erased, and the button that erases it. A
    GET changes nothing (mail scanners open links)."""
    try:
        target = erase_token_read(token)
    except LinkInvalid as problem:
        return render(
            request,
            "comments/erase_link_problem.html",
            {"expired": problem.expired, "hours": ERASE_LINK_HOURS},
            status=410 if problem.expired else 400,
        )
    if request.method == "GET":
        return render(request, "comments/erase_confirm.html", {"token": token})
    commenter = Commenter.objects.filter(email__iexact=target.address, user=None).first()
    try:
        services.commenter_erase(commenter=commenter, email=target.address)
    except LockTimeout:
        return _busy(request, "comments/erase_confirm.html", {"token": token})
    return render(request, "comments/erased.html", {"account": False})
