"""Backup → wipe → restore round trip on SQLite and PostgreSQL, every letter hash and audit chain verified.

For each database the check builds a throw-away one (``migrate``, ``seed_demo``,
which issues the demo's letters, and documents uploaded through
``rebuttal.documents.document_add``), all of it in a temporary folder of its own
(``MEDIA_ROOT``, the audit log, the SQLite file). It then records the facts
(every table's rows, every letter's stored and recomputed SHA-256, every audit
chain's event hashes and links, every document's checksum, every media file's
SHA-256), runs ``manage.py backup``, wipes the data (the database dropped or its
file deleted, the media folder deleted), runs ``manage.py restore`` and reads
its own verification, and compares the facts recorded before the wipe with the
restored ones itself. Then it shows that the restored database takes writes (a
new document), and that a copy of the backup with one byte of its database dump
flipped is refused with nothing changed.

PostgreSQL runs in a database of its own, ``rebuttal_verify_restore``, on the
``DATABASE_URL`` server, or on 127.0.0.1:5432 when ``DATABASE_URL`` is unset; it
is dropped at the end. If PostgreSQL cannot be reached, that half of the check
fails (it is never skipped). Every ``manage.py`` step is a subprocess.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify import server as live

DB_NAME = "rebuttal_verify_restore"
LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
ADMIN_DB_NAME = "postgres"
PG_CONNECT_TIMEOUT_SECONDS = 5
# Documents uploaded before the backup: the upload corpus's benign files, spread over this many open cases.
CASES_WITH_DOCUMENTS = 3
MARKER = "RESTORE-FACTS "
# The restore command's own checks (ops.backup.restored_verify), each printed as "OK     <name>: ...".
RESTORE_CHECKS = ("counts", "migrations", "letters", "audit chains", "documents")
SHOWN_PROBLEMS = 8
# Any manage.py step or helper still running after this long fails the check (a lock never released).
STEP_TIMEOUT_SECONDS = 600
ROOT = Path(__file__).resolve().parent.parent


# --- facts and their comparison (pure) -------------------------------------------------------------


def compare_facts(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Every difference between two sets of facts, by subject (``tables``, ``letters``, ``chains``,
    ``documents``, ``media``); a subject with no difference has an empty list."""
    differences: dict[str, list[str]] = {}
    differences["tables"] = _compare(before["tables"], after["tables"], "table", _table_change)
    differences["letters"] = _compare(
        before["letters"],
        after["letters"],
        "letter",
        lambda old, new: f"SHA-256 stored/recomputed {_short(old)} before, {_short(new)} after",
    )
    differences["chains"] = _compare(before["chains"], after["chains"], "audit chain of", _chain_change)
    differences["documents"] = _compare(
        before["documents"],
        after["documents"],
        "document",
        lambda old, new: f"{_short(old)} before, {_short(new)} after",
    )
    differences["media"] = _compare(
        before["media"],
        after["media"],
        "media file",
        lambda old, new: f"SHA-256 {old[:12]} before, {new[:12]} after",
    )
    return differences


def _compare(
    before: dict[str, Any], after: dict[str, Any], what: str, change: Callable[[Any, Any], str]
) -> list[str]:
    found = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            found.append(f"{what} {key}: gone")
        elif key not in before:
            found.append(f"{what} {key}: not there before")
        elif before[key] != after[key]:
            found.append(f"{what} {key}: {change(before[key], after[key])}")
    return found


