"""The bench's own throw-away database; the developer's ``var/db.sqlite3`` is never touched.

Without ``DATABASE_URL``: a SQLite file in a new temporary directory. With it: a
database named ``rebuttal_bench`` on the same PostgreSQL server, created (and
dropped afterwards) through the server's ``postgres`` database.

Everything here runs before ``django.setup()``: it only points the settings'
environment variables at the throw-away database.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

BENCH_DB_NAME = "rebuttal_bench"
ADMIN_DB_NAME = "postgres"


@dataclass(frozen=True)
class BenchDatabase:
    """Where the bench runs, and how to remove it afterwards."""

    vendor: str
    description: str
    drop: Callable[[], None]


def prepare() -> BenchDatabase:
    """Create the throw-away database and point the settings at it."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        if not urlsplit(url).scheme.startswith("postgres"):
            raise SystemExit("bench: DATABASE_URL must point to PostgreSQL (or be unset for SQLite)")
        return _prepare_postgres(url)
    return _prepare_sqlite()


def _prepare_sqlite() -> BenchDatabase:
    directory = tempfile.mkdtemp(prefix="rebuttal-bench-")
    path = os.path.join(directory, "bench.sqlite3")
    os.environ["SQLITE_PATH"] = path
    return BenchDatabase(
        vendor="sqlite",
        description=f"SQLite, temporary file {path} (removed afterwards)",
        drop=lambda: shutil.rmtree(directory, ignore_errors=True),
    )


def _with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name`` (credentials and options kept)."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _admin_execute(url: str, statement: str) -> None:
    """Run one statement on the server's ``postgres`` database, outside any transaction."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(_with_database(url, ADMIN_DB_NAME), autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(name=sql.Identifier(BENCH_DB_NAME)))


def _prepare_postgres(url: str) -> BenchDatabase:
    # A run that was interrupted may have left its database behind.
    _admin_execute(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin_execute(url, "CREATE DATABASE {name}")
    bench_url = _with_database(url, BENCH_DB_NAME)
    os.environ["DATABASE_URL"] = bench_url
    parts = urlsplit(bench_url)

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        _admin_execute(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return BenchDatabase(
        vendor="postgresql",
        description=(
            f"PostgreSQL, database {BENCH_DB_NAME} on {parts.hostname}:{parts.port or 5432} "
            "(created for this run, dropped afterwards)"
        ),
        drop=drop,
    )
