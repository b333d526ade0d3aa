"""Reports count once per reporter (an IPv4 address or an IPv6 /64), no longer per session.

Existing reports get their reporter from the address stored with them. Where one reporter had
reported a comment several times from fresh sessions, the earliest report is kept, open if any
of them was still open, and the others are deleted: they were the same reader counted again.
The new constraint follows in 0005: PostgreSQL refuses to alter a table in the transaction that
changed its rows ("pending trigger events").
"""

from django.db import migrations, models

from comments.models import reporter_key


def set_reporters(apps, schema_editor):
    Report = apps.get_model("comments", "Report")
    kept: dict[tuple[int, str], object] = {}
    for report in Report.objects.order_by("created", "id").iterator():
        key = (report.comment_id, reporter_key(ip_address=report.ip_address))
        first = kept.get(key)
        if first is None:
            report.reporter = key[1]
            report.save(update_fields=["reporter"])
            kept[key] = report
            continue
        if first.resolved and not report.resolved:
            first.resolved = False
            first.save(update_fields=["resolved"])
        report.delete()


def restore_session_keys(apps, schema_editor):
    """Going back, each reporter stands for the session the old constraint counted."""
    Report = apps.get_model("comments", "Report")
    Report.objects.update(session_key=models.F("reporter"))


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0003_moderators_group"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="report", name="report_once_per_session"),
        migrations.AddField(
            model_name="report",
            name="reporter",
            field=models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.RunPython(set_reporters, restore_session_keys),
    ]
