"""Document uploads and downloads through the API and the services: benign files round-trip intact,
hostile ones leave nothing behind, limits hold (also under concurrency), and only the right people
see a document."""

from __future__ import annotations

import copy
import io
import os
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http.multipartparser import MultiPartParser
from rest_framework.test import APIClient

from rebuttal import services
from rebuttal.audit import AppendOnlyError
from rebuttal.documents import document_add
from rebuttal.exceptions import UploadTooLarge
from rebuttal.models import CaseAccess, CaseEvent, Document, EventKind
from rebuttal.policy_validation import FIELDS
from rebuttal.selectors import policy_current
from rebuttal.uploads import KIND_BY_EXTENSION, KINDS, UploadRefused, inspect_upload
from tests.factories import advance, make_case
from tests.upload_corpus import benign_files, hostile_files, pdf_of_size
from workflow.services import case_act

MB = 1024 * 1024
LIMIT_MB = 1  # the per-file limit published for the hostile corpus, so its oversize file stays small
BENIGN = benign_files()
HOSTILE = hostile_files(LIMIT_MB * MB)
TIMEOUT = 30  # seconds a barrier waits before the test fails instead of hanging


def _readable_id(name: str) -> str:
    shown = name.encode("unicode_escape").decode("ascii") or "(empty name)"
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _ids(entries: list[tuple[str, bytes, str]]) -> list[str]:
    return [f"{code}-{_readable_id(name)}" for name, _, code in entries]


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Every stored byte lands in this test's own directory, so 'nothing written' can be checked."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root: Path) -> list[str]:
    """Every file under ``root``, relative to it."""
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )


def multipart(name: str | None, content: bytes = b"", **fields: str) -> tuple[bytes, str]:
    """A multipart body sending ``name`` byte for byte (RFC 2231 ``filename*``), unlike the test client.

    Django's test client sends ``os.path.basename(name)`` and replaces an empty name with the
    field's; a hostile name must reach the server as an attacker would send it.
    """
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    if name is not None:
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''"
            f"{quote(name, safe='')}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(client: APIClient, case_id: int, name: str | None, content: bytes = b"", **fields: str) -> Any:
    fields.setdefault("kind", "evidence")
    body, content_type = multipart(name, content, **fields)
    return client.post(f"/api/v1/cases/{case_id}/documents/", data=body, content_type=content_type)


def download(client: APIClient, document_id: int) -> Any:
    return client.get(f"/api/v1/documents/{document_id}/download/")


def body_of(response: Any) -> bytes:
    """The streamed body; the test client closes the response once it is consumed (as a server would)."""
    return b"".join(response.streaming_content)


def publish_limits(actor: Any, **limits: int) -> None:
    """Publish a policy version equal to the current one but for the given document limits."""
    current = policy_current()
    values = {name: copy.deepcopy(getattr(current, name)) for name in FIELDS}
    values.update(limits)
    services.policy_publish(actor=actor, values=values, note="Document limits for a test")


def add(case: Any, actor: Any, name: str, content: bytes, kind: str = "evidence") -> Document:
    return document_add(case_id=case.pk, actor=actor, kind=kind, name=name, fileobj=io.BytesIO(content))


def inspector_refusal(name: str, content: bytes, max_bytes: int) -> str | None:
    """The inspector's message refusing this file (what the API must pass on), or None if it passes."""
    try:
        inspect_upload(name=name, fileobj=io.BytesIO(content), max_bytes=max_bytes)
    except UploadRefused as exc:
        return str(exc)
    return None


def refusal_message(name: str, content: bytes, max_bytes: int) -> str:
    message = inspector_refusal(name, content, max_bytes)
    assert message is not None, f"{name!r} was expected to be refused"
    return message


def document_events(case: Any) -> int:
    return CaseEvent.objects.filter(case=case, kind=EventKind.DOCUMENT_ADDED).count()


@pytest.fixture
def submitted(requester: Any, hr: Any) -> Any:
    return advance(make_case(requester), to="submitted", requester=requester, hr=hr)


