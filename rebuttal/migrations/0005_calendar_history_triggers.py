"""On PostgreSQL, the history of offices, holidays and clock pauses is append-only too."""

from django.db import migrations

from rebuttal import audit_triggers

HISTORY_TABLES = (
    "rebuttal_historicaloffice",
    "rebuttal_historicalholiday",
    "rebuttal_historicalclockpause",
)


def install(apps, schema_editor):
    audit_triggers.install(schema_editor, HISTORY_TABLES)


def remove(apps, schema_editor):
    audit_triggers.remove(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [("rebuttal", "0004_office_calendars_and_clock_pauses")]

    operations = [migrations.RunPython(install, remove)]
