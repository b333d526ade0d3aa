import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from newsroom.checks import check_rates, check_whole_numbers, refuse_errors
from tests.processes import ROOT, django_process, gunicorn_command

GOOD = {
    "TRUSTED_PROXY_HOPS": 0,
    "COMMENTS_MAX_DEPTH": 1,
    "COMMENTS_HOLD_LINKS": 0,
    "COMMENTS_REPORT_THRESHOLD": 1,
    "COMMENTS_CLOSE_AFTER_DAYS": None,
    "ARTICLE_PAGE_CACHE_SECONDS": 0,
    "DATABASE_CONN_MAX_AGE": 0,
    "SECURE_HSTS_SECONDS": 0,
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


@pytest.mark.parametrize(
    ("setting", "value", "variable", "minimum"),
    [
        ("TRUSTED_PROXY_HOPS", -1, "TRUSTED_PROXY_HOPS", 0),
        ("TRUSTED_PROXY_HOPS", "two", "TRUSTED_PROXY_HOPS", 0),
        ("COMMENTS_MAX_DEPTH", 0, "COMMENTS_MAX_DEPTH", 1),
        ("COMMENTS_HOLD_LINKS", -1, "COMMENTS_HOLD_LINKS", 0),
        ("COMMENTS_REPORT_THRESHOLD", 0, "COMMENTS_REPORT_THRESHOLD", 1),
        ("COMMENTS_CLOSE_AFTER_DAYS", -3, "COMMENTS_CLOSE_AFTER_DAYS", 0),
        ("ARTICLE_PAGE_CACHE_SECONDS", "1h", "ARTICLE_PAGE_CACHE_SECONDS", 0),
        ("DATABASE_CONN_MAX_AGE", -5, "DATABASE_CONN_MAX_AGE", 0),
        ("SECURE_HSTS_SECONDS", "year", "DJANGO_HSTS_SECONDS", 0),
    ],
)
def test_a_bad_whole_number_is_an_error_naming_the_variable(
    settings, setting, value, variable, minimum
):
    message = f"{variable} must be a whole number of at least {minimum}, not {value!r}."
    assert messages(settings, **{setting: value}) == [("newsroom.E001", message)]


@pytest.mark.parametrize("setting", ["COMMENT_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"])
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
