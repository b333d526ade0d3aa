"""System checks for the settings read from the environment.

settings.py only reads the environment; the values are judged here, as django-ratelimit's
checks.py does, so `manage.py check`, `runserver` and `migrate` refuse a bad value with the
variable's name. WSGI and ASGI servers run no checks: newsroom/wsgi.py and asgi.py call
`refuse_errors` so a server refuses to start too, instead of answering 500 to every request.
"""

from django.conf import settings
from django.core.checks import Error, register, run_checks
from django.core.exceptions import ImproperlyConfigured

from newsroom.ratelimit import rate_parse

# Whole-number settings: (setting, environment variable, smallest value allowed).
WHOLE_NUMBERS = [
    ("TRUSTED_PROXY_HOPS", "TRUSTED_PROXY_HOPS", 0),
    ("COMMENTS_MAX_DEPTH", "COMMENTS_MAX_DEPTH", 1),
    ("COMMENTS_HOLD_LINKS", "COMMENTS_HOLD_LINKS", 0),
    ("COMMENTS_REPORT_THRESHOLD", "COMMENTS_REPORT_THRESHOLD", 1),
    ("COMMENTS_CLOSE_AFTER_DAYS", "COMMENTS_CLOSE_AFTER_DAYS", 0),
    ("ARTICLE_PAGE_CACHE_SECONDS", "ARTICLE_PAGE_CACHE_SECONDS", 0),
    ("DATABASE_CONN_MAX_AGE", "DATABASE_CONN_MAX_AGE", 0),
    ("SECURE_HSTS_SECONDS", "DJANGO_HSTS_SECONDS", 0),
]
# Settings in seconds that must be more than 0: (setting, environment variable).
POSITIVE_SECONDS = [("COMMENTS_LOCK_TIMEOUT_SECONDS", "COMMENTS_LOCK_TIMEOUT_SECONDS")]
RATES = ["COMMENT_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"]
TAG = "newsroom_settings"


@register(TAG)
def check_whole_numbers(app_configs, **kwargs):
    errors = []
    for setting, variable, minimum in WHOLE_NUMBERS:
        value = getattr(settings, setting, None)
        # COMMENTS_CLOSE_AFTER_DAYS is None when unset: discussions stay open.
        if value is None and setting == "COMMENTS_CLOSE_AFTER_DAYS":
            continue
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            continue
        errors.append(
            Error(
                f"{variable} must be a whole number of at least {minimum}, not {value!r}.",
                hint=f"Set {variable} in the environment to a whole number, or unset it.",
                id="newsroom.E001",
            )
        )
    return errors


@register(TAG)
def check_positive_seconds(app_configs, **kwargs):
    errors = []
    for setting, variable in POSITIVE_SECONDS:
        value = getattr(settings, setting, None)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            continue
        errors.append(
            Error(
                f"{variable} must be a number of seconds greater than 0, not {value!r}.",
                hint=f"Set {variable} in the environment to a number such as 5, or unset it.",
                id="newsroom.E003",
            )
        )
    return errors


@register(TAG)
def check_rates(app_configs, **kwargs):
    errors = []
    for setting in RATES:
        try:
            rate_parse(str(getattr(settings, setting)), setting)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="newsroom.E002"))
    return errors


def refuse_errors() -> None:
    """Raise ImproperlyConfigured listing the errors of the settings checks, if there is any.

    Only these checks: Django's own model checks may open a database connection.
    """
    errors = [message for message in run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Newsroom refuses to start:\n" + "\n".join(str(message) for message in errors)
        )
