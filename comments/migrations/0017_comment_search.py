"""Indexes for the moderators' search (comments/admin_search.py), on PostgreSQL only.

- The full-text document of each comment (`CommentSearchDocument`: the author's name and the
  body, runs of non-word characters made spaces, `simple` configuration), in a GIN index: the
  words of a search find their few comments among a million without reading them all.
- The author's email address in lower case, and the IP address: a search for either is an
  exact match.

SQLite has no such index types and serves a development site: nothing changes there, and
Django's model state is untouched, so makemigrations sees nothing to do. The indexes are built
CONCURRENTLY (hence a non-atomic migration), so comments can be posted while they are built.
"""

from django.db import migrations

INDEXES = {
    "comment_search_document_idx": "USING gin (to_tsvector('simple'::regconfig, "
    "regexp_replace((author_name || ' ' || body), '\\W+', ' ', 'g')))",
    "comment_author_email_lower_idx": "(lower(author_email))",
    "comment_ip_address_idx": "(ip_address)",
}


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON comments_comment {definition}"
        )


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("comments", "0016_picks_watch_phrases"),
    ]

    operations = [
        migrations.RunPython(indexes_create, indexes_drop, elidable=False),
    ]