# --- benign files round-trip -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "content"), BENIGN, ids=[_readable_id(name) for name, _ in BENIGN])
def test_benign_file_uploads_and_downloads_byte_for_byte_as_an_attachment(
    api_as, requester, hr, submitted, media_root, name, content
):
    response = upload(api_as(requester), submitted.pk, name, content, kind="appraisal")

    assert response.status_code == 201, response.content
    data = response.json()
    content_type = KINDS[KIND_BY_EXTENSION[name[name.rindex(".") :].lower()]][0]
    assert data["name"] == name
    assert data["kind"] == "appraisal"
    assert data["content_type"] == content_type
    assert data["size"] == len(content)
    assert data["download_url"] == f"/api/v1/documents/{data['id']}/download/"
    document = Document.objects.get(pk=data["id"])
    stem = name[: name.rindex(".")]
    assert document.file.name.startswith("documents/")
    assert stem not in document.file.name
    assert stored_files(media_root) == [document.file.name]

    got = download(api_as(requester), document.pk)

    assert got.status_code == 200
    assert body_of(got) == content
    disposition = got["Content-Disposition"]
    assert disposition.startswith("attachment;")
    if name.isascii():
        assert f'filename="{name}"' in disposition
    else:
        assert f"filename*=utf-8''{quote(name)}" in disposition
    assert got["Content-Type"] == content_type
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got["Cache-Control"]
    assert "sandbox" in got["Content-Security-Policy"]

    timeline = api_as(hr).get(f"/api/v1/cases/{submitted.pk}/timeline/").json()
    added = [entry for entry in timeline if entry["kind"] == "document_added"]
    assert len(added) == 1
    assert added[0]["changes"]["document"] == document.pk
    assert added[0]["changes"]["name"] == name


def test_a_document_uploaded_by_the_requester_is_listed_for_them(api_as, requester, submitted):
    first = upload(api_as(requester), submitted.pk, *BENIGN[0]).json()

    listed = api_as(requester).get(f"/api/v1/cases/{submitted.pk}/documents/")

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()] == [first["id"]]
    assert listed.json()[0]["name"] == BENIGN[0][0]


# --- hostile files are refused and leave nothing behind -------------------------------------


def test_the_hostile_corpus_is_large_enough():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize(("name", "content", "code"), HOSTILE, ids=_ids(HOSTILE))
def test_hostile_file_posted_to_the_api_is_refused_and_nothing_is_stored(
    api_as, hr_admin, requester, submitted, media_root, name, content, code
):
    publish_limits(hr_admin, max_document_mb=LIMIT_MB)
    events_before = CaseEvent.objects.filter(case=submitted).count()

    response = upload(api_as(requester), submitted.pk, name, content)

    body = response.json()
    if not name:  # the parser drops a file part without a name: no file was sent at all
        assert response.status_code == 400
        assert body["errors"]["file"]
    elif code == "too_large":
        assert response.status_code == 413
        assert body["detail"] == refusal_message(name, content, LIMIT_MB * MB)
    else:
        assert response.status_code == 400
        assert body["errors"]["file"] == [refusal_message(name, content, LIMIT_MB * MB)]
        assert "file" in body["detail"]
    assert body["detail"]
    assert not Document.objects.exists()
    assert stored_files(media_root) == []
    assert CaseEvent.objects.filter(case=submitted).count() == events_before


@pytest.mark.parametrize(("name", "content", "code"), HOSTILE, ids=_ids(HOSTILE))
def test_the_service_refuses_every_hostile_file_as_named_and_stores_nothing(
    hr_admin, requester, submitted, media_root, name, content, code
):
    publish_limits(hr_admin, max_document_mb=LIMIT_MB)
    expected = UploadTooLarge if code == "too_large" else ValidationError

    with pytest.raises(expected) as refused:
        add(submitted, requester, name, content)

    if expected is ValidationError:
        assert refused.value.message_dict["file"] == [refusal_message(name, content, LIMIT_MB * MB)]
    assert not Document.objects.exists()
    assert stored_files(media_root) == []
    assert document_events(submitted) == 0


