import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_settings(env_overrides: dict[str, str], code: str) -> subprocess.CompletedProcess:
    own = ("DJANGO_", "DATABASE_", "REDIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "newsroom.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_missing_secret_key_with_debug_off_stops_start_up_with_a_clear_message():
    result = run_settings({"DJANGO_DEBUG": "0"}, "pass")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = run_settings(
        {"DJANGO_DEBUG": "1"}, "from django.conf import settings; print(settings.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_database_url_and_redis_url_are_read_from_the_environment():
    result = run_settings(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://someone@db.example:5432/papers",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], s.SESSION_ENGINE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "papers",
        "newsroom.redis_cache.PooledRedisCache",
        "redis://127.0.0.1:6379/3",
        "newsroom.sessions",
    ]


def test_without_redis_the_cache_is_local_memory_and_sessions_are_in_the_database():
    result = run_settings(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ]


def test_sqlite_runs_in_immediate_mode_with_a_busy_timeout():
    result = run_settings(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(o['transaction_mode'], o['timeout'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["IMMEDIATE", "20"]


def test_a_bad_number_in_the_environment_is_named():
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "COMMENTS_MAX_DEPTH": "deep"}, "pass")
    assert result.returncode != 0
    assert "COMMENTS_MAX_DEPTH must be a whole number" in result.stderr



@pytest.mark.parametrize("name", ["COMMENT_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"])
def test_a_malformed_rate_limit_stops_start_up_and_names_the_variable(name):
    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, name: "lots"}, "pass")
    assert result.returncode != 0
    assert f'{name} must be "N/SECONDS"' in result.stderr
