"""Backups of the whole service: the database, the uploaded documents and a manifest.

A backup is a directory (not an archive), so that ``pg_restore`` and SQLite read
the dump in place, each file can be checked or restored on its own without
unpacking, and copying it off-site (rsync, object storage) needs nothing special;
``tar`` it to make one file. It holds:

- ``database.dump`` (PostgreSQL, ``pg_dump -Fc``) or ``database.sqlite3`` (SQLite,
  copied with the online backup API, so it is consistent while the app runs);
- ``media/``: every file under ``MEDIA_ROOT`` (the documents); letters are rows
  (``reports.Letter.pdf``), so they come with the database;
- ``manifest.json``: when, which database, the latest migration of each app, counts
  of cases, events, letters and documents (read from the same snapshot as the
  dump), and the SHA-256 of every other file.

A backup is written under a temporary name and renamed when complete, so a
half-written one never looks valid. A restore checks every checksum first and
changes nothing if one fails (nor, on PostgreSQL, when the database holds a table
the dump does not, which ``pg_restore --clean`` would leave behind); it stages the
media beside ``MEDIA_ROOT`` and swaps it in only once the database is restored,
then recomputes every letter's hash, every case's audit chain and every
document's checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from tqdm import tqdm

from rebuttal.audit_chain import verify_all_chains
from rebuttal.models import CaseEvent, Document, RebuttalCase
from reports.models import Letter

FORMAT = "rebuttal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1024 * 1024
# libpq reads these from the environment; dj-database-url puts them in OPTIONS.
PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; ``str(error)`` says why, for the operator."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    # Documents whose file was missing or did not match its recorded SHA-256 when backed up.
    document_problems: list[str] = field(default_factory=list)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    checks: list[Check]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


# --- helpers ---------------------------------------------------------------------------------


def _counted_tables() -> dict[str, str]:

    return {
        "cases": RebuttalCase._meta.db_table,
        "events": CaseEvent._meta.db_table,
        "letters": Letter._meta.db_table,
        "documents": Document._meta.db_table,
    }


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target``, hashing the bytes as they are written."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest(), size


def _files_under(root: Path) -> list[str]:
    """Every regular file under ``root`` as a POSIX path relative to it (symbolic links are skipped)."""
    if not root.is_dir():
        return []
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _sqlite_readonly(path: Path) -> sqlite3.Connection:
    # immutable=1: reading leaves no -wal/-shm/-journal file behind in the backup.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _latest_migrations(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The last applied migration of each app, from ``(app, name)`` rows in the order applied."""
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = name
    return dict(sorted(latest.items()))


def _snapshot_facts(cursor: Any) -> tuple[dict[str, int], dict[str, str], list[tuple[str, str]]]:
    """Counts, latest migrations and documents (file, sha256), read through a DB-API cursor."""
    counts = {}
    for label, table in _counted_tables().items():
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[label] = cursor.fetchone()[0]
    cursor.execute('SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')
    migrations = _latest_migrations(cursor.fetchall())
    column = Document._meta.get_field("file").column
    cursor.execute(f'SELECT "{column}", "sha256" FROM "{Document._meta.db_table}" ORDER BY "id"')
    documents = [(name, sha) for name, sha in cursor.fetchall()]
    return counts, migrations, documents


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools "
            f"(Debian: apt-get install postgresql-client) in the server's major version or newer."
        )
    return path


