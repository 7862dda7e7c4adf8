"""On PostgreSQL, uploaded documents' records are append-only: evidence is never replaced or removed."""

from django.db import migrations

from rebuttal import audit_triggers

TABLES = ("rebuttal_document",)


def install(apps, schema_editor):
    audit_triggers.install(schema_editor, TABLES)


def remove(apps, schema_editor):
    audit_triggers.remove(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("rebuttal", "0007_documents_and_upload_policy")]

    operations = [migrations.RunPython(install, remove)]
