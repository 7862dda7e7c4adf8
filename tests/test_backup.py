"""Backups: ``manage.py backup`` and ``manage.py restore`` round-trip the database and the documents,
a damaged or foreign backup is refused before anything changes, and the verification after a restore
catches an altered letter, audit event or document."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ops import backup
from rebuttal.documents import document_add
from rebuttal.models import CaseEvent, Document, RebuttalCase
from reports.models import Letter
from tests.factories import advance, make_case
from tests.upload_corpus import benign_files

# The dump and the restore run in other sessions (pg_dump, pg_restore), which only see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

BENIGN = dict(benign_files())


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def add_document(case: RebuttalCase, actor: Any, name: str) -> Document:
    return document_add(
        case_id=case.pk, actor=actor, kind="evidence", name=name, fileobj=io.BytesIO(BENIGN[name])
    )


@pytest.fixture
def site(requester: Any, other_requester: Any, hr: Any, reviewer: Any, endorser: Any, decision_maker: Any):
    """A closed case with two documents and its letters, and a submitted case with one document."""
    closed = advance(make_case(requester), to="submitted", requester=requester, hr=hr)
    add_document(closed, requester, "Évaluation 2024.pdf")
    add_document(closed, hr, "scan page 1.JPG")
    advance(
        closed,
        to="closed",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
    )
    submitted = advance(make_case(other_requester), to="submitted", requester=other_requester, hr=hr)
    add_document(submitted, other_requester, "capture d'écran.png")
    return {"closed": closed, "submitted": submitted}


def counts() -> dict[str, int]:
    return {
        "cases": RebuttalCase.objects.count(),
        "events": CaseEvent.objects.count(),
        "letters": Letter.objects.count(),
        "documents": Document.objects.count(),
    }


def state(media_root: Path) -> dict[str, Any]:
    """What a refused restore must leave exactly as it was: rows, chain heads and media bytes."""
    return {
        "counts": counts(),
        "heads": dict(RebuttalCase.objects.values_list("reference", "last_event_hash")),
        "letters": dict(Letter.objects.values_list("pk", "sha256")),
        "media": {
            path.relative_to(media_root).as_posix(): path.read_bytes()
            for path in media_root.rglob("*")
            if path.is_file()
        },
    }


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def make_backup(tmp_path: Path, name: str = "backup") -> Path:
    path = tmp_path / name
    run("backup", "--output", str(path))
    return path


def wipe(media_root: Path) -> None:
    """Every row and every media file gone, as after losing the server."""
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(media_root, ignore_errors=True)
    assert counts() == {"cases": 0, "events": 0, "letters": 0, "documents": 0}


def raw_update(sql: str, params: list[Any]) -> None:
    """Alter an append-only row behind the application's back (on PostgreSQL, around the trigger)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


# --- round trip ----------------------------------------------------------------------------------


def test_a_backup_restores_every_case_letter_and_document_after_the_data_is_lost(
    site, media_root, tmp_path, requester
):
    before = counts()
    assert before["cases"] == 2
    assert before["letters"] >= 1
    assert before["documents"] == 3
    documents = {
        doc.pk: (doc.file.name, (media_root / doc.file.name).read_bytes()) for doc in Document.objects.all()
    }
    assert sorted(content for _, content in documents.values()) == sorted(
        BENIGN[name] for name in ("Évaluation 2024.pdf", "scan page 1.JPG", "capture d'écran.png")
    )
    letters = {letter.pk: bytes(letter.pdf) for letter in Letter.objects.all()}
    chains = {
        case.reference: list(case.events.order_by("seq").values_list("hash", flat=True))
        for case in RebuttalCase.objects.all()
    }

    path = tmp_path / "backup"
    out, _ = run("backup", "--output", str(path))

    assert str(path) in out
    assert f"{before['cases']} case(s), {before['events']} event(s), {before['letters']} letter(s)" in out
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["counts"] == before
    assert manifest["migrations"]["rebuttal"].startswith("00")
    media_files = {name for name in manifest["files"] if name.startswith("media/")}
    assert media_files == {f"media/{name}" for name, _ in documents.values()}

    wipe(media_root)
    out, _ = run("restore", str(path), "--yes")

    assert "Every check passed." in out
    assert f"OK     letters: {before['letters']} letter(s), 0 altered" in out
    assert "OK     audit chains: 2 case chain(s), 0 broken" in out
    assert "OK     documents: 3 document file(s), 0 bad" in out
    assert counts() == before
    for pk, (name, content) in documents.items():
        assert Document.objects.get(pk=pk).file.name == name
        assert (media_root / name).read_bytes() == content
    assert {letter.pk: bytes(letter.pdf) for letter in Letter.objects.all()} == letters
    assert all(letter.hash_matches() for letter in Letter.objects.all())
    restored_chains = {
        case.reference: list(case.events.order_by("seq").values_list("hash", flat=True))
        for case in RebuttalCase.objects.all()
    }
    assert restored_chains == chains
    # The restored database goes on working: new rows get new ids and references.
    newer = make_case(requester)
    assert newer.reference not in chains
    assert RebuttalCase.objects.count() == before["cases"] + 1


