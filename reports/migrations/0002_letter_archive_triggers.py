"""On PostgreSQL, issued letters are append-only for everyone, ORM or not (see ``rebuttal.audit_triggers``)."""

from django.db import migrations

from rebuttal import audit_triggers

TABLES = ("reports_letter",)


def install(apps, schema_editor):
    audit_triggers.install(schema_editor, TABLES)


def remove(apps, schema_editor):
    audit_triggers.remove(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_letter_archive")]

    operations = [migrations.RunPython(install, remove)]
