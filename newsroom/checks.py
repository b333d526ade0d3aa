"""System checks for the settings read from the environment.

settings.py only reads the environment; the values are judged here, as django-ratelimit's
checks.py does, so `manage.py check`, `runserver` and `migrate` refuse a bad value with the
variable's name. WSGI and ASGI servers run no checks: newsroom/wsgi.py and asgi.py call
`refuse_errors` so a server refuses to start too, instead of answering 500 to every request.
"""

from email.utils import parseaddr
from urllib.parse import urlsplit

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
    ("COMMENTS_REPLIES_SHOWN", "COMMENTS_REPLIES_SHOWN", 1),
    ("ARTICLE_PAGE_CACHE_SECONDS", "ARTICLE_PAGE_CACHE_SECONDS", 0),
    ("DATABASE_CONN_MAX_AGE", "DATABASE_CONN_MAX_AGE", 0),
    ("SECURE_HSTS_SECONDS", "DJANGO_HSTS_SECONDS", 0),
    ("NOTIFY_BATCH_MINUTES", "NOTIFY_BATCH_MINUTES", 0),
    ("COMMENTS_IP_RETENTION_DAYS", "COMMENTS_IP_RETENTION_DAYS", 1),
    ("COMMENTS_EDIT_MINUTES", "COMMENTS_EDIT_MINUTES", 0),
    ("RECOMMEND_REFRESH_SECONDS", "RECOMMEND_REFRESH_SECONDS", 1),
    ("MODERATION_ALERT_QUEUE", "MODERATION_ALERT_QUEUE", 0),
    ("MODERATION_ALERT_MINUTES", "MODERATION_ALERT_MINUTES", 0),
]
# Settings in seconds that must be more than 0: (setting, environment variable).
POSITIVE_SECONDS = [("COMMENTS_LOCK_TIMEOUT_SECONDS", "COMMENTS_LOCK_TIMEOUT_SECONDS")]
RATES = ["COMMENT_RATE_LIMIT", "RECOMMEND_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"]
# The orders of a discussion's threads (comments.selectors.SORTS, named here because newsroom
# imports no app; tests/newsroom/test_checks.py keeps the two lists equal).
COMMENT_SORTS = ("oldest", "newest", "top", "picks")
# The policies for guests' comments (COMMENTS_GUESTS), as comments/guests.py applies them.
GUEST_POLICIES = ("open", "verify", "closed")
# Settings that switch something on (1) or off (0).
SWITCHES = ["COMMENTS_SHOW_REMOVAL_REASONS", "PAGE_VERSION_MIRROR"]
TAG = "newsroom_settings"


def _whole_number(value, minimum: int, maximum: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )


@register(TAG)
def check_whole_numbers(app_configs, **kwargs):
    errors = []
    for setting, variable, minimum in WHOLE_NUMBERS:
        value = getattr(settings, setting, None)
        # COMMENTS_CLOSE_AFTER_DAYS is None when unset: discussions stay open.
        if value is None and setting == "COMMENTS_CLOSE_AFTER_DAYS":
            continue
        if _whole_number(value, minimum):
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
def check_switches(app_configs, **kwargs):
    return [
        Error(
            f"{setting} must be 0 or 1, not {getattr(settings, setting, None)!r}.",
            hint=f"Set {setting} in the environment to 0 or 1, or unset it.",
            id="newsroom.E020",
        )
        for setting in SWITCHES
        if not _whole_number(getattr(settings, setting, None), 0, 1)
    ]


@register(TAG)
def check_rates(app_configs, **kwargs):
    errors = []
    for setting in RATES:
        try:
            rate_parse(str(getattr(settings, setting)), setting)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="newsroom.E002"))
    return errors


def _one_of(setting: str, choices: tuple[str, ...], error_id: str) -> list[Error]:
    value = getattr(settings, setting, None)
    if value in choices:
        return []
    return [
        Error(
            f"{setting} must be one of {', '.join(choices)}, not {value!r}.",
            hint=f"Set {setting} in the environment to one of them, or unset it.",
            id=error_id,
        )
    ]


@register(TAG)
def check_default_sort(app_configs, **kwargs):
    return _one_of("COMMENTS_DEFAULT_SORT", COMMENT_SORTS, "newsroom.E012")


@register(TAG)
def check_guest_policy(app_configs, **kwargs):
    return _one_of("COMMENTS_GUESTS", GUEST_POLICIES, "newsroom.E004")


@register(TAG)
def check_mail(app_configs, **kwargs):
    """The EMAIL_* variables: settings.py puts them in MAILERS and EMAIL_RETRY_DELAYS."""
    problems = []
    options = settings.MAILERS["default"].get("OPTIONS", {})
    if "host" in options:
        if not _whole_number(options["port"], 1, 65535):
            problems.append(f"EMAIL_PORT must be a port number (1-65535), not {options['port']!r}.")
        if not _whole_number(options["timeout"], 1):
            problems.append(
                f"EMAIL_TIMEOUT must be a whole number of seconds of at least 1, "
                f"not {options['timeout']!r}."
            )
        if options["use_tls"] and options["use_ssl"]:
            problems.append("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: set one of them.")
    delays = settings.EMAIL_RETRY_DELAYS
    if not all(_whole_number(delay, 0) for delay in delays):
        problems.append(
            "EMAIL_RETRY_DELAYS must be whole numbers of seconds separated by commas, "
            f"not {','.join(map(str, delays))!r}."
        )
    if "@" not in parseaddr(settings.DEFAULT_FROM_EMAIL)[1]:
        problems.append(
            f"DEFAULT_FROM_EMAIL must be an address such as \"Newsroom <news@example.org>\", "
            f"not {settings.DEFAULT_FROM_EMAIL!r}."
        )
    return [
        Error(problem, hint="Set the variable in the environment, or unset it.", id="newsroom.E010")
        for problem in problems
    ]


@register(TAG)
def check_site_url(app_configs, **kwargs):
    try:
        url = urlsplit(settings.SITE_URL)
        url.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        pass
    else:
        if url.scheme in {"http", "https"} and url.hostname and not (url.query or url.fragment):
            return []
    return [
        Error(
            f"SITE_URL must be the site's absolute http(s) address, not {settings.SITE_URL!r}.",
            hint="Set SITE_URL to the address readers use, such as https://news.example.org.",
            id="newsroom.E011",
        )
    ]


def refuse_errors() -> None:
    """Raise ImproperlyConfigured listing the errors of the settings checks, if there is any.

    Only these checks: Django's own model checks may open a database connection.
    """
    errors = [message for message in run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured(
            "Newsroom refuses to start:\n" + "\n".join(str(message) for message in errors)
        )
