"""The read replica: reader pages read from it, writes and the admin use the primary.

Two real databases on the PostgreSQL server, each migrated, with different rows, and the site
run in a subprocess with DATABASE_URL and DATABASE_REPLICA_URL pointing at them.
"""

import pytest
from django.db import connection

from tests.processes import django_process

pytestmark = pytest.mark.postgres


def server_url(database: str) -> str:
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{database}"


def run_site(code: str, **env: str) -> str:
    defaults = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "COMMENT_RATE_LIMIT": "off",
    }
    result = django_process({**defaults, **env}, code)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def two_databases():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)")
    import psycopg

    base = connection.settings_dict["NAME"]
    names = [f"{base}_primary", f"{base}_replica"]

    def recreate(create: bool) -> None:
        with psycopg.connect(server_url("postgres"), autocommit=True) as server:
            for name in names:
                server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if create:
                    server.execute(f'CREATE DATABASE "{name}"')

    recreate(create=True)
    urls = [server_url(name) for name in names]
    make_article = """
        from django.core.management import call_command
        from articles.models import Article
        call_command("migrate", verbosity=0)
        Article.objects.create(title="{title}", slug="{slug}",
                               body=[{{"type": "paragraph", "text": "Text."}}])
    """
    run_site(make_article.format(title="Kept on the primary", slug="story"), DATABASE_URL=urls[0])
    run_site(make_article.format(title="Seen on the replica", slug="story"), DATABASE_URL=urls[1])
    yield urls
    recreate(create=False)


def test_reader_pages_read_the_replica_and_a_post_writes_the_primary(two_databases):
    primary, replica = two_databases
    out = run_site(
        """
        from django.test import Client
        from comments.models import Comment
        client = Client()
        page = client.get("/").content.decode()
        print("list:", "Seen on the replica" in page, "Kept on the primary" in page)
        response = client.post("/articles/story/comments/", {
            "name": "Ann", "email": "ann@example.com", "body": "Written once.", "parent": "",
        })
        print("post:", response.status_code)
        print("primary:", Comment.objects.using("default").filter(body="Written once.").count())
        print("replica:", Comment.objects.using("replica").filter(body="Written once.").count())
        """,
        DATABASE_URL=primary,
        DATABASE_REPLICA_URL=replica,
    )
    assert out.splitlines() == ["list: True False", "post: 302", "primary: 1", "replica: 0"]


def test_without_a_replica_url_there_is_one_database_and_no_router(two_databases):
    primary, _ = two_databases
    out = run_site(
        """
        from django.conf import settings
        from django.test import Client
        print(sorted(settings.DATABASES), settings.DATABASE_ROUTERS)
        print("Kept on the primary" in Client().get("/").content.decode())
        """,
        DATABASE_URL=primary,
    )
    assert out.splitlines() == ["['default'] []", "True"]
