"""One report per comment per reporter (the reporters were set in 0004); the session key goes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0004_report_reporter"),
    ]

    operations = [
        # A default first, so that going back can add the column to the rows again.
        migrations.AlterField(
            model_name="report",
            name="session_key",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.RemoveField(model_name="report", name="session_key"),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.UniqueConstraint(
                fields=("comment", "reporter"), name="report_once_per_reporter"
            ),
        ),
    ]