def _short(value: Any) -> str:
    """A fact for a message: hashes cut to 12 characters."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_short(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(item) for item in value) + "]"
    if isinstance(value, str) and len(value) == 64:
        return value[:12]
    return repr(value)


def _table_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    if old["rows"] != new["rows"]:
        return f"{old['rows']} rows before, {new['rows']} after"
    return f"the same {old['rows']} rows in number, but their content differs"


def _chain_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    if len(old["events"]) != len(new["events"]):
        return f"{len(old['events'])} events before, {len(new['events'])} after"
    for (seq, _prev, digest), (_seq, _new_prev, new_digest) in zip(old["events"], new["events"], strict=True):
        if digest != new_digest:
            return f"event #{seq}: hash {digest[:12]} before, {new_digest[:12]} after"
    return f"chain head {_short(old['head'])} before, {_short(new['head'])} after"


def integrity_problems(facts: dict[str, Any]) -> dict[str, list[str]]:
    """What one set of facts shows broken on its own: a letter whose PDF no longer matches its recorded
    SHA-256, an audit chain whose events do not link (or that the application's verification rejects), a
    document whose file is missing or altered."""
    letters = [
        f"letter {pk}: recorded SHA-256 {stored[:12]}, the stored PDF hashes to {computed[:12]}"
        for pk, (stored, computed) in sorted(facts["letters"].items())
        if stored != computed
    ]
    chains = []
    for reference, chain in sorted(facts["chains"].items()):
        previous = ""
        for number, (seq, prev_hash, digest) in enumerate(chain["events"], start=1):
            if seq != number:
                chains.append(f"{reference}: event #{seq} where #{number} was expected")
            if prev_hash != previous:
                chains.append(f"{reference} event #{seq}: does not link to the event before")
            previous = digest
        if chain["head"] != [len(chain["events"]), previous]:
            chains.append(f"{reference}: the case's chain head does not match its events")
    chains += facts["chain_problems"]
    documents = [
        f"document {pk} ({document['file']}): "
        + ("file missing" if document["file_sha256"] is None else "file does not match its SHA-256")
        for pk, document in sorted(facts["documents"].items())
        if document["file_sha256"] != document["sha256"]
    ]
    return {"letters": letters, "chains": chains, "documents": documents}


def table_digest(rows: list[tuple[Any, ...]]) -> str:
    """One SHA-256 for a table's content, whatever order the rows come in (binary cells by their hash)."""

    def cell(value: Any) -> str:
        if isinstance(value, bytes | bytearray | memoryview):
            return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
        return repr(value)

    lines = sorted("\x1f".join(cell(value) for value in row) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8", "surrogatepass") + b"\x1e")
    return digest.hexdigest()


def parse_restore_report(output: str) -> dict[str, tuple[bool, str]]:
    """The restore command's own checks from its output: name -> (passed, detail)."""
    found = {}
    for line in output.splitlines():
        for prefix, ok in (("OK     ", True), ("FAILED ", False)):
            if line.startswith(prefix) and ": " in line:
                name, detail = line[len(prefix) :].split(": ", 1)
                found[name] = (ok, detail)
    return found


def flip_byte(path: Path) -> int:
    """Damage ``path`` in place: one bit of its middle byte flipped. Returns the byte's offset."""
    data = bytearray(path.read_bytes())
    offset = len(data) // 2
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    return offset


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# --- one database's round trip ---------------------------------------------------------------------


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)


@dataclass
class Target:
    """A throw-away database: the environment pointing at it, how to wipe it, how to remove it."""

    label: str
    description: str
    env: dict[str, str]
    dump_name: str
    wipe: Callable[[], str]
    drop: Callable[[], None]


@dataclass
class Outcome:
    label: str
    description: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    report: dict[str, tuple[bool, str]] = field(default_factory=dict)
    backup_bytes: int = 0
    backup_files: int = 0
    backup_seconds: float = 0.0
    restore_seconds: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.verdicts) and all(verdict.ok for verdict in self.verdicts)

    def verdict(self, name: str) -> Verdict | None:
        return next((verdict for verdict in self.verdicts if verdict.name == name), None)