def _pg_command(tool: str, settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The tool's connection arguments and environment (the password only in PGPASSWORD)."""
    args = [_pg_tool(tool), "--no-password", "--dbname", str(settings_dict["NAME"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    for option, variable in PG_OPTION_ENV.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value is not None:
            env[variable] = str(value)
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit status {result.returncode}):\n{result.stderr.strip()}")
    return result


def _pg_dump(target: Path) -> tuple[dict[str, int], dict[str, str], list[tuple[str, str]]]:
    """Dump the database, and read the manifest's facts from the very snapshot that was dumped."""
    args, env = _pg_command("pg_dump", connection.settings_dict)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        # Outside Django's transaction management (autocommit): an explicit transaction whose
        # snapshot pg_dump shares, so counts, migrations and documents match the dump exactly.
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            _run([*args, "--format=custom", "--snapshot", snapshot, "--file", str(target)], env, "pg_dump")
            return _snapshot_facts(cursor)
        finally:
            cursor.execute("ROLLBACK")


# A table in pg_restore's table of contents: "215; 1259 27374 TABLE public name owner".
PG_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")


def _pg_dump_tables(dump: Path) -> set[str]:
    """The names of the tables the dump holds, from its table of contents."""
    result = _run([_pg_tool("pg_restore"), "--list", str(dump)], dict(os.environ), "pg_restore --list")
    return {match[2] for line in result.stdout.splitlines() if (match := PG_TOC_TABLE.match(line))}


def _pg_refuse_later_tables(dump: Path) -> None:
    """Refuse a database holding tables the dump does not (made by a later migration): ``pg_restore
    --clean`` drops and recreates only what the dump holds, so such a table would stay behind with its
    rows (and the pending migration could not create it again), or block the restore with its foreign keys.
    """
    with connection.cursor() as cursor:
        later = sorted(set(connection.introspection.table_names(cursor)) - _pg_dump_tables(dump))
    if later:
        raise BackupError(
            f"The database holds tables the backup does not ({', '.join(later)}); "
            "a restore would leave them behind. Restore into an empty database (drop and create it again, "
            "or point DATABASE_URL at a new one), then run `manage.py migrate` if the report says so. "
            "Nothing was changed."
        )


def _pg_restore(dump: Path) -> None:
    args, env = _pg_command("pg_restore", connection.settings_dict)
    # Our own session must hold no lock on the tables pg_restore drops.
    connection.close()
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*args, *options, str(dump)], env, "pg_restore")


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_dump(target: Path) -> tuple[dict[str, int], dict[str, str], list[tuple[str, str]]]:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # A self-contained file: no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    # The facts come from the copy itself, so they describe exactly what was saved.
    reader = _sqlite_readonly(target)
    try:
        return _snapshot_facts(reader.cursor())
    finally:
        reader.close()


def _sqlite_restore(dump: Path) -> None:
    # A file database: drop our connection so the next one opens the restored data. (Django
    # ignores close() on the in-memory test database, which is then restored in place.)
    connection.close()
    connection.ensure_connection()
    source = _sqlite_readonly(dump)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


# --- backup ----------------------------------------------------------------------------------


def backup_create(*, output: Path, progress: bool = True) -> BackupResult:
    """Write a complete backup to the new directory ``output``; refuses an existing path."""
    output = Path(output)
    if output.exists() or output.is_symlink():
        raise BackupError(f"{output} already exists; a backup never overwrites anything. Choose a new path.")
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside a database transaction.")
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    try:
        created_at = timezone.now()
        dump_name = DUMP_NAMES[vendor]
        dump = _pg_dump if vendor == "postgresql" else _sqlite_dump
        counts, migrations, documents = dump(work / dump_name)
        dumped = work / dump_name
        files = {dump_name: {"sha256": _sha256_file(dumped), "size": dumped.stat().st_size}}

        # The media after the dump: documents are written before their row commits and never
        # changed, so every document in the dump already has its file.
        media_root = _media_root()
        names = _files_under(media_root)
        for name in tqdm(names, desc="Copying media", unit="file", disable=not progress):
            sha, size = _copy_hashing(media_root / name, work / MEDIA / name)
            files[f"{MEDIA}/{name}"] = {"sha256": sha, "size": size}

        document_problems = []
        for name, sha in documents:
            copied = files.get(f"{MEDIA}/{name}")
            if copied is None:
                document_problems.append(f"document file {name} is missing from {media_root}")
            elif copied["sha256"] != sha:
                document_problems.append(f"document file {name} does not match its recorded SHA-256")

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at.isoformat(),
            "database": {"vendor": vendor, "name": str(connection.settings_dict["NAME"]), "file": dump_name},
            "migrations": migrations,
            "counts": counts,
            "files": dict(sorted(files.items())),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if output.exists():
            raise BackupError(f"{output} appeared while the backup was written; it was left alone.")
        work.rename(output)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(path=output, manifest=manifest, document_problems=document_problems)


# --- verification of a backup ----------------------------------------------------------------


def manifest_read(path: Path) -> dict[str, Any]:
    """The backup's manifest, or ``BackupError`` if it is missing or not one of ours."""
    manifest_path = Path(path) / MANIFEST
    if not Path(path).is_dir():
        raise BackupError(f"{path} is not a backup directory.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} has no {MANIFEST}; it is not a backup, or an incomplete one.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{manifest_path} is damaged (not valid JSON: {exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{manifest_path} is not the manifest of a backup made by this application.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"This backup has format version {manifest.get('format_version')!r}; "
            f"this application reads version {FORMAT_VERSION}."
        )
    for key, kind in (("database", dict), ("migrations", dict), ("counts", dict), ("files", dict)):
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"{manifest_path} is damaged: its {key!r} entry is missing or malformed.")
    database = manifest["database"]
    if database.get("vendor") not in DUMP_NAMES or database.get("file") != DUMP_NAMES[database["vendor"]]:
        raise BackupError(f"{manifest_path} is damaged: unknown database {database!r}.")
    return manifest


