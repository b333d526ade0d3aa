"""Readers' accounts through django-allauth: the sign-up form that asks for a display name, and
the account adapter (ACCOUNT_ADAPTER, ACCOUNT_FORMS in newsroom/settings.py)."""

import logging
import smtplib

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from comments.identity import DISPLAY_NAME_MAX, display_name_clean
from comments.models import Commenter
from comments.services import commenter_create

logger = logging.getLogger(__name__)

MAIL_FAILED = (
    "We could not send you the mail just now. Please try again in a few minutes; if you "
    "signed up, sign in and ask for the verification mail again from your account."
)


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        """Refuse an address longer than the columns that store it: allauth's forms accept up
        to 320 characters, and PostgreSQL would refuse the row with an error."""
        longest = get_user_model()._meta.get_field("email").max_length
        if len(email) > longest:
            raise ValidationError(
                "Use an email address of at most %(max)d characters.",
                code="max_length",
                params={"max": longest},
            )
        return super().clean_email(email)

    def send_mail(self, template_prefix: str, email: str, mail_context: dict) -> None:
        """Send allauth's mails (verification, sign-in codes, password resets, notices).

        They go out at once through EMAIL_BACKEND; this is the one place to hand them to a
        queue instead. A mail server that cannot be reached gets the reader a message instead
        of an error page; what was saved (an account, a verification key) stays and can be
        sent again.
        """
        try:
            super().send_mail(template_prefix, email, mail_context)
        except (smtplib.SMTPException, OSError) as error:
            logger.warning("mail %s to %s not sent: %s", template_prefix, email, error)
            if context.request is not None:
                messages.error(context.request, MAIL_FAILED)


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form with the name the reader's comments will show."""

    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        label="Display name",
        help_text="Shown with your comments. You can change it later.",
        error_messages={"required": "Enter the name to show with your comments."},
    )
    field_order = ["email", "display_name", "password1", "password2"]

    def clean_display_name(self) -> str:
        return display_name_clean(self.cleaned_data["display_name"])

    def custom_signup(self, request, user) -> None:
        commenter_create(user=user, display_name=self.cleaned_data["display_name"])


def user_display(user) -> str:
    """How allauth's pages and mails name an account (ACCOUNT_USER_DISPLAY): its display name,
    not the user name allauth made up from the address."""
    try:
        return user.commenter.display_name
    except Commenter.DoesNotExist:
        return user.email or user.get_username()
