"""On PostgreSQL, the pool's history tables are append-only too (see rebuttal 0003)."""

from django.db import migrations

HISTORY_TABLES = (
    "reviewers_historicalreviewer",
    "reviewers_historicalretainercontract",
    "reviewers_historicalconflict",
    "reviewers_historicalassignment",
    "reviewers_historicalfeeline",
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in HISTORY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rebuttal_refuse_audit_change();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rebuttal_refuse_audit_change();"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in HISTORY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")


class Migration(migrations.Migration):
    dependencies = [
        ("reviewers", "0001_pool_contracts_assignments"),
        ("rebuttal", "0003_audit_triggers"),
    ]

    operations = [migrations.RunPython(install, remove)]
