"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE of audit tables for everyone.

The ORM refuses these already (``rebuttal.audit``); the triggers stop anyone
going around it with SQL. TRUNCATE is let through only when the session sets
``rebuttal.allow_truncate = on``, which the test suite does to reset its
throw-away database between transactional tests.
"""

from django.db import migrations

AUDIT_TABLES = (
    "rebuttal_caseevent",
    "rebuttal_caseaccess",
    "rebuttal_historicalrebuttalcase",
    "rebuttal_policy",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION rebuttal_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('rebuttal.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records in % are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the function body's '%' placeholders are PL/pgSQL's, not the driver's.
    schema_editor.execute(FUNCTION, params=None)
    for table in AUDIT_TABLES:
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
    for table in AUDIT_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS rebuttal_refuse_audit_change();")


class Migration(migrations.Migration):
    dependencies = [("rebuttal", "0002_default_policy")]

    operations = [migrations.RunPython(install, remove)]
