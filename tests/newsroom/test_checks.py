import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from comments.selectors import SORTS
from newsroom.checks import (
    COMMENT_SORTS,
    check_default_sort,
    check_guest_policy,
    check_mail,
    check_rates,
    check_site_url,
    check_switches,
    check_whole_numbers,
    refuse_errors,
)
from tests.processes import ROOT, django_process, gunicorn_command

GOOD = {
    "TRUSTED_PROXY_HOPS": 0,
    "COMMENTS_MAX_DEPTH": 1,
    "COMMENTS_HOLD_LINKS": 0,
    "COMMENTS_REPORT_THRESHOLD": 1,
    "COMMENTS_CLOSE_AFTER_DAYS": None,
    "COMMENTS_REPLIES_SHOWN": 1,
    "ARTICLE_PAGE_CACHE_SECONDS": 0,
    "DATABASE_CONN_MAX_AGE": 0,
    "SECURE_HSTS_SECONDS": 0,
    "NOTIFY_BATCH_MINUTES": 0,
    "COMMENTS_IP_RETENTION_DAYS": 1,
    "COMMENTS_EDIT_MINUTES": 0,
    "MODERATION_ALERT_QUEUE": 0,
    "MODERATION_ALERT_MINUTES": 0,
    "COMMENT_RATE_LIMIT": "off",
    "ADMIN_LOGIN_RATE_LIMIT": "5/900",
}


def messages(settings, **values):
    for name, value in {**GOOD, **values}.items():
        setattr(settings, name, value)
    return [
        (error.id, error.msg) for error in check_whole_numbers(None) + check_rates(None)
    ]


def test_the_smallest_good_values_pass(settings):
    assert messages(settings) == []


def test_the_checked_sorts_are_the_discussion_s_sorts():
    assert set(COMMENT_SORTS) == set(SORTS)


@pytest.mark.parametrize("sort", COMMENT_SORTS)
def test_every_sort_may_be_the_default(settings, sort):
    settings.COMMENTS_DEFAULT_SORT = sort
    assert check_default_sort(None) == []


def test_an_unknown_default_sort_is_an_error_naming_the_variable(settings):
    settings.COMMENTS_DEFAULT_SORT = "best"
    [error] = check_default_sort(None)
    assert error.id == "newsroom.E012"
    assert error.msg == (
        "COMMENTS_DEFAULT_SORT must be one of oldest, newest, top, picks, not 'best'."
    )


@pytest.mark.parametrize(
    ("setting", "value", "variable", "minimum"),
    [
        ("TRUSTED_PROXY_HOPS", -1, "TRUSTED_PROXY_HOPS", 0),
        ("TRUSTED_PROXY_HOPS", "two", "TRUSTED_PROXY_HOPS", 0),
        ("COMMENTS_MAX_DEPTH", 0, "COMMENTS_MAX_DEPTH", 1),
        ("COMMENTS_HOLD_LINKS", -1, "COMMENTS_HOLD_LINKS", 0),
        ("COMMENTS_REPORT_THRESHOLD", 0, "COMMENTS_REPORT_THRESHOLD", 1),
        ("COMMENTS_CLOSE_AFTER_DAYS", -3, "COMMENTS_CLOSE_AFTER_DAYS", 0),
        ("COMMENTS_REPLIES_SHOWN", 0, "COMMENTS_REPLIES_SHOWN", 1),
        ("ARTICLE_PAGE_CACHE_SECONDS", "1h", "ARTICLE_PAGE_CACHE_SECONDS", 0),
        ("DATABASE_CONN_MAX_AGE", -5, "DATABASE_CONN_MAX_AGE", 0),
        ("SECURE_HSTS_SECONDS", "year", "DJANGO_HSTS_SECONDS", 0),
        ("NOTIFY_BATCH_MINUTES", "ten", "NOTIFY_BATCH_MINUTES", 0),
        ("NOTIFY_BATCH_MINUTES", -1, "NOTIFY_BATCH_MINUTES", 0),
        ("COMMENTS_IP_RETENTION_DAYS", 0, "COMMENTS_IP_RETENTION_DAYS", 1),
        ("COMMENTS_IP_RETENTION_DAYS", "90d", "COMMENTS_IP_RETENTION_DAYS", 1),
        ("COMMENTS_EDIT_MINUTES", "a while", "COMMENTS_EDIT_MINUTES", 0),
        ("COMMENTS_EDIT_MINUTES", -1, "COMMENTS_EDIT_MINUTES", 0),
        ("RECOMMEND_REFRESH_SECONDS", 0, "RECOMMEND_REFRESH_SECONDS", 1),
        ("RECOMMEND_REFRESH_SECONDS", "a minute", "RECOMMEND_REFRESH_SECONDS", 1),
        ("MODERATION_ALERT_QUEUE", "many", "MODERATION_ALERT_QUEUE", 0),
        ("MODERATION_ALERT_MINUTES", -1, "MODERATION_ALERT_MINUTES", 0),
    ],
)
def test_a_bad_whole_number_is_an_error_naming_the_variable(
    settings, setting, value, variable, minimum
):
    message = f"{variable} must be a whole number of at least {minimum}, not {value!r}."
    assert messages(settings, **{setting: value}) == [("newsroom.E001", message)]


