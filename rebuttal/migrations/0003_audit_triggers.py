"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE of audit tables for everyone.

The ORM refuses these already (``rebuttal.audit``); the triggers stop anyone
going around it with SQL (see ``rebuttal.audit_triggers``).
"""

from django.db import migrations

from rebuttal import audit_triggers

AUDIT_TABLES = (
    "rebuttal_caseevent",
    "rebuttal_caseaccess",
    "rebuttal_historicalrebuttalcase",
    "rebuttal_policy",
)


def install(apps, schema_editor):
    audit_triggers.install(schema_editor, AUDIT_TABLES)


def remove(apps, schema_editor):
    audit_triggers.remove(schema_editor, AUDIT_TABLES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS rebuttal_refuse_audit_change();")


class Migration(migrations.Migration):
    dependencies = [("rebuttal", "0002_default_policy")]

    operations = [migrations.RunPython(install, remove)]