def run(argv: list[str]) -> bool:
    """The round trip on SQLite, then on PostgreSQL; print the figures; whether every check held on both."""
    parser = argparse.ArgumentParser(prog="python -m verify restore", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    started = time.monotonic()
    _say("== backup → wipe → restore round trip ==")
    outcomes = [_sqlite_round_trip(), _postgres_round_trip()]
    _say()
    for outcome in outcomes:
        _report(outcome)
    _say()
    for outcome in outcomes:
        _say(f"{'PASS' if outcome.ok else 'FAIL'}  round trip on {outcome.label}")
    _say(f"restore check took {time.monotonic() - started:.0f} s")
    return all(outcome.ok for outcome in outcomes)


def _sqlite_round_trip() -> Outcome:
    directory = Path(tempfile.mkdtemp(prefix="rebuttal-verify-restore-"))
    path = directory / "db.sqlite3"
    env = _environment(directory)
    env.pop("DATABASE_URL", None)
    env["SQLITE_PATH"] = str(path)

    def wipe() -> str:
        removed = [name.name for name in directory.glob("db.sqlite3*")]
        for name in removed:
            (directory / name).unlink()
        left = list(directory.glob("db.sqlite3*"))
        if left:
            raise RuntimeError(f"the SQLite files could not be deleted: {left}")
        return f"SQLite file deleted ({', '.join(sorted(removed))})"

    target = Target(
        label="SQLite",
        description=f"SQLite, temporary file {path} (removed afterwards)",
        env=env,
        dump_name="database.sqlite3",
        wipe=wipe,
        drop=lambda: None,
    )
    try:
        return _round_trip(target, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _postgres_round_trip() -> Outcome:
    configured = os.environ.get("DATABASE_URL", "").strip()
    server_url = configured or LOCAL_POSTGRES_URL
    server = urlsplit(server_url)
    where = f"{server.hostname}:{server.port or 5432}" + (
        " (DATABASE_URL's server)" if configured else " (DATABASE_URL is not set)"
    )
    outcome = Outcome(label="PostgreSQL")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        outcome.error = (
            "DATABASE_URL is set but does not point to PostgreSQL; the PostgreSQL round trip was not run"
        )
        return outcome
    try:
        _admin_execute(server_url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported, not raised
        outcome.error = f"PostgreSQL is unreachable at {where}: {exc}".strip()
        outcome.description = f"PostgreSQL at {where}"
        _say(f"-- PostgreSQL: UNREACHABLE at {where}; this half of the check FAILS (not run) --")
        return outcome
    directory = Path(tempfile.mkdtemp(prefix="rebuttal-verify-restore-"))
    url = _with_database(server_url, DB_NAME)
    parts = urlsplit(url)
    env = _environment(directory)
    env["DATABASE_URL"] = url

    def wipe() -> str:
        _admin_execute(server_url, "DROP DATABASE {name} WITH (FORCE)")
        found = _admin_query(
            server_url, ADMIN_DB_NAME, "SELECT COUNT(*) FROM pg_database WHERE datname = %s", [DB_NAME]
        )
        if found:
            raise RuntimeError(f"database {DB_NAME} is still there after DROP DATABASE")
        # A restore goes into an empty database, as on a new server after `createdb`.
        _admin_execute(server_url, "CREATE DATABASE {name}")
        tables = _admin_query(
            server_url,
            DB_NAME,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            [],
        )
        if tables != 0:
            raise RuntimeError(f"the re-created database {DB_NAME} has {tables} tables")
        return f"database {DB_NAME} dropped, then created again empty (0 tables) for the restore"

    target = Target(
        label="PostgreSQL",
        description=(
            f"PostgreSQL, database {DB_NAME} on {parts.hostname}:{parts.port or 5432} "
            "(created for this run, dropped afterwards)"
        ),
        env=env,
        dump_name="database.dump",
        wipe=wipe,
        drop=lambda: _admin_execute(server_url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    try:
        _admin_execute(server_url, "CREATE DATABASE {name}")
        return _round_trip(target, directory)
    finally:
        try:
            target.drop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def _round_trip(target: Target, directory: Path) -> Outcome:
    outcome = Outcome(label=target.label, description=target.description)
    _say(f"-- {target.label}: {target.description} --")
    try:
        _steps(target, directory, outcome)
    except Exception as exc:  # noqa: BLE001 - the check reports every failure and goes on to the next database
        # The end of a subprocess's traceback says what went wrong.
        lines = f"{type(exc).__name__}: {exc}".strip().splitlines()
        outcome.error = "\n".join(lines[:2] + ["  ..."] + lines[-12:] if len(lines) > 16 else lines)
        _say(f"   FAILED: {lines[0]}")
    return outcome


def _steps(target: Target, directory: Path, outcome: Outcome) -> None:
    env = target.env
    media = Path(env["MEDIA_ROOT"])
    _say("   migrate, seed_demo ...")
    _manage(env, "migrate", "--noinput")
    _manage(env, "seed_demo")
    added = _helper(env, "add-documents", "0")
    _say(
        f"   {len(added['added'])} documents uploaded through document_add on "
        f"{len({doc['case'] for doc in added['added']})} open cases"
    )
    before = outcome.before = _helper(env, "facts")
    broken = integrity_problems(before)
    outcome.verdicts.append(
        Verdict(
            "data before the backup",
            bool(before["letters"] and before["documents"] and before["media"]) and not any(broken.values()),
            f"{len(before['letters'])} letters, {len(before['documents'])} documents, "
            f"{len(before['media'])} media files, every hash intact",
            [problem for problems in broken.values() for problem in problems],
        )
    )

    backup = directory / "backup"
    _say("   manage.py backup ...")
    clock = time.monotonic()
    _manage(env, "backup", "--output", str(backup), "--no-progress")
    outcome.backup_seconds = time.monotonic() - clock
    files = [path for path in backup.rglob("*") if path.is_file()]
    outcome.backup_files = len(files)
    outcome.backup_bytes = sum(path.stat().st_size for path in files)
    outcome.verdicts.append(_manifest_verdict(backup, before))

    _say("   wipe ...")
    wiped = target.wipe()
    shutil.rmtree(media)
    if media.exists():
        raise RuntimeError(f"the media folder {media} could not be deleted")
    outcome.verdicts.append(Verdict("wipe", True, f"{wiped}; media folder deleted"))

    _say("   manage.py restore ...")
    clock = time.monotonic()
    restored = _manage_result(env, "restore", str(backup), "--yes", "--no-progress")
    outcome.restore_seconds = time.monotonic() - clock
    for line in restored.stdout.splitlines():
        if line.startswith(("OK ", "FAILED ", "      ", "Every check")):
            _say(f"     | {line}")
    outcome.report = parse_restore_report(restored.stdout)
    missing = [name for name in RESTORE_CHECKS if name not in outcome.report]
    failed = [name for name, (ok, _detail) in outcome.report.items() if not ok]
    outcome.verdicts.append(
        Verdict(
            "restore's own verification",
            restored.returncode == 0
            and "Every check passed." in restored.stdout
            and not missing
            and not failed,
            f"exit status {restored.returncode}, "
            f"{len(outcome.report) - len(failed)} of {len(RESTORE_CHECKS)} checks OK",
            [f"{name}: not reported" for name in missing]
            + [f"{name}: FAILED" for name in failed]
            + ([restored.stderr.strip()[-2000:]] if restored.returncode else []),
        )
    )

    after = outcome.after = _helper(env, "facts")
    differences = compare_facts(before, after)
    broken = integrity_problems(after)
    rows = sum(table["rows"] for table in after["tables"].values())
    events = sum(len(chain["events"]) for chain in after["chains"].values())
    outcome.verdicts += [
        _judged(
            "tables and rows",
            differences["tables"],
            f"{len(after['tables'])} tables, {rows:,} rows; each table's rows and content",
            "as backed up",
        ),
        _judged(
            "letters",
            differences["letters"] + broken["letters"],
            f"{len(after['letters'])} letters, each PDF's SHA-256 recomputed",
            "as recorded and as before the wipe",
        ),
        _judged(
            "audit chains",
            differences["chains"] + broken["chains"],
            f"{len(after['chains'])} chains, {events:,} events; every hash and link",
            "intact and as before the wipe",
        ),
        _judged(
            "documents",
            differences["documents"] + broken["documents"],
            f"{len(after['documents'])} documents; each file's SHA-256",
            "as recorded and as before the wipe",
        ),
        _judged(
            "media files",
            differences["media"],
            f"{len(after['media'])} files; byte for byte (SHA-256)",
            "as before the wipe",
        ),
    ]

    # The restored database goes on working: one more upload (new ids from the restored sequences), and
    # nothing found broken that was not already broken after the restore.
    writes = _helper(env, "add-documents", "1")
    live_facts = _helper(env, "facts")
    new = writes["added"][0]
    document = live_facts["documents"].get(str(new["id"]))
    known = {problem for problems in broken.values() for problem in problems}
    new_problems = [
        problem
        for problems in integrity_problems(live_facts).values()
        for problem in problems
        if problem not in known
    ]
    outcome.verdicts.append(
        _judged(
            "restored database takes writes",
            new_problems
            + ([] if document and document["file_sha256"] == document["sha256"] else ["not stored"]),
            f"a document uploaded after the restore (id {new['id']}, {new['case']})",
            "is stored, its file and chain intact",
        )
    )

    _say("   restore of a damaged copy of the backup ...")
    tampered = directory / "backup-damaged"
    shutil.copytree(backup, tampered)
    offset = flip_byte(tampered / target.dump_name)
    refused = _manage_result(env, "restore", str(tampered), "--yes", "--no-progress")
    untouched = _helper(env, "facts")
    changed = [problem for problems in compare_facts(live_facts, untouched).values() for problem in problems]
    would_change = any(compare_facts(before, live_facts).values())
    message = refused.stderr.strip().splitlines()
    outcome.verdicts.append(
        Verdict(
            "damaged backup refused",
            refused.returncode != 0
            and "Nothing was changed." in refused.stderr
            and "SHA-256 does not match the manifest" in refused.stderr
            and not changed
            and would_change,
            f"byte {offset:,} of {target.dump_name} flipped: exit status {refused.returncode}, "
            f"{'refused' if refused.returncode else 'NOT refused'}, "
            f"{'database and media unchanged' if not changed else 'DATA CHANGED'}",
            changed
            + ([] if would_change else ["the live data equalled the backup: the test proves nothing"])
            + ([] if refused.returncode else ["the restore went ahead"])
            + [line for line in message if "SHA-256" in line],
        )
    )


def _manifest_verdict(backup: Path, before: dict[str, Any]) -> Verdict:
    """The manifest records what the data held: the counts, and every media file with its SHA-256."""
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    tables = before["tables"]
    expected = {
        "cases": tables["rebuttal_rebuttalcase"]["rows"],
        "events": tables["rebuttal_caseevent"]["rows"],
        "letters": len(before["letters"]),
        "documents": len(before["documents"]),
    }
    problems = [
        f"manifest counts {label} {manifest['counts'].get(label)}, the database held {count}"
        for label, count in expected.items()
        if manifest["counts"].get(label) != count
    ]
    listed = {
        name.removeprefix("media/"): entry["sha256"]
        for name, entry in manifest["files"].items()
        if name.startswith("media/")
    }
    problems += _compare(
        before["media"], listed, "media file", lambda old, new: "SHA-256 differs in the manifest"
    )
    return _judged(
        "backup manifest",
        problems,
        f"{manifest['database']['vendor']} dump; its counts and {len(listed)} media checksums",
        "as in the data",
    )


def _judged(name: str, problems: list[str], what: str, as_expected: str) -> Verdict:
    """A verdict that holds when nothing went wrong; its detail says so, or points at the problems."""
    if problems:
        return Verdict(name, False, f"{what}: {len(problems)} problem(s)", problems)
    return Verdict(name, True, f"{what} {as_expected}")


# --- printing --------------------------------------------------------------------------------------


def _report(outcome: Outcome) -> None:
    _say(f"{outcome.label}: {outcome.description}")
    if outcome.before is None or outcome.after is None:
        _say(f"  FAIL  {outcome.error or 'the round trip did not finish'}")
        for verdict in outcome.verdicts:
            _print_verdict(verdict.name, verdict)
        _say(f"  RESULT {outcome.label}: FAIL")
        _say()
        return
    before, after = outcome.before, outcome.after
    report = outcome.report
    _say(f"  {'figure':<34}{'backed up':>12}{'restored':>12}  verdict")
    rows = [
        ("tables", len(before["tables"]), len(after["tables"]), "tables and rows", None),
        ("rows (all tables)", _rows(before), _rows(after), "tables and rows", "counts"),
        ("letters, SHA-256 verified", len(before["letters"]), len(after["letters"]), "letters", "letters"),
        (
            "audit chains verified",
            len(before["chains"]),
            len(after["chains"]),
            "audit chains",
            "audit chains",
        ),
        (
            "  their events",
            sum(len(c["events"]) for c in before["chains"].values()),
            sum(len(c["events"]) for c in after["chains"].values()),
            "audit chains",
            None,
        ),
        (
            "documents, checksums verified",
            len(before["documents"]),
            len(after["documents"]),
            "documents",
            "documents",
        ),
        ("media files", len(before["media"]), len(after["media"]), "media files", None),
    ]
    for label, old, new, name, restore_check in rows:
        verdict = outcome.verdict(name) if name else None
        mark = ("PASS" if verdict.ok else "FAIL") if verdict else ""
        said = f"  (restore: {report[restore_check][1]})" if restore_check in report else ""
        _say(f"  {label:<34}{old:>12,}{new:>12,}  {mark}{said}")
    _say(f"  {'backup size':<34}{human_size(outcome.backup_bytes):>12}  ({outcome.backup_files} files)")
    _say(f"  {'backup time':<34}{outcome.backup_seconds:>11.2f}s  (manage.py backup, wall clock)")
    _say(
        f"  {'restore time':<34}{outcome.restore_seconds:>11.2f}s  (manage.py restore with its verification)"
    )
    _say()
    for verdict in outcome.verdicts:
        _print_verdict(verdict.name, verdict)
    if outcome.error:
        _say(f"  FAIL  {outcome.error}")
    _say(f"  RESULT {outcome.label}: {'PASS' if outcome.ok else 'FAIL'}")
    _say()


def _rows(facts: dict[str, Any]) -> int:
    return sum(table["rows"] for table in facts["tables"].values())


def _print_verdict(name: str, verdict: Verdict) -> None:
    _say(f"  {'PASS' if verdict.ok else 'FAIL'}  {name:<32}{verdict.detail}")
    if not verdict.ok:
        for problem in verdict.problems[:SHOWN_PROBLEMS]:
            _say(f"          {problem}")
        if len(verdict.problems) > SHOWN_PROBLEMS:
            _say(f"          ... and {len(verdict.problems) - SHOWN_PROBLEMS} more")


def _say(text: str = "") -> None:
    print(text, flush=True)


# --- subprocesses and PostgreSQL -------------------------------------------------------------------


def _environment(directory: Path) -> dict[str, str]:
    env = live._environment(str(directory))  # noqa: SLF001 - the verify servers' environment, files in directory
    env["LOG_LEVEL"] = "WARNING"
    return env


def _manage_result(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
    )


def _manage(env: dict[str, str], *args: str) -> None:
    finished = _manage_result(env, *args)
    if finished.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed (exit status {finished.returncode}):\n"
            f"{finished.stdout.strip()[-2000:]}\n{finished.stderr.strip()[-3000:]}"
        )


def _helper(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run this module's helper (``facts``, ``add-documents``) in a fresh interpreter on the database."""
    return live.module_json("verify.restore", env, *args, marker=MARKER, timeout=STEP_TIMEOUT_SECONDS)


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _admin_execute(server_url: str, statement: str) -> None:
    """One statement about the check's database, on the server's ``postgres`` database, in autocommit."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        _with_database(server_url, ADMIN_DB_NAME), autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT_SECONDS
    ) as conn:
        conn.execute(sql.SQL(statement).format(name=sql.Identifier(DB_NAME)))


def _admin_query(server_url: str, database: str, query: str, params: list[Any]) -> int:
    """One number from ``database`` on the server."""
    import psycopg

    with psycopg.connect(
        _with_database(server_url, database), autocommit=True, connect_timeout=PG_CONNECT_TIMEOUT_SECONDS
    ) as conn:
        return conn.execute(query, params).fetchone()[0]


# --- the helpers run inside the throw-away database's environment ----------------------------------


def _facts() -> dict[str, Any]:
    """Everything the round trip must keep, read straight from the database and MEDIA_ROOT."""
    from django.conf import settings
    from django.db import connection

    from rebuttal.audit_chain import verify_all_chains
    from rebuttal.models import CaseEvent, Document, RebuttalCase
    from reports.models import Letter

    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = cursor.fetchall()
            tables[table] = {"rows": len(rows), "sha256": table_digest(rows)}
    letters = {
        str(pk): [stored, hashlib.sha256(bytes(pdf)).hexdigest()]
        for pk, stored, pdf in Letter.objects.order_by("pk").values_list("pk", "sha256", "pdf").iterator()
    }
    chains: dict[str, dict[str, Any]] = {
        reference: {"head": [count, head], "events": []}
        for reference, count, head in RebuttalCase.objects.order_by("pk").values_list(
            "reference", "event_count", "last_event_hash"
        )
    }
    events = CaseEvent.objects.order_by("case_id", "seq").values_list(
        "case__reference", "seq", "prev_hash", "hash"
    )
    for reference, seq, prev_hash, digest in events.iterator():
        chains[reference]["events"].append([seq, prev_hash, digest])
    chain_problems = [str(problem) for _case, problems in verify_all_chains() for problem in problems]
    media_root = Path(settings.MEDIA_ROOT)
    media = {}
    if media_root.is_dir():
        for path in sorted(media_root.rglob("*")):
            if path.is_file():
                media[path.relative_to(media_root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    documents = {}
    for pk, name, sha in Document.objects.order_by("pk").values_list("pk", "file", "sha256"):
        documents[str(pk)] = {"file": name, "sha256": sha, "file_sha256": media.get(name)}
    return {
        "tables": tables,
        "letters": letters,
        "chains": chains,
        "chain_problems": chain_problems,
        "documents": documents,
        "media": media,
    }


def _add_documents(count: int) -> dict[str, Any]:
    """Upload documents as their cases' requesters: the whole benign corpus over a few open cases (``count``
    0), or ``count`` files. Fails if the demo issued no letter (nothing to verify)."""
    import io

    from rebuttal.documents import CLOSED_FOR_DOCUMENTS, document_add
    from rebuttal.models import RebuttalCase
    from reports.models import Letter
    from tests.upload_corpus import benign_files

    if not Letter.objects.exists():
        raise RuntimeError("seed_demo issued no letter: there would be no letter hash to verify")
    files = benign_files()
    if count:
        files = files[:count]
    cases = list(
        RebuttalCase.objects.exclude(status__in=CLOSED_FOR_DOCUMENTS)
        .select_related("requester")
        .order_by("pk")[:CASES_WITH_DOCUMENTS]
    )
    if not cases:
        raise RuntimeError("no open case to upload documents to")
    added = []
    for number, (name, content) in enumerate(files):
        case = cases[number % len(cases)]
        document = document_add(
            case_id=case.pk, actor=case.requester, kind="evidence", name=name, fileobj=io.BytesIO(content)
        )
        added.append({"id": document.pk, "case": case.reference, "name": name})
    return {"added": added}


def _helper_main(argv: list[str]) -> dict[str, Any]:
    import django

    django.setup()
    if argv[0] == "facts":
        return _facts()
    if argv[0] == "add-documents":
        return _add_documents(int(argv[1]))
    raise SystemExit(f"verify.restore: unknown helper {argv[0]!r}")


if __name__ == "__main__":
    # ``python -m verify.restore facts|add-documents N``: run by ``run`` in the throw-away database's
    # environment.
    print(MARKER + json.dumps(_helper_main(sys.argv[1:])), flush=True)
