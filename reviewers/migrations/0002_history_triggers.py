"""On PostgreSQL, the pool's history tables are append-only too (see ``rebuttal.audit_triggers``)."""

from django.db import migrations

from rebuttal import audit_triggers

HISTORY_TABLES = (
    "reviewers_historicalreviewer",
    "reviewers_historicalretainercontract",
    "reviewers_historicalconflict",
    "reviewers_historicalassignment",
    "reviewers_historicalfeeline",
)


def install(apps, schema_editor):
    audit_triggers.install(schema_editor, HISTORY_TABLES)


def remove(apps, schema_editor):
    audit_triggers.remove(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("reviewers", "0001_pool_contracts_assignments"),
        ("rebuttal", "0003_audit_triggers"),
    ]

    operations = [migrations.RunPython(install, remove)]
