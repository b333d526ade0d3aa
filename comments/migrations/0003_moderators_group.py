"""The "Moderators" group: moderate comments and edit the policy rules; articles are read-only."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Moderators"
PERMISSIONS = {
    "comments": [
        "view_comment",
        "change_comment",
        "view_commentqueue",
        "change_commentqueue",
        "view_report",
        "change_report",
        *(
            f"{action}_{model}"
            for model in ("bannedphrase", "blockedcommenter", "moderationpolicy")
            for action in ("add", "change", "delete", "view")
        ),
    ],
    "articles": ["view_article"],
}


def moderators_create(apps, schema_editor):
    # Permissions are normally created after `migrate` finishes; on a fresh database they do
    # not exist yet when this migration runs.
    for app_label in PERMISSIONS:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, codenames in PERMISSIONS.items():
        permissions = Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        if permissions.count() != len(codenames):
            raise RuntimeError(f"Missing {app_label} permissions for the {GROUP_NAME} group.")
        group.permissions.add(*permissions)


def moderators_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0002_commentqueue"),
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(moderators_create, moderators_delete)]