def test_a_backup_can_be_verified_without_restoring_it(site, tmp_path):
    path = make_backup(tmp_path)

    out, _ = run("backup", "--verify", str(path))

    assert "intact" in out
    assert "2 case(s)" in out
    assert "3 document(s), 3 media file(s)" in out


def test_a_backup_never_overwrites_an_existing_path(site, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")

    with pytest.raises(CommandError, match="already exists"):
        run("backup", "--output", str(taken))

    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "taken"]  # no partial backup left


# --- refused restores change nothing -------------------------------------------------------------


def _flip_a_media_byte(path: Path) -> None:
    victim = sorted((path / "media").rglob("*.pdf"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))


def _flip_a_database_byte(path: Path) -> None:
    dump = next(p for p in path.iterdir() if p.name.startswith("database."))
    data = bytearray(dump.read_bytes())
    data[-100] ^= 0x01
    dump.write_bytes(bytes(data))


def _remove_a_media_file(path: Path) -> None:
    sorted((path / "media").rglob("*.png"))[0].unlink()


def _add_an_unlisted_file(path: Path) -> None:
    (path / "media" / "documents" / "planted.pdf").write_bytes(b"%PDF-1.4 planted")


def _truncate_the_manifest(path: Path) -> None:
    manifest = path / "manifest.json"
    manifest.write_text(manifest.read_text()[:-40])


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_flip_a_media_byte, "SHA-256 does not match the manifest"),
        (_flip_a_database_byte, "database.* SHA-256 does not match the manifest"),
        (_remove_a_media_file, r"\.png: missing"),
        (_add_an_unlisted_file, "planted.pdf: not listed in the manifest"),
        (_truncate_the_manifest, "not valid JSON"),
    ],
    ids=["media-byte", "database-byte", "media-removed", "file-added", "manifest-truncated"],
)
def test_a_damaged_backup_is_refused_and_nothing_changes(
    site, media_root, tmp_path, requester, tamper, message
):
    path = make_backup(tmp_path)
    make_case(requester)  # the live data now differs from the backup
    tamper(path)
    before = state(media_root)

    with pytest.raises(CommandError, match=message) as refused:
        run("restore", str(path), "--yes")

    assert "Nothing was changed." in str(refused.value)
    assert state(media_root) == before
    assert sorted(p.name for p in media_root.parent.iterdir()) == ["backup", "media"]  # no staging left
    with pytest.raises(CommandError, match=message):
        run("backup", "--verify", str(path))


def _rewrite_manifest(path: Path, change: Any) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_a_backup_of_another_database_vendor_is_refused(site, media_root, tmp_path):
    path = make_backup(tmp_path)
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    old_name = backup.DUMP_NAMES[connection.vendor]
    new_name = backup.DUMP_NAMES[other]
    (path / old_name).rename(path / new_name)

    def claim_other_vendor(manifest: dict[str, Any]) -> None:
        manifest["database"].update(vendor=other, file=new_name)
        manifest["files"][new_name] = manifest["files"].pop(old_name)

    _rewrite_manifest(path, claim_other_vendor)
    before = state(media_root)

    with pytest.raises(CommandError, match=f"backup is of a {other} database.*is {connection.vendor}"):
        run("restore", str(path), "--yes")

    assert state(media_root) == before


