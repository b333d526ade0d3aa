"""Readers' own pages: the public profile of a commenter, and a reader's settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django.views.generic import ListView

from comments import services
from comments.decision_mail import published_mail_set
from comments.forms import CommenterSettingsForm
from comments.identity import badge_for
from comments.models import Commenter
from comments.selectors import commenter_comments
from comments.subscriptions import reply_mail_preference_save


class CommenterProfileView(ListView):
    """A commenter's published comments, newest first; 404 when the profile is turned off."""

    paginate_by = 20
    template_name = "comments/commenter_detail.html"
    context_object_name = "comments"

    def get_queryset(self):
        self.commenter = get_object_or_404(
            Commenter.objects.select_related("user"),
            handle=self.kwargs["handle"],
            profile_public=True,
        )
        return commenter_comments(self.commenter)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.commenter.user
        context["commenter"] = self.commenter
        context["badge"] = badge_for(
            is_staff=user is not None and user.is_staff, badge=self.commenter.badge
        )
        if context["is_paginated"]:
            page = context["page_obj"]
            context["page_range"] = page.paginator.get_elided_page_range(page.number)
        return context


@login_required
@require_http_methods(["GET", "POST"])
def commenter_settings(request):
    commenter = services.commenter_for_user(user=request.user)
    form = CommenterSettingsForm(request.POST or None, instance=commenter)
    if request.method == "POST" and form.is_valid():
        services.commenter_update(
            commenter=commenter,
            display_name=form.cleaned_data["display_name"],
            profile_public=form.cleaned_data["profile_public"],
        )
        reply_mail_preference_save(
            commenter=commenter,
            subscribe_by_default=form.cleaned_data["subscribe_by_default"],
            frequency=form.cleaned_data["reply_mail_frequency"],
        )
        published_mail_set(commenter=commenter, published=form.cleaned_data["published_mail"])
        messages.success(request, "Your settings are saved.")
        return redirect("comments:settings")
    return render(
        request,
        "comments/commenter_settings.html",
        {"form": form, "commenter": commenter},
        status=400 if form.is_bound else 200,
    )