def _safe_relative(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name


def backup_problems(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Every way the files of the backup differ from its manifest (empty: intact)."""
    path = Path(path)
    problems = []
    listed = manifest["files"]
    for name, entry in listed.items():
        if not _safe_relative(name) or not isinstance(entry, dict):
            problems.append(f"{name}: not a valid entry of the manifest")
            continue
        file = path / name
        if not file.is_file() or file.is_symlink():
            problems.append(f"{name}: missing")
        elif (size := file.stat().st_size) != entry.get("size"):
            problems.append(f"{name}: size {size} bytes, the manifest says {entry.get('size')}")
        elif _sha256_file(file) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 does not match the manifest (altered or damaged)")
    dump_name = manifest["database"]["file"]
    if dump_name not in listed:
        problems.append(f"{dump_name}: the database dump is not listed in the manifest")
    for name in _files_under(path):
        if name != MANIFEST and name not in listed:
            problems.append(f"{name}: not listed in the manifest")
    return problems


def _dump_readable(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Whether the database tools can read the dump (after its checksum matched)."""
    dump = Path(path) / manifest["database"]["file"]
    if manifest["database"]["vendor"] == "sqlite":
        try:
            reader = _sqlite_readonly(dump)
            try:
                result = reader.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                reader.close()
        except sqlite3.Error as exc:
            return [f"{dump.name}: SQLite cannot read it ({exc})"]
        return [] if result == "ok" else [f"{dump.name}: SQLite integrity check: {result}"]
    result = subprocess.run(  # noqa: S603
        [_pg_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return [f"{dump.name}: pg_restore cannot read it ({result.stderr.strip()})"]
    return []


def backup_verify(path: Path) -> dict[str, Any]:
    """Check a backup without restoring it: the manifest, every checksum, and a readable dump.

    Returns the manifest; raises ``BackupError`` listing every problem found.
    """
    manifest = manifest_read(path)
    problems = backup_problems(path, manifest)
    if not problems:
        problems = _dump_readable(path, manifest)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise BackupError(f"The backup at {path} is damaged:\n{listing}")
    return manifest


# --- restore ---------------------------------------------------------------------------------


def restore_preflight(manifest: dict[str, Any]) -> None:
    """Refuse a backup from another database vendor, or from a newer version of the application."""
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"This backup is of a {vendor} database; the configured database is {connection.vendor}. "
            "Restore it into a database of the same kind (DATABASE_URL)."
        )
    on_disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    recorded = manifest["migrations"].items()
    unknown = sorted(f"{app}.{name}" for app, name in recorded if (app, name) not in on_disk)
    if unknown:
        raise BackupError(
            "This backup was made by a newer or different version of the application: its migrations "
            f"{', '.join(unknown)} are unknown here. Restore it with the version that made it."
        )


def _stage_media(path: Path, manifest: dict[str, Any], *, progress: bool) -> Path:
    """Copy the backup's media into a new directory beside MEDIA_ROOT, checking every byte."""
    media_root = _media_root()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.restore-", dir=media_root.parent))
    try:
        mode = media_root.stat().st_mode & 0o7777 if media_root.is_dir() else 0o755
        staged.chmod(mode)
        prefix = f"{MEDIA}/"
        names = [name for name in manifest["files"] if name.startswith(prefix)]
        for name in tqdm(names, desc="Restoring media", unit="file", disable=not progress):
            sha, _ = _copy_hashing(Path(path) / name, staged / name[len(prefix) :])
            if sha != manifest["files"][name]["sha256"]:
                raise BackupError(f"{name} changed in the backup while being restored; nothing was restored.")
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _swap_media(staged: Path) -> None:
    """Put ``staged`` in MEDIA_ROOT's place; the old media is removed only once the swap is done."""
    media_root = _media_root()
    old = None
    try:
        if media_root.exists():
            # A free name beside MEDIA_ROOT (same file system, so both renames are atomic).
            old = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.old-", dir=media_root.parent))
            old.rmdir()
            media_root.rename(old)
        staged.rename(media_root)
    except OSError as exc:
        if old is not None and old.exists() and not media_root.exists():
            old.rename(media_root)
        raise BackupError(
            f"The database was restored, but the media could not be moved into {media_root} ({exc}). "
            f"The restored files are in {staged}; the previous media is still in place."
        ) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def backup_restore(path: Path, manifest: dict[str, Any], *, progress: bool = True) -> RestoreReport:
    """Replace the database and the media with the (verified) backup at ``path``, then verify them."""
    path = Path(path)
    restore_preflight(manifest)
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a database transaction.")
    dump = path / manifest["database"]["file"]
    if manifest["database"]["vendor"] == "postgresql":
        _pg_refuse_later_tables(dump)
    staged = _stage_media(path, manifest, progress=progress)
    try:
        # Checked again just before use: the backup may have changed since it was verified.
        if _sha256_file(dump) != manifest["files"][dump.name]["sha256"]:
            raise BackupError(f"{dump.name} changed since the backup was verified; nothing was restored.")
        if manifest["database"]["vendor"] == "postgresql":
            _pg_restore(dump)
        else:
            _sqlite_restore(dump)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    _swap_media(staged)
    _forget_cached_rows()
    return restored_verify(manifest)


def _forget_cached_rows() -> None:
    # Content types (and their ids) are cached per process; the restored rows may differ.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


# --- verification of a restored database ------------------------------------------------------


def _check_counts(manifest: dict[str, Any]) -> Check:

    now = {
        "cases": RebuttalCase.objects.count(),
        "events": CaseEvent.objects.count(),
        "letters": Letter.objects.count(),
        "documents": Document.objects.count(),
    }
    problems = [
        f"{label}: {now[label]} restored, the backup recorded {expected}"
        for label, expected in manifest["counts"].items()
        if now.get(label) != expected
    ]
    detail = ", ".join(f"{count} {label}" for label, count in now.items())
    return Check("counts", not problems, detail, problems)


def _check_migrations(manifest: dict[str, Any]) -> Check:
    now = _latest_migrations(MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"))
    problems = [
        f"{app}: latest migration {now.get(app)!r}, the backup recorded {name!r}"
        for app, name in manifest["migrations"].items()
        if now.get(app) != name
    ]
    return Check("migrations", not problems, f"{len(now)} apps at their recorded migration", problems)


def _check_letters() -> Check:

    problems = []
    checked = 0
    letters = Letter.objects.select_related("case").only("id", "kind", "pdf", "sha256", "case__reference")
    for letter in letters.order_by("id").iterator(chunk_size=100):
        checked += 1
        if not letter.hash_matches():
            problems.append(
                f"letter {letter.pk} ({letter.kind}) of {letter.case.reference}: "
                "the stored PDF no longer matches its SHA-256"
            )
    return Check("letters", not problems, f"{checked} letter(s), {len(problems)} altered", problems)


def _check_chains() -> Check:
    problems = []
    checked = broken = 0
    for _case, case_problems in verify_all_chains():
        checked += 1
        broken += bool(case_problems)
        problems += [str(problem) for problem in case_problems]
    return Check("audit chains", not problems, f"{checked} case chain(s), {broken} broken", problems)


def _check_documents() -> Check:
    media_root = _media_root()
    problems = []
    checked = 0
    for document in Document.objects.select_related("case").order_by("id").iterator(chunk_size=500):
        checked += 1
        file = media_root / document.file.name
        label = f"document {document.pk} ({document.file.name}) of {document.case.reference}"
        if not file.is_file():
            problems.append(f"{label}: file missing")
        elif _sha256_file(file) != document.sha256:
            problems.append(f"{label}: file does not match its SHA-256")
    return Check("documents", not problems, f"{checked} document file(s), {len(problems)} bad", problems)


def restored_verify(manifest: dict[str, Any]) -> RestoreReport:
    """Counts and migrations as recorded, every letter hash, audit chain and document checksum."""
    checks = [
        _check_counts(manifest),
        _check_migrations(manifest),
        _check_letters(),
        _check_chains(),
        _check_documents(),
    ]
    notes = []
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    pending = [node for node in loader.graph.leaf_nodes() if node not in loader.applied_migrations]
    if pending:
        notes.append(
            "The backup predates migrations of this version: run `manage.py migrate` "
            f"({', '.join(f'{app}.{name}' for app, name in pending)})."
        )
    return RestoreReport(checks=checks, notes=notes)


def report_lines(report: RestoreReport) -> Iterable[tuple[bool, str]]:
    """``(ok, line)`` for each check and each problem, for a command to print."""
    for check in report.checks:
        yield check.ok, f"{'OK    ' if check.ok else 'FAILED'} {check.name}: {check.detail}"
        for problem in check.problems:
            yield False, f"         {problem}"


def summary(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    media = sum(1 for name in manifest["files"] if name.startswith(f"{MEDIA}/"))
    return (
        f"{manifest['database']['vendor']} database, {counts.get('cases', 0)} case(s), "
        f"{counts.get('events', 0)} event(s), {counts.get('letters', 0)} letter(s), "
        f"{counts.get('documents', 0)} document(s), {media} media file(s); made {manifest['created_at']}"
    )