def test_a_backup_from_a_newer_version_of_the_application_is_refused(site, media_root, tmp_path):
    path = make_backup(tmp_path)
    _rewrite_manifest(path, lambda manifest: manifest["migrations"].update(rebuttal="9999_from_the_future"))
    before = state(media_root)

    with pytest.raises(CommandError, match=r"rebuttal\.9999_from_the_future are unknown here"):
        run("restore", str(path), "--yes")

    assert state(media_root) == before


def test_restore_without_yes_refuses_when_it_cannot_ask(site, media_root, tmp_path, monkeypatch):
    path = make_backup(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    before = state(media_root)

    with pytest.raises(CommandError, match="without --yes"):
        run("restore", str(path))

    assert state(media_root) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_restore_without_yes_asks_and_a_no_changes_nothing(
    site, media_root, tmp_path, requester, monkeypatch
):
    path = make_backup(tmp_path)
    make_case(requester)
    monkeypatch.setattr("sys.stdin", _Terminal())
    asked = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "no")
    before = state(media_root)

    with pytest.raises(CommandError, match="cancelled"):
        run("restore", str(path))

    assert "Type 'yes'" in asked[0]
    assert state(media_root) == before


def test_a_failed_database_restore_leaves_the_old_media_in_place(site, media_root, tmp_path, monkeypatch):
    path = make_backup(tmp_path)
    (media_root / "documents" / "added-after-the-backup.pdf").write_bytes(b"%PDF-1.4 later")
    before = state(media_root)

    def fail(dump: Path) -> None:
        raise backup.BackupError("the database refused the restore")

    monkeypatch.setattr(backup, "_sqlite_restore", fail)
    monkeypatch.setattr(backup, "_pg_restore", fail)

    with pytest.raises(CommandError, match="the database refused the restore"):
        run("restore", str(path), "--yes")

    assert state(media_root) == before
    assert sorted(p.name for p in media_root.parent.iterdir()) == ["backup", "media"]


# --- the verification after a restore ------------------------------------------------------------


def test_an_altered_letter_in_the_restored_database_fails_the_verification(site, media_root, tmp_path):
    letter = Letter.objects.order_by("pk").first()
    raw_update("UPDATE reports_letter SET pdf = %s WHERE id = %s", [b"%PDF-forged", letter.pk])
    path = make_backup(tmp_path)  # a faithful backup of an already altered archive
    wipe(media_root)

    out = io.StringIO()
    with pytest.raises(CommandError, match=r"verification failed \(letters\)"):
        call_command("restore", str(path), "--yes", "--no-progress", stdout=out)

    report = out.getvalue()
    assert "FAILED letters" in report
    assert f"letter {letter.pk} ({letter.kind}) of {letter.case.reference}: the stored PDF" in report
    assert "OK     audit chains" in report
    assert "OK     counts" in report


def test_an_altered_audit_event_in_the_restored_database_fails_the_verification(site, media_root, tmp_path):
    case = site["submitted"]
    event = CaseEvent.objects.filter(case=case).order_by("seq").first()
    raw_update("UPDATE rebuttal_caseevent SET changes = %s WHERE id = %s", ['{"forged": true}', event.pk])
    path = make_backup(tmp_path)
    wipe(media_root)

    out = io.StringIO()
    with pytest.raises(CommandError, match=r"verification failed \(audit chains\)"):
        call_command("restore", str(path), "--yes", "--no-progress", stdout=out)

    assert f"{case.reference} event #{event.seq}: content altered (hash mismatch)" in out.getvalue()
    assert "OK     letters" in out.getvalue()


def test_an_altered_or_lost_document_is_reported_by_the_backup_and_by_the_restore(site, media_root, tmp_path):
    altered, lost, _ = Document.objects.order_by("pk")
    (media_root / altered.file.name).write_bytes(b"%PDF-1.4 replaced behind the application's back")
    (media_root / lost.file.name).unlink()
    path = tmp_path / "backup"

    err = io.StringIO()
    with pytest.raises(CommandError, match="2 document file"):
        call_command("backup", "--output", str(path), "--no-progress", stdout=io.StringIO(), stderr=err)

    assert f"{altered.file.name} does not match its recorded SHA-256" in err.getvalue()
    assert f"{lost.file.name} is missing" in err.getvalue()
    assert (path / "manifest.json").exists()  # written all the same: the rest is worth keeping
    wipe(media_root)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"verification failed \(documents\)"):
        call_command("restore", str(path), "--yes", "--no-progress", stdout=out)
    report = out.getvalue()
    assert "FAILED documents: 3 document file(s), 2 bad" in report
    assert (
        f"document {altered.pk} ({altered.file.name}) of {altered.case.reference}: file does not match"
        in report
    )
    assert f"document {lost.pk} ({lost.file.name}) of {lost.case.reference}: file missing" in report