@pytest.mark.parametrize(
    "setting", ["COMMENT_RATE_LIMIT", "RECOMMEND_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"]
)
@pytest.mark.parametrize("value", ["lots", "0/60", "5/0", "5 per minute"])
def test_a_malformed_rate_is_an_error_naming_the_variable(settings, setting, value):
    [(error_id, message)] = messages(settings, **{setting: value})
    assert error_id == "newsroom.E002"
    assert message.startswith(f'{setting} must be "N/SECONDS"') and repr(value) in message


def test_refuse_errors_raises_with_every_message(settings):
    settings.TRUSTED_PROXY_HOPS = -1
    settings.COMMENT_RATE_LIMIT = "lots"

    with pytest.raises(ImproperlyConfigured) as raised:
        refuse_errors()

    assert "TRUSTED_PROXY_HOPS must be a whole number of at least 0" in str(raised.value)
    assert 'COMMENT_RATE_LIMIT must be "N/SECONDS"' in str(raised.value)


@pytest.mark.parametrize("value", ["open", "verify", "closed"])
def test_each_guest_policy_passes(settings, value):
    settings.COMMENTS_GUESTS = value
    assert check_guest_policy(None) == []


@pytest.mark.parametrize("value", ["", "maybe", "Verify ", None])
def test_another_guest_policy_is_an_error_naming_the_variable(settings, value):
    settings.COMMENTS_GUESTS = value
    [error] = check_guest_policy(None)
    assert error.id == "newsroom.E004"
    assert error.msg == f"COMMENTS_GUESTS must be one of open, verify, closed, not {value!r}."


def test_the_guest_policy_is_read_from_the_environment_and_checked_at_start_up():
    script = (
        "from django.conf import settings; print(settings.COMMENTS_GUESTS); "
        "from django.core.management import call_command; call_command('check')"
    )
    good = django_process({"DJANGO_SECRET_KEY": "x" * 50, "COMMENTS_GUESTS": " Verify "}, script)
    assert good.returncode == 0 and good.stdout.startswith("verify\n")
    bad = django_process({"DJANGO_SECRET_KEY": "x" * 50, "COMMENTS_GUESTS": "moderated"}, script)
    assert bad.returncode != 0
    assert "(newsroom.E004) COMMENTS_GUESTS must be one of open, verify, closed" in bad.stderr


def test_manage_py_check_refuses_negative_proxy_hops():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50, "TRUSTED_PROXY_HOPS": "-1"},
        "from django.core.management import call_command; call_command('check')",
    )
    assert result.returncode != 0
    assert "(newsroom.E001) TRUSTED_PROXY_HOPS must be a whole number of at least 0" in (
        result.stderr
    )


@pytest.mark.parametrize("module", ["newsroom.wsgi", "newsroom.asgi"])
def test_the_wsgi_and_asgi_applications_refuse_a_bad_setting(module):
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50, "TRUSTED_PROXY_HOPS": "-1"}, f"import {module}"
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HOPS must be a whole number of at least 0, not -1" in result.stderr


def test_gunicorn_refuses_to_start_with_a_bad_setting():
    command, env, _ = gunicorn_command({"DJANGO_SECRET_KEY": "x" * 50, "TRUSTED_PROXY_HOPS": "-1"})

    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "TRUSTED_PROXY_HOPS must be a whole number of at least 0, not -1" in (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize("value", [0, -1, "soon", None])
def test_the_lock_timeout_must_be_a_positive_number_of_seconds(settings, value):
    from newsroom.checks import check_positive_seconds

    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = value
    [error] = check_positive_seconds(None)
    assert error.id == "newsroom.E003"
    assert error.msg == (
        f"COMMENTS_LOCK_TIMEOUT_SECONDS must be a number of seconds greater than 0, not {value!r}."
    )
    settings.COMMENTS_LOCK_TIMEOUT_SECONDS = 0.5
    assert check_positive_seconds(None) == []


SMTP_OPTIONS = {
    "host": "smtp.example.org",
    "port": 587,
    "username": "",
    "password": "",
    "use_tls": True,
    "use_ssl": False,
    "timeout": 10,
}


def mail_messages(settings, **options):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {**SMTP_OPTIONS, **options},
        }
    }
    return [(error.id, error.msg) for error in check_mail(None)]


