import ast

import pytest

from tests.processes import ROOT, django_process


def test_missing_secret_key_with_debug_off_stops_start_up_with_a_clear_message():
    result = django_process({"DJANGO_DEBUG": "0"}, "pass")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = django_process(
        {"DJANGO_DEBUG": "1"}, "from django.conf import settings; print(settings.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_database_url_and_redis_url_are_read_from_the_environment():
    result = django_process(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://someone@db.example:5432/papers",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        "from django.conf import settings as s; c = s.CACHES; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "*(c[alias][key] for alias in ('pages', 'counters', 'default') "
        "for key in ('BACKEND', 'LOCATION')), s.SESSION_ENGINE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "newsroom.postgresql",
        "papers",
        "newsroom.redis_cache.PooledRedisCache",
        "redis://127.0.0.1:6379/3",
        "newsroom.redis_cache.PooledRedisCache",
        "redis://127.0.0.1:6379/3",
        # Where allauth keeps its rate limits: with the counters, forgiving Redis going away.
        "newsroom.redis_cache.LocalFallbackRedisCache",
        "redis://127.0.0.1:6379/3",
        "newsroom.sessions",
    ]


def test_the_counters_may_have_a_redis_of_their_own():
    result = django_process(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "REDIS_URL": "redis://cache:6379/0",
            "COUNTERS_REDIS_URL": "redis://counters:6379/0",
        },
        "from django.conf import settings as s; "
        "print(*(s.CACHES[alias]['LOCATION'] for alias in ('pages', 'counters', 'default')))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "redis://cache:6379/0",
        "redis://counters:6379/0",
        "redis://counters:6379/0",
    ]


def test_without_redis_the_caches_are_local_memory_apart_and_sessions_in_the_database():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "from django.conf import settings as s; c = s.CACHES; "
        "print(c['pages']['BACKEND'], c['pages']['LOCATION'], c['counters']['BACKEND'], "
        "c['counters']['LOCATION'], c['counters']['OPTIONS']['MAX_ENTRIES'], "
        "c['default'] == c['counters'], s.SESSION_ENGINE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "pages",
        "django.core.cache.backends.locmem.LocMemCache",
        "counters",
        "100000",
        "True",
        "newsroom.sessions",
    ]


def test_sqlite_runs_in_immediate_mode_with_a_busy_timeout():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(o['transaction_mode'], o['timeout'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["IMMEDIATE", "20"]


def test_postgresql_compiles_no_query_just_in_time():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u@127.0.0.1:5432/newsroom"},
        "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'options': '-c jit=off'}"


CHECK = "from django.core.management import call_command; call_command('check')"


def test_a_bad_number_in_the_environment_is_named():
    result = django_process({"DJANGO_SECRET_KEY": "x" * 50, "COMMENTS_MAX_DEPTH": "deep"}, CHECK)
    assert result.returncode != 0
    assert "COMMENTS_MAX_DEPTH must be a whole number of at least 1, not 'deep'" in result.stderr
    assert "Traceback" not in result.stderr.split("SystemCheckError")[-1]


@pytest.mark.parametrize("name", ["COMMENT_RATE_LIMIT", "ADMIN_LOGIN_RATE_LIMIT"])
def test_a_malformed_rate_limit_stops_start_up_and_names_the_variable(name):
    result = django_process({"DJANGO_SECRET_KEY": "x" * 50, name: "lots"}, CHECK)
    assert result.returncode != 0
    assert f'{name} must be "N/SECONDS"' in result.stderr


def test_settings_import_nothing_from_the_project():
    tree = ast.parse((ROOT / "newsroom" / "settings.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    project = {"newsroom", "articles", "comments"}
    assert imported and not {name for name in imported if name.split(".")[0] in project}


@pytest.mark.parametrize(("max_age", "kept"), [("", "True"), ("0", "False")])
def test_a_sqlite_connection_is_kept_between_requests_unless_told_otherwise(
    tmp_path, max_age, kept
):
    result = django_process(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DATABASE_CONN_MAX_AGE": max_age,
        },
        """
        from django.core.signals import request_finished, request_started
        from django.db import connection

        def request():
            request_started.send(None)
            connection.cursor().execute("SELECT 1")
            opened = connection.connection
            request_finished.send(None)
            return opened

        print(request() is request())
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kept


def test_the_project_logs_to_stdout():
    result = django_process(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "import logging; logging.getLogger('comments').warning('report flood from 203.0.113.7')",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING comments report flood from 203.0.113.7" in result.stdout
    assert "report flood" not in result.stderr
