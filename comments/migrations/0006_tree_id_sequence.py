"""Tree ids of new comment trees come from a PostgreSQL sequence (comments.models.tree_ids_allocate).

The sequence starts after the largest tree id stored. On other databases nothing changes: their
writers are serialised, so MAX(tree_id) + 1 stays safe.
"""

from django.db import migrations

SEQUENCE = "comments_comment_tree_id_seq"


def sequence_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Owned by the column: dropped with the table, reset by TRUNCATE ... RESTART IDENTITY.
    schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE} OWNED BY comments_comment.tree_id")
    schema_editor.execute(
        "SELECT setval(%s, COALESCE(MAX(tree_id), 0) + 1, false) FROM comments_comment",
        [SEQUENCE],
    )


def sequence_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):

    dependencies = [
        ("comments", "0005_report_once_per_reporter"),
    ]

    operations = [
        migrations.RunPython(sequence_create, sequence_drop),
    ]
