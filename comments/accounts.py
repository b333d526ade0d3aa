"""Readers' accounts through django-allauth: the sign-up form that asks for a display name, and
the account adapter (ACCOUNT_ADAPTER, ACCOUNT_FORMS in newsroom/settings.py)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from comments.identity import DISPLAY_NAME_MAX, display_name_clean
from comments.models import Commenter
from comments.services import commenter_create
from newsroom.mail import mail_queue


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
        """Queue allauth's mails (verification, sign-in codes, password resets, notices) for
        the task worker, once the request's transaction commits (newsroom/mail.py).

        The request renders the mail and never talks to the mail server, so one that cannot
        be reached costs the reader nothing here: the worker tries again and logs the
        failure. allauth's templates are plain text; the HTML part is that text with its
        paragraphs and links marked up, unless a template gives its own.
        """
        request = context.request
        message = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": get_current_site(request),
                **mail_context,
            },
        )
        html = next(
            (body for body, mimetype in message.alternatives if mimetype == "text/html"), None
        )
        if html is None:
            html = render_to_string(
                "account/email/text_as_html.html",
                {"subject": message.subject, "text": message.body},
            )
        mail_queue(
            to=email,
            subject=message.subject,
            text=message.body,
            html=html,
            headers=dict(message.extra_headers) or None,
        )


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
