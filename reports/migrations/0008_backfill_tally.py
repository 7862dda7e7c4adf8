"""Fill the running totals (``reports.Tally``) from the cases already there.

The tally is derived data: it must always equal what the current code works out
from the cases, visits, durations, failed rules and screening events, so this
calls ``reports.tally.rebuild`` itself rather than a copy frozen here. On an empty
database (a fresh install) there is nothing to count and it does nothing, so it
never runs the current code against an older schema. Reversing empties the tally.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if not apps.get_model("rebuttal", "RebuttalCase").objects.exists():
        return
    from reports import tally

    tally.rebuild()


def backwards(apps, schema_editor):
    apps.get_model("reports", "Tally").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_tally"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
