"""PostgreSQL triggers that make audit tables append-only, used by migrations.

UPDATE, DELETE and TRUNCATE are refused for everyone; TRUNCATE is let through
only when the session sets ``rebuttal.allow_truncate = on``, which the test
suite does to reset its throw-away database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


def install(schema_editor: Any, tables: Iterable[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the function body's % signs are not driver placeholders.
    schema_editor.execute(FUNCTION, params=None)
    for table in tables:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rebuttal_refuse_audit_change();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rebuttal_refuse_audit_change();"
        )


def remove(schema_editor: Any, tables: Iterable[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
