"""The restore check's own judgement (``verify.restore``): facts recorded before a wipe and after a restore
are compared subject by subject, a broken letter, chain or document is reported on its own, and the
restore command's report is read as printed."""

from __future__ import annotations

import copy
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from verify import restore

LETTER_PDF = b"%PDF-1.7 letter"
LETTER_SHA = hashlib.sha256(LETTER_PDF).hexdigest()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def facts() -> dict[str, Any]:
    """Facts as ``verify.restore`` records them: two tables, a letter, two chained events, a document."""
    first, second = sha("event 1"), sha("event 2")
    return {
        "tables": {
            "rebuttal_rebuttalcase": {"rows": 1, "sha256": sha("cases")},
            "reports_letter": {"rows": 1, "sha256": sha("letters")},
        },
        "letters": {"1": [LETTER_SHA, LETTER_SHA]},
        "chains": {
            "RB-2026-0001": {"head": [2, second], "events": [[1, "", first], [2, first, second]]},
        },
        "chain_problems": [],
        "documents": {"1": {"file": "documents/a.pdf", "sha256": sha("pdf"), "file_sha256": sha("pdf")}},
        "media": {"documents/a.pdf": sha("pdf")},
    }


def no_differences() -> dict[str, list[str]]:
    return {"tables": [], "letters": [], "chains": [], "documents": [], "media": []}


# --- before and after --------------------------------------------------------------------------------


def test_identical_facts_show_no_difference():
    assert restore.compare_facts(facts(), copy.deepcopy(facts())) == no_differences()


def test_a_table_with_fewer_rows_after_the_restore_is_reported():
    after = facts()
    after["tables"]["reports_letter"] = {"rows": 0, "sha256": sha("")}

    differences = restore.compare_facts(facts(), after)

    assert differences["tables"] == ["table reports_letter: 1 rows before, 0 after"]
    assert differences["letters"] == []


def test_a_table_with_the_same_rows_but_other_content_is_reported():
    after = facts()
    after["tables"]["rebuttal_rebuttalcase"]["sha256"] = sha("cases, one field changed")

    differences = restore.compare_facts(facts(), after)

    assert differences["tables"] == [
        "table rebuttal_rebuttalcase: the same 1 rows in number, but their content differs"
    ]


def test_a_letter_whose_pdf_changed_lost_or_appeared_is_reported():
    after = facts()
    forged = sha("forged")
    after["letters"]["1"] = [LETTER_SHA, forged]
    after["letters"]["2"] = [forged, forged]

    differences = restore.compare_facts(facts(), after)

    assert differences["letters"] == [
        f"letter 1: SHA-256 stored/recomputed [{LETTER_SHA[:12]}, {LETTER_SHA[:12]}] before, "
        f"[{LETTER_SHA[:12]}, {forged[:12]}] after",
        "letter 2: not there before",
    ]
    del after["letters"]["1"]
    assert restore.compare_facts(facts(), after)["letters"][0] == "letter 1: gone"


def test_an_audit_event_with_another_hash_is_reported_by_its_number():
    after = facts()
    after["chains"]["RB-2026-0001"]["events"][1][2] = sha("altered")

    differences = restore.compare_facts(facts(), after)

    assert differences["chains"] == [
        f"audit chain of RB-2026-0001: event #2: hash {sha('event 2')[:12]} before, "
        f"{sha('altered')[:12]} after"
    ]


def test_a_chain_that_lost_its_last_event_is_reported():
    after = facts()
    after["chains"]["RB-2026-0001"]["events"].pop()

    assert restore.compare_facts(facts(), after)["chains"] == [
        "audit chain of RB-2026-0001: 2 events before, 1 after"
    ]


def test_a_lost_media_file_and_its_document_are_reported():
    after = facts()
    del after["media"]["documents/a.pdf"]
    after["documents"]["1"]["file_sha256"] = None

    differences = restore.compare_facts(facts(), after)

    assert differences["media"] == ["media file documents/a.pdf: gone"]
    assert len(differences["documents"]) == 1
    assert differences["documents"][0].startswith("document 1: ")
    assert differences["tables"] == differences["letters"] == differences["chains"] == []


# --- one set of facts on its own ---------------------------------------------------------------------


def test_intact_facts_show_no_problem():
    assert restore.integrity_problems(facts()) == {"letters": [], "chains": [], "documents": []}


def test_a_letter_whose_pdf_no_longer_matches_its_recorded_hash_is_a_problem():
    broken = facts()
    broken["letters"]["1"][1] = sha("other bytes")

    assert restore.integrity_problems(broken)["letters"] == [
        f"letter 1: recorded SHA-256 {LETTER_SHA[:12]}, the stored PDF hashes to {sha('other bytes')[:12]}"
    ]


def test_an_event_that_does_not_link_to_the_one_before_breaks_the_chain():
    broken = facts()
    broken["chains"]["RB-2026-0001"]["events"][1][1] = sha("elsewhere")

    assert restore.integrity_problems(broken)["chains"] == [
        "RB-2026-0001 event #2: does not link to the event before"
    ]


def test_a_missing_event_and_a_stale_head_break_the_chain():
    broken = facts()
    events = broken["chains"]["RB-2026-0001"]["events"]
    events[1][0] = 3  # event #2 gone, #3 links to #1

    problems = restore.integrity_problems(broken)["chains"]

    assert problems == ["RB-2026-0001: event #3 where #2 was expected"]
    events.pop()
    assert restore.integrity_problems(broken)["chains"] == [
        "RB-2026-0001: the case's chain head does not match its events"
    ]


