from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from newsroom.ratelimit import FixedWindow, rate_parse


def signin_window() -> FixedWindow:
    return FixedWindow(
        "admin-signin", rate_parse(settings.ADMIN_LOGIN_RATE_LIMIT, "ADMIN_LOGIN_RATE_LIMIT")
    )


class ThrottledAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in, refused for a while after too many failures for a name or an address.

    Failures are counted per user name and per IP address (ADMIN_LOGIN_RATE_LIMIT), so guessing
    one account's password from many addresses, or many accounts from one, is slowed alike.
    With the counter store away, each process counts on its own (newsroom/ratelimit.py).
    """

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": (
            "Too many failed sign-ins. For your account's safety, please wait %(wait)s "
            "before trying again."
        ),
    }

    def clean(self):
        # Counted before the password is checked, so concurrent guesses cannot all slip in
        # under the limit; a sign-in that succeeds takes its count back.
        window = signin_window()
        who = {
            "ip": self.request.META.get("REMOTE_ADDR") if self.request else None,
            "user": self.cleaned_data.get("username"),
        }
        wait = window.hit(**who)
        if wait:
            minutes = -(-wait // 60)
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"wait": ngettext("%d minute", "%d minutes", minutes) % minutes},
            )
        cleaned_data = super().clean()
        window.forgive(**who)
        return cleaned_data


class NewsroomAdminSite(AdminSite):
    site_header = "Newsroom moderation"
    site_title = "Newsroom admin"
    index_title = "Articles and discussions"
    login_form = ThrottledAuthenticationForm