# --- bad requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "with_file", "field"),
    [
        pytest.param({"kind": "evidence"}, False, "file", id="missing-file"),
        pytest.param({}, True, "kind", id="missing-kind"),
        pytest.param({"kind": "letter"}, True, "kind", id="unknown-kind"),
        pytest.param({"kind": ""}, True, "kind", id="empty-kind"),
    ],
)
def test_an_incomplete_upload_is_a_400_naming_the_field(
    api_as, requester, submitted, media_root, fields, with_file, field
):
    name, content = BENIGN[0]
    body, content_type = multipart(name if with_file else None, content, **fields)

    response = api_as(requester).post(
        f"/api/v1/cases/{submitted.pk}/documents/", data=body, content_type=content_type
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]
    assert not Document.objects.exists()
    assert stored_files(media_root) == []


def test_another_requesters_case_documents_are_not_found(api_as, requester, other_requester, submitted):
    add(submitted, requester, *BENIGN[0])
    client = api_as(other_requester)

    assert client.get(f"/api/v1/cases/{submitted.pk}/documents/").status_code == 404
    assert upload(client, submitted.pk, *BENIGN[0]).status_code == 404
    assert Document.objects.count() == 1


def test_anonymous_callers_get_401_for_list_upload_and_download(api, requester, submitted):
    document = add(submitted, requester, *BENIGN[0])

    assert api.get(f"/api/v1/cases/{submitted.pk}/documents/").status_code == 401
    assert upload(api, submitted.pk, *BENIGN[0]).status_code == 401
    assert download(api, document.pk).status_code == 401
    assert Document.objects.count() == 1


def test_a_missing_or_malformed_document_id_is_not_found(api_as, hr, submitted):
    assert download(api_as(hr), 999_999).status_code == 404
    assert api_as(hr).get("/api/v1/documents/abc/download/").status_code == 404


# --- size limits -----------------------------------------------------------------------------


def test_uploads_accumulate_until_the_case_limit_then_413_and_nothing_stored(
    api_as, hr_admin, requester, submitted, media_root
):
    publish_limits(hr_admin, max_document_mb=1, max_case_documents_mb=1)
    client = api_as(requester)
    piece = pdf_of_size(400_000)

    first = upload(client, submitted.pk, "part 1.pdf", piece)
    second = upload(client, submitted.pk, "part 2.pdf", piece)
    third = upload(client, submitted.pk, "part 3.pdf", piece)

    assert (first.status_code, second.status_code) == (201, 201)
    assert third.status_code == 413
    assert "limit of 1 MB per case" in third.json()["detail"]
    assert sorted(Document.objects.values_list("display_name", flat=True)) == ["part 1.pdf", "part 2.pdf"]
    assert len(stored_files(media_root)) == 2
    assert document_events(submitted) == 2
    # A file that still fits is accepted after the refusal.
    assert upload(client, submitted.pk, "small.pdf", pdf_of_size(200_000)).status_code == 201


def test_a_file_just_at_the_per_file_limit_is_accepted_and_one_byte_more_is_413(
    api_as, hr_admin, requester, submitted, media_root
):
    publish_limits(hr_admin, max_document_mb=1)
    client = api_as(requester)

    assert upload(client, submitted.pk, "exact.pdf", pdf_of_size(MB)).status_code == 201
    over = upload(client, submitted.pk, "over.pdf", pdf_of_size(MB + 1))

    assert over.status_code == 413
    assert over.json()["detail"] == "The file is larger than the 1 MB limit."
    assert len(stored_files(media_root)) == 1


def test_a_content_length_above_the_limit_is_refused_before_the_body_is_parsed(
    api_as, hr_admin, requester, submitted, media_root, monkeypatch
):
    publish_limits(hr_admin, max_document_mb=1)
    parsed = []
    original = MultiPartParser.parse
    monkeypatch.setattr(MultiPartParser, "parse", lambda self: parsed.append(1) or original(self))

    response = upload(api_as(requester), submitted.pk, "big.pdf", pdf_of_size(2 * MB))

    assert response.status_code == 413
    assert "limit of 1 MB" in response.json()["detail"]
    assert parsed == []
    assert not Document.objects.exists()
    assert stored_files(media_root) == []


