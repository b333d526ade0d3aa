"""A signed-in session names the authentication backend that signed its user in. The project's
backends (comments/auth_backends.py) took the place of Django's and allauth's: each session
stored under one of those is moved to its successor, so nobody is signed out."""

from django.db import migrations

RENAMED = {
    "django.contrib.auth.backends.ModelBackend": "comments.auth_backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": (
        "comments.auth_backends.AuthenticationBackend"
    ),
}
BATCH = 1000


def rename_backends(apps, schema_editor, renamed=RENAMED):
    # The session data is signed with a salt made of the store's class name, SessionStore, which
    # Django's store and the project's share.
    from django.contrib.auth import BACKEND_SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    sessions = Session.objects.using(schema_editor.connection.alias)
    store = SessionStore()
    changed = []
    for session in sessions.iterator(chunk_size=BATCH):
        data = store.decode(session.session_data)
        if data.get(BACKEND_SESSION_KEY) in renamed:
            data[BACKEND_SESSION_KEY] = renamed[data[BACKEND_SESSION_KEY]]
            session.session_data = store.encode(data)
            changed.append(session)
        if len(changed) == BATCH:
            sessions.bulk_update(changed, ["session_data"])
            changed.clear()
    sessions.bulk_update(changed, ["session_data"])


def restore_backends(apps, schema_editor):
    rename_backends(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0018_comment_admin_indexes"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(rename_backends, restore_backends)]