# --- database specifics --------------------------------------------------------------------------


def test_the_sqlite_backup_is_a_self_contained_database_file(site, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: this run is on PostgreSQL")
    path = make_backup(tmp_path)
    dump = path / "database.sqlite3"

    assert dump.read_bytes()[:16] == b"SQLite format 3\x00"
    assert sorted(p.name for p in path.iterdir()) == ["database.sqlite3", "manifest.json", "media"]
    copy = sqlite3.connect(f"{dump.as_uri()}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT COUNT(*) FROM rebuttal_rebuttalcase").fetchone()[0] == 2
    finally:
        copy.close()


@pytest.mark.postgres
def test_a_postgresql_round_trip_restores_into_the_configured_database(site, media_root, tmp_path, requester):
    before = counts()
    path = make_backup(tmp_path)
    assert (path / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    later = make_case(requester)  # after the backup: the restore must take it away

    run("restore", str(path), "--yes")

    assert counts() == before
    assert not RebuttalCase.objects.filter(pk=later.pk).exists()
    # The append-only triggers came back with the tables.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM rebuttal_caseevent")
    # Sequences came back too: a new case does not collide with a restored one.
    restored = set(RebuttalCase.objects.values_list("pk", flat=True))
    assert make_case(requester).pk not in restored


def _add_later_tables() -> None:
    """Tables made after the backup (as by a later migration), holding rows: one refers to a case."""
    case = RebuttalCase.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE later_link (id integer PRIMARY KEY, "
            'case_id bigint NOT NULL REFERENCES "rebuttal_rebuttalcase" ("id"))'
        )
        cursor.execute("INSERT INTO later_link (id, case_id) VALUES (1, %s)", [case.pk])
        cursor.execute("CREATE TABLE later_tally (id integer PRIMARY KEY, n integer NOT NULL)")
        cursor.execute("INSERT INTO later_tally (id, n) VALUES (1, 7)")


def _drop_later_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS later_link")
        cursor.execute("DROP TABLE IF EXISTS later_tally")


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_a_sqlite_restore_takes_away_tables_made_after_the_backup(site, media_root, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("needs SQLite: this run is on PostgreSQL")
    before = counts()
    path = make_backup(tmp_path)
    _add_later_tables()
    try:
        out, _ = run("restore", str(path), "--yes")

        assert "Every check passed." in out
        assert not _tables() & {"later_link", "later_tally"}
        assert counts() == before
    finally:
        _drop_later_tables()


@pytest.mark.postgres
def test_a_postgresql_restore_into_a_database_with_later_tables_is_refused(site, media_root, tmp_path):
    """pg_restore --clean drops only what the dump holds: a later table would have stayed behind with its
    rows while the report said every check passed (or, referring to a case, made pg_restore fail)."""
    path = make_backup(tmp_path)
    _add_later_tables()
    try:
        before = state(media_root)

        with pytest.raises(
            CommandError, match=r"tables the backup does not \(later_link, later_tally\)"
        ) as refused:
            run("restore", str(path), "--yes")

        assert "Restore into an empty database" in str(refused.value)
        assert "Nothing was changed." in str(refused.value)
        assert state(media_root) == before
        assert {"later_link", "later_tally"} <= _tables()
        assert sorted(p.name for p in media_root.parent.iterdir()) == ["backup", "media"]  # no staging left
        _drop_later_tables()
        # The database at the backup's version again: the same backup restores.
        out, _ = run("restore", str(path), "--yes")
        assert "Every check passed." in out
    finally:
        _drop_later_tables()


@pytest.mark.postgres
def test_a_missing_pg_dump_is_a_clear_error(site, tmp_path, monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)

    with pytest.raises(CommandError, match="pg_dump was not found"):
        run("backup", "--output", str(tmp_path / "backup"))

    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]