def test_the_applications_own_chain_verdict_counts_too():
    broken = facts()
    broken["chain_problems"] = ["RB-2026-0001 event #1: content altered (hash mismatch)"]

    assert restore.integrity_problems(broken)["chains"] == broken["chain_problems"]


def test_a_document_whose_file_is_missing_or_altered_is_a_problem():
    broken = facts()
    broken["documents"]["2"] = {"file": "documents/b.png", "sha256": sha("png"), "file_sha256": None}
    broken["documents"]["1"]["file_sha256"] = sha("replaced")

    assert restore.integrity_problems(broken)["documents"] == [
        "document 1 (documents/a.pdf): file does not match its SHA-256",
        "document 2 (documents/b.png): file missing",
    ]


# --- helpers -----------------------------------------------------------------------------------------


def test_a_tables_digest_ignores_row_order_but_not_content():
    rows = [(1, "alice", b"\x00pdf"), (2, "bob", None)]

    digest = restore.table_digest(rows)

    assert restore.table_digest(list(reversed(rows))) == digest
    assert restore.table_digest([(1, "alice", memoryview(b"\x00pdf")), (2, "bob", None)]) == digest
    assert restore.table_digest([(1, "alice", b"\x00pdF"), (2, "bob", None)]) != digest
    assert restore.table_digest([(1, "alice", b"\x00pdf")]) != digest
    assert restore.table_digest([(1, "alice", b"\x00pdf"), (2, "bob", "None")]) != digest


RESTORE_OUTPUT = """\
/tmp/backup: intact. sqlite database, 2 case(s), 9 event(s), 1 letter(s), 3 document(s), 3 media file(s).
Restored /tmp/backup into database /tmp/db.sqlite3.
OK     counts: 2 cases, 9 events, 1 letters, 3 documents
OK     migrations: 11 apps at their recorded migration
FAILED letters: 1 letter(s), 1 altered
         letter 1 (outcome) of RB-2026-0001: the stored PDF no longer matches its SHA-256
OK     audit chains: 2 case chain(s), 0 broken
OK     documents: 3 document file(s), 0 bad
"""


def test_the_restore_commands_report_is_read_check_by_check():
    report = restore.parse_restore_report(RESTORE_OUTPUT)

    assert report == {
        "counts": (True, "2 cases, 9 events, 1 letters, 3 documents"),
        "migrations": (True, "11 apps at their recorded migration"),
        "letters": (False, "1 letter(s), 1 altered"),
        "audit chains": (True, "2 case chain(s), 0 broken"),
        "documents": (True, "3 document file(s), 0 bad"),
    }
    assert set(report) == set(restore.RESTORE_CHECKS)


def test_flip_byte_changes_exactly_one_bit_in_place(tmp_path: Path):
    path = tmp_path / "database.dump"
    original = bytes(range(256)) * 4
    path.write_bytes(original)

    offset = restore.flip_byte(path)

    damaged = path.read_bytes()
    assert len(damaged) == len(original)
    assert [index for index in range(len(original)) if damaged[index] != original[index]] == [offset]
    assert damaged[offset] ^ original[offset] == 1


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (2_202_009, "2.1 MB")]
)
def test_human_size(size: int, shown: str):
    assert restore.human_size(size) == shown


# --- the facts are read from the database ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_facts_see_an_altered_letter_a_new_event_and_a_lost_document(
    settings: Any, tmp_path: Path, requester: Any, hr: Any
):
    from django.db import connection, transaction

    from rebuttal.documents import document_add
    from rebuttal.models import RebuttalCase
    from reports.models import Letter
    from tests.factories import advance, make_case
    from tests.upload_corpus import benign_files

    settings.MEDIA_ROOT = str(tmp_path / "media")
    case = advance(make_case(requester), to="submitted", requester=requester, hr=hr)
    name, content = benign_files()[0]
    document = document_add(
        case_id=case.pk, actor=requester, kind="evidence", name=name, fileobj=io.BytesIO(content)
    )
    before = restore._facts()  # noqa: SLF001 - the helper the check runs in its subprocess
    assert restore.integrity_problems(before) == {"letters": [], "chains": [], "documents": []}
    assert before["letters"], "submitting a case issues its acknowledgement letter"
    assert before["media"] == {document.file.name: document.sha256}
    assert before["tables"]["rebuttal_rebuttalcase"]["rows"] == RebuttalCase.objects.count()

    letter = Letter.objects.order_by("pk").first()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE reports_letter SET pdf = %s WHERE id = %s", [b"%PDF-forged", letter.pk])
    (tmp_path / "media" / document.file.name).unlink()
    make_case(requester)
    after = restore._facts()  # noqa: SLF001

    differences = restore.compare_facts(before, after)
    assert differences["letters"] == [
        f"letter {letter.pk}: SHA-256 stored/recomputed [{letter.sha256[:12]}, {letter.sha256[:12]}] before, "
        f"[{letter.sha256[:12]}, {hashlib.sha256(b'%PDF-forged').hexdigest()[:12]}] after"
    ]
    assert f"media file {document.file.name}: gone" in differences["media"]
    assert any(line.startswith("table reports_letter: the same") for line in differences["tables"])
    assert any(line.startswith("table rebuttal_rebuttalcase: ") for line in differences["tables"])
    assert any("not there before" in line for line in differences["chains"])
    broken = restore.integrity_problems(after)
    assert broken["letters"][0].startswith(f"letter {letter.pk}: recorded SHA-256")
    assert broken["documents"] == [f"document {document.pk} ({document.file.name}): file missing"]
