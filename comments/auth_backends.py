"""The authentication backends: Django's and allauth's, loading a signed-in user with what every
page shows of their account (their comment form's name and reply-mail default) in one query."""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends, get_user_model

from comments.subscriptions import user_with_account_commenting


class _UserWithAccountCommenting:
    def get_user(self, user_id):
        """As Django's ModelBackend.get_user, the user read with `user_with_account_commenting`."""
        user = user_with_account_commenting(get_user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithAccountCommenting, backends.ModelBackend):
    """Django's backend: the admin's sign-in by user name and password."""


class AuthenticationBackend(_UserWithAccountCommenting, allauth_backends.AuthenticationBackend):
    """allauth's backend: readers' sign-in by email address."""