# --- who sees which document -----------------------------------------------------------------

ALL = {"requester", "hr"}
VISIBILITY = [
    # (viewer, stage the case is in, what happens then, uploaders whose documents the viewer sees)
    pytest.param("requester", "under_review", None, {"requester"}, id="requester-sees-own-uploads-only"),
    pytest.param("other_requester", "under_review", None, None, id="other-requester-404"),
    pytest.param("outsider", "under_review", None, None, id="outsider-404"),
    pytest.param("hr", "under_review", None, ALL, id="hr-sees-all"),
    pytest.param("reviewer", "under_review", None, ALL, id="reviewer-holding-the-case-sees-all"),
    pytest.param("reviewer", "reviewer_invited", None, ALL, id="invited-reviewer-sees-all"),
    pytest.param("reviewer", "under_review", "release_reviewer", None, id="released-reviewer-404"),
    pytest.param("reviewer", "reviewer_invited", "reviewer_decline", None, id="declined-reviewer-404"),
    pytest.param("reviewer", "decided", None, None, id="reviewer-after-decision-404"),
    pytest.param("endorser", "awaiting_endorsement", None, ALL, id="endorser-while-awaiting-endorsement"),
    pytest.param("decision_maker", "awaiting_endorsement", None, None, id="uninvolved-decision-maker-404"),
    pytest.param(
        "decision_maker", "awaiting_decision", None, ALL, id="decision-maker-while-awaiting-decision"
    ),
]


@pytest.mark.parametrize(("viewer", "stage", "then", "sees"), VISIBILITY)
def test_document_visibility_for_list_and_download(request, api_as, stage, then, viewer, sees):
    people = {
        role: request.getfixturevalue(role)
        for role in ("requester", "hr", "reviewer", "endorser", "decision_maker")
    }
    case = advance(make_case(people["requester"]), to="submitted", requester=people["requester"])
    uploaded = {
        "requester": add(case, people["requester"], "my evidence.pdf", BENIGN[1][1]),
        "hr": add(case, people["hr"], "appraisal.pdf", BENIGN[0][1], kind="appraisal"),
    }
    case = advance(case, to=stage, **people)
    if then == "release_reviewer":
        case_act(
            case_id=case.pk, name=then, actor=people["hr"], version=case.version, data={"reason": "Conflict."}
        )
    elif then == "reviewer_decline":
        case_act(
            case_id=case.pk,
            name=then,
            actor=people["reviewer"],
            version=case.version,
            data={"reason": "Busy."},
        )
    client = api_as(request.getfixturevalue(viewer))

    listed = client.get(f"/api/v1/cases/{case.pk}/documents/")

    if sees is None:
        assert listed.status_code == 404
    else:
        assert listed.status_code == 200
        assert {item["id"] for item in listed.json()} == {uploaded[who].pk for who in sees}
    for who, document in uploaded.items():
        accesses = CaseAccess.objects.filter(case=case, what=f"document:{document.pk}")
        before = accesses.count()
        got = download(client, document.pk)
        if sees is not None and who in sees:
            assert got.status_code == 200
            assert body_of(got) == document.file.open("rb").read()
            document.file.close()
            assert accesses.count() == before + 1
        else:
            assert got.status_code == 404
            assert accesses.count() == before


# --- when and by whom uploads are refused ----------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "uploader"),
    [
        pytest.param("withdrawn", "requester", id="withdrawn-requester"),
        pytest.param("withdrawn", "hr", id="withdrawn-hr"),
        pytest.param("not_receivable", "requester", id="not-receivable-requester"),
        pytest.param("decided", "hr", id="decided-hr"),
        pytest.param("closed", "requester", id="closed-requester"),
        pytest.param("closed", "hr", id="closed-hr"),
    ],
)
def test_upload_to_a_finished_case_is_409(request, api_as, media_root, stage, uploader):
    people = {
        role: request.getfixturevalue(role)
        for role in ("requester", "hr", "reviewer", "endorser", "decision_maker")
    }
    case = advance(make_case(people["requester"]), to=stage, **people)
    files_before = stored_files(media_root)  # a closed case has its outcome letter

    response = upload(api_as(people[uploader]), case.pk, *BENIGN[0])

    assert response.status_code == 409
    assert response.json()["detail"]
    assert not Document.objects.exists()
    assert stored_files(media_root) == files_before