def test_good_mail_settings_pass(settings):
    assert mail_messages(settings) == []
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": "var/mail"},
        }
    }
    assert check_mail(None) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "smtp"}, "EMAIL_PORT must be a port number (1-65535), not 'smtp'."),
        ({"port": 70000}, "EMAIL_PORT must be a port number (1-65535), not 70000."),
        ({"timeout": 0}, "EMAIL_TIMEOUT must be a whole number of seconds of at least 1, not 0."),
        (
            {"timeout": "10s"},
            "EMAIL_TIMEOUT must be a whole number of seconds of at least 1, not '10s'.",
        ),
        ({"use_ssl": True}, "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: set one of them."),
    ],
)
def test_bad_smtp_settings_are_errors_naming_the_variable(settings, options, message):
    assert mail_messages(settings, **options) == [("newsroom.E010", message)]


def test_bad_retry_delays_and_sender_are_errors_naming_the_variable(settings):
    settings.EMAIL_RETRY_DELAYS = [60, "5m"]
    settings.DEFAULT_FROM_EMAIL = "Newsroom"
    assert mail_messages(settings) == [
        (
            "newsroom.E010",
            "EMAIL_RETRY_DELAYS must be whole numbers of seconds separated by commas, "
            "not '60,5m'.",
        ),
        (
            "newsroom.E010",
            "DEFAULT_FROM_EMAIL must be an address such as \"Newsroom <news@example.org>\", "
            "not 'Newsroom'.",
        ),
    ]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://news.example.org", "https://example.org/news"]
)
def test_an_absolute_site_url_passes(settings, url):
    settings.SITE_URL = url
    assert check_site_url(None) == []


@pytest.mark.parametrize(
    "url",
    [
        "news.example.org",
        "/news",
        "ftp://example.org",
        "https://",
        "http://example.org:port",
        "https://example.org/?a=1",
        "http://[::1",
    ],
)
def test_a_site_url_that_is_not_an_absolute_http_address_is_an_error(settings, url):
    settings.SITE_URL = url
    [error] = check_site_url(None)
    assert error.id == "newsroom.E011"
    assert error.msg == f"SITE_URL must be the site's absolute http(s) address, not {url!r}."


def test_manage_py_check_refuses_a_bad_email_port():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50, "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "smtp"},
        "from django.core.management import call_command; call_command('check')",
    )
    assert result.returncode != 0
    assert "EMAIL_PORT must be a port number (1-65535), not 'smtp'." in result.stderr


@pytest.mark.parametrize(("email_host", "refused"), [("", True), ("smtp.example.org", False)])
def test_check_deploy_refuses_mail_written_to_files(email_host, refused):
    result = django_process(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_SECURE": "1",
            "DJANGO_ALLOWED_HOSTS": "news.example.org",
            "EMAIL_HOST": email_host,
        },
        "from django.core.management import call_command; "
        "call_command('check', deploy=True, tags=['mail'])",
    )
    assert (result.returncode != 0) is refused, result.stderr
    assert ("mail.E001" in result.stderr) is refused


@pytest.mark.parametrize("switch", ["COMMENTS_SHOW_REMOVAL_REASONS", "PAGE_VERSION_MIRROR"])
@pytest.mark.parametrize("value", [2, -1, "yes", True])
def test_a_switch_other_than_0_or_1_is_an_error_naming_the_variable(settings, switch, value):
    setattr(settings, switch, value)
    assert [(error.id, error.msg) for error in check_switches(None)] == [
        ("newsroom.E020", f"{switch} must be 0 or 1, not {value!r}.")
    ]


@pytest.mark.parametrize("switch", ["COMMENTS_SHOW_REMOVAL_REASONS", "PAGE_VERSION_MIRROR"])
@pytest.mark.parametrize("value", [0, 1])
def test_a_switch_of_0_or_1_passes(settings, switch, value):
    setattr(settings, switch, value)
    assert check_switches(None) == []