@pytest.mark.parametrize(
    ("role", "stage"),
    [
        pytest.param("endorser", "awaiting_endorsement", id="endorser"),
        pytest.param("decision_maker", "awaiting_decision", id="decision-maker"),
    ],
)
def test_a_user_who_may_see_the_case_but_not_upload_gets_403(request, api_as, media_root, role, stage):
    people = {
        name: request.getfixturevalue(name)
        for name in ("requester", "hr", "reviewer", "endorser", "decision_maker")
    }
    case = advance(make_case(people["requester"]), to=stage, **people)
    client = api_as(people[role])
    assert client.get(f"/api/v1/cases/{case.pk}/documents/").status_code == 200

    response = upload(client, case.pk, *BENIGN[0])

    assert response.status_code == 403
    assert response.json()["detail"]
    assert not Document.objects.exists()
    assert stored_files(media_root) == []


def test_hr_and_the_reviewer_may_upload_and_the_requester_does_not_see_their_documents(
    api_as, requester, hr, reviewer
):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    by_hr = upload(api_as(hr), case.pk, *BENIGN[0])
    by_reviewer = upload(api_as(reviewer), case.pk, *BENIGN[2])

    assert (by_hr.status_code, by_reviewer.status_code) == (201, 201)
    assert api_as(requester).get(f"/api/v1/cases/{case.pk}/documents/").json() == []
    assert download(api_as(requester), by_reviewer.json()["id"]).status_code == 404


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uploads_cannot_both_squeeze_under_the_case_limit(hr_admin, requester, hr, media_root):
    publish_limits(hr_admin, max_document_mb=1, max_case_documents_mb=1)
    case = advance(make_case(requester), to="submitted", requester=requester, hr=hr)
    piece = pdf_of_size(600_000)
    start = threading.Barrier(2, timeout=TIMEOUT)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def attempt(actor_pk: int, name: str) -> None:
        try:
            actor = type(requester).objects.get(pk=actor_pk)
            start.wait()
            try:
                result: Any = add(case, actor, name, piece)
            except Exception as exc:  # noqa: BLE001 - the outcome is what is checked
                result = exc
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(requester.pk, "from requester.pdf")),
        threading.Thread(target=attempt, args=(hr.pk, "from hr.pdf")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)

    assert len(outcomes) == 2
    assert sum(isinstance(outcome, Document) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, UploadTooLarge) for outcome in outcomes) == 1
    sizes = list(Document.objects.filter(case=case).values_list("size", flat=True))
    assert sizes == [len(piece)]
    assert sum(sizes) <= MB
    assert len(stored_files(media_root)) == 1
    assert document_events(case) == 1


# --- append-only -----------------------------------------------------------------------------


def test_document_records_are_append_only(requester, submitted, media_root):
    document = add(submitted, requester, *BENIGN[0])

    document.display_name = "renamed.pdf"
    with pytest.raises(AppendOnlyError):
        document.save()
    with pytest.raises(AppendOnlyError):
        document.delete()
    with pytest.raises(AppendOnlyError):
        Document.objects.filter(pk=document.pk).update(display_name="renamed.pdf")
    with pytest.raises(AppendOnlyError):
        Document.objects.filter(pk=document.pk).delete()
    with pytest.raises(AppendOnlyError):
        Document.objects.bulk_update([document], ["display_name"])

    stored = Document.objects.get(pk=document.pk)
    assert stored.display_name == BENIGN[0][0]
    assert stored_files(media_root) == [stored.file.name]


def test_a_second_copy_is_a_new_document_not_a_replacement(requester, submitted):
    first = add(submitted, requester, *BENIGN[0])
    second = add(submitted, requester, *BENIGN[0])

    assert first.pk != second.pk
    assert first.file.name != second.file.name
    assert first.sha256 == second.sha256
    assert document_events(submitted) == 2
