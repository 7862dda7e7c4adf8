"""``Idempotency-Key`` on ``POST /api/v1/cases/`` and on transitions (``rebuttal/idempotency.py``).

A retry with the same key gets the first answer (status and bytes) with
``Idempotent-Replayed: true`` and changes nothing: no second case, event,
notification or letter request. The last tests race real threads on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from rebuttal import idempotency, services
from rebuttal.models import CaseEvent, IdempotencyRecord, RebuttalCase
from reports.models import LetterRequest
from tests.factories import api_intake, make_case
from workflow import scheduler
from workflow.models import Notification
from workflow.services import case_act

CASES = "/api/v1/cases/"
KEY = "HTTP_IDEMPOTENCY_KEY"
TIMEOUT = 30  # seconds a thread or barrier waits before the test fails instead of hanging


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def create(client: APIClient, key: str | None = "key-1", **overrides: Any) -> Any:
    headers = {} if key is None else {KEY: key}
    return client.post(CASES, api_intake(**overrides), format="json", **headers)


def transition(client: APIClient, case_id: int, name: str, key: str | None, **data: Any) -> Any:
    headers = {} if key is None else {KEY: key}
    return client.post(f"{CASES}{case_id}/transitions/{name}/", data, format="json", **headers)


def effects(case_id: int | None = None) -> dict[str, int]:
    """What a request can leave behind, counted."""
    events = CaseEvent.objects.all() if case_id is None else CaseEvent.objects.filter(case_id=case_id)
    return {
        "cases": RebuttalCase.objects.count(),
        "events": events.count(),
        "notifications": Notification.objects.count(),
        "letter_requests": LetterRequest.objects.count(),
        "records": IdempotencyRecord.objects.count(),
    }


def assert_replay_of(first: Any, retry: Any) -> None:
    assert retry.status_code == first.status_code
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")


# --- creating a case -------------------------------------------------------------------


def test_a_retried_create_returns_the_first_answer_and_files_one_case(requester):
    client = client_for(requester)
    first = create(client)
    assert first.status_code == 201
    after_first = effects()
    assert after_first["cases"] == 1
    assert after_first["records"] == 1

    retry = create(client)

    assert_replay_of(first, retry)
    assert effects() == after_first
    case = RebuttalCase.objects.get()
    assert retry.json()["id"] == case.pk
    assert retry.json()["reference"] == case.reference
    assert case.events.count() == 1


def test_without_the_header_each_create_files_a_case_and_keeps_no_record(requester):
    client = client_for(requester)
    first, second = create(client, key=None), create(client, key=None)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert RebuttalCase.objects.filter(requester=requester).count() == 2
    assert not IdempotencyRecord.objects.exists()
    assert not first.has_header("Idempotent-Replayed")


def test_the_same_data_in_another_key_order_and_spacing_is_the_same_request(requester):
    client = client_for(requester)
    data = api_intake()
    first = client.post(CASES, json.dumps(data), content_type="application/json", **{KEY: "k"})
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=3)
    retry = client.post(CASES, reordered, content_type="application/json", **{KEY: "k"})
    assert first.status_code == 201
    assert_replay_of(first, retry)
    assert RebuttalCase.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(requester):
    client = client_for(requester)
    first = create(client, statement="The first statement.")
    before = effects()

    response = create(client, statement="A different statement.")

    assert response.status_code == 422
    body = response.json()
    assert "used with a different request" in body["detail"]
    assert body["code"] == "idempotency_key_reused"
    assert not response.has_header("Idempotent-Replayed")
    assert effects() == before
    assert RebuttalCase.objects.get().statement == "The first statement."
    # The key still answers the first request.
    assert_replay_of(first, create(client, statement="The first statement."))


def test_another_users_same_key_is_another_request(requester, other_requester):
    alice, olga = client_for(requester), client_for(other_requester)
    first = create(alice, key="shared")
    second = create(olga, key="shared")
    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header("Idempotent-Replayed")
    assert RebuttalCase.objects.get(pk=first.json()["id"]).requester == requester
    assert RebuttalCase.objects.get(pk=second.json()["id"]).requester == other_requester
    assert IdempotencyRecord.objects.count() == 2


def test_the_same_key_on_another_endpoint_is_another_request(requester):
    client = client_for(requester)
    created = create(client, key="one-key")
    case_id = created.json()["id"]
    submitted = transition(client, case_id, "submit", "one-key", version=created.json()["version"])
    assert submitted.status_code == 200
    assert not submitted.has_header("Idempotent-Replayed")
    assert RebuttalCase.objects.get(pk=case_id).status == "submitted"
    assert set(IdempotencyRecord.objects.values_list("path", flat=True)) == {
        CASES,
        f"{CASES}{case_id}/transitions/submit/",
    }


@pytest.mark.parametrize(
    "key",
    [
        "",
        " leading-space",
        "trailing-space ",
        "x" * 256,
        "tab\tinside",
        "caf\u00e9",
        "nul\x00inside",
        "line\nbreak",
    ],
    ids=["empty", "leading", "trailing", "256", "tab", "non-ascii", "nul", "newline"],
)
def test_an_invalid_key_is_a_400_naming_the_header(requester, key):
    response = create(client_for(requester), key=key)
    assert response.status_code == 400
    body = response.json()
    assert "Idempotency-Key" in body["detail"]
    assert "printable ASCII" in body["errors"]["Idempotency-Key"][0]
    assert effects() == {"cases": 0, "events": 0, "notifications": 0, "letter_requests": 0, "records": 0}


@pytest.mark.parametrize("key", ["x" * 255, "a", "with space inside", "~!@#$%^&*()_+{}|:<>?"])
def test_keys_of_printable_ascii_up_to_255_characters_are_accepted(requester, key):
    client = client_for(requester)
    first = create(client, key=key)
    assert first.status_code == 201
    assert_replay_of(first, create(client, key=key))
    assert IdempotencyRecord.objects.get().key == key


def test_an_invalid_intake_is_recorded_so_its_retry_gets_the_same_400(requester):
    client = client_for(requester)
    first = create(client, key="bad", original_rating="superb")
    assert first.status_code == 400
    assert "overall_rating" in first.json()["errors"]

    assert_replay_of(first, create(client, key="bad", original_rating="superb"))
    # The corrected request is another request: under the old key it is refused, under a new one it is filed.
    assert create(client, key="bad").status_code == 422
    assert not RebuttalCase.objects.exists()
    assert create(client, key="good").status_code == 201
    assert RebuttalCase.objects.count() == 1


def test_a_failure_after_the_work_rolls_back_the_work_and_keeps_no_record(requester, monkeypatch):
    client = client_for(requester)
    client.raise_request_exception = False

    def broken(self, case, status_code=200):  # noqa: ANN001, ANN202
        raise RuntimeError("the answer could not be built")

    with monkeypatch.context() as patch:
        patch.setattr("rebuttal.api.CaseViewSet._detail", broken)
        failed = create(client, key="crash")
    assert failed.status_code == 500
    # The case was created before the failure; with the key it went with the (absent) record.
    assert effects() == {"cases": 0, "events": 0, "notifications": 0, "letter_requests": 0, "records": 0}

    retry = create(client, key="crash")
    assert retry.status_code == 201
    assert not retry.has_header("Idempotent-Replayed")
    assert RebuttalCase.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 201


def test_multipart_bodies_are_told_apart_by_their_files_content(requester):
    client = client_for(requester)

    def send(content: bytes) -> Any:
        data = {**api_intake(), "attachment": SimpleUploadedFile("note.txt", content, "text/plain")}
        return client.post(CASES, data, format="multipart", **{KEY: "multi"})

    first = send(b"first content")
    assert first.status_code == 201
    assert_replay_of(first, send(b"first content"))
    assert send(b"other content").status_code == 422
    assert RebuttalCase.objects.count() == 1


def test_fingerprints_ignore_key_order_but_not_values():
    factory = APIRequestFactory()

    def fingerprint(body: str) -> str:
        request = Request(factory.post("/", body, content_type="application/json"), parsers=[JSONParser()])
        return idempotency.request_fingerprint(request)

    assert fingerprint('{"a": 1, "b": [1, 2]}') == fingerprint('{"b":[1,2],"a":1}')
    assert fingerprint('{"a": 1, "b": [1, 2]}') != fingerprint('{"a": 1, "b": [2, 1]}')
    assert fingerprint('{"a": 1}') != fingerprint('{"a": "1"}')
    # A lone surrogate is valid JSON; it must not break the hash.
    assert len(fingerprint('{"a": "\\ud800"}')) == 64


# --- transitions -----------------------------------------------------------------------


def test_a_retried_transition_returns_the_first_answer_and_does_nothing_more(requester):
    client = client_for(requester)
    case = make_case(requester)

    first = transition(client, case.pk, "submit", "submit-1", version=case.version)
    assert first.status_code == 200
    assert first.json()["status"] == "submitted"
    after_first = effects(case.pk)
    version_after_first = RebuttalCase.objects.get(pk=case.pk).version
    # The submission asked for its acknowledgement letter and told somebody.
    assert after_first["letter_requests"] == 1

    retry = transition(client, case.pk, "submit", "submit-1", version=case.version)

    assert_replay_of(first, retry)
    assert effects(case.pk) == after_first
    assert RebuttalCase.objects.get(pk=case.pk).version == version_after_first
    assert case.events.filter(kind="transition").count() == 1


def test_a_transition_replayed_after_the_case_moved_on_still_returns_the_first_result(requester, hr):
    client = client_for(requester)
    case = make_case(requester)
    first = transition(client, case.pk, "submit", "submit-once", version=case.version)
    assert first.status_code == 200
    screened = case_act(case_id=case.pk, name="start_screening", actor=hr, version=first.json()["version"])
    assert screened.status == "screening"
    before = effects(case.pk)

    retry = transition(client, case.pk, "submit", "submit-once", version=case.version)

    assert_replay_of(first, retry)
    assert retry.json()["status"] == "submitted"
    assert effects(case.pk) == before
    assert RebuttalCase.objects.get(pk=case.pk).status == "screening"
    # Without the key the same request is what it would have been: refused.
    assert transition(client, case.pk, "submit", None, version=case.version).status_code == 409


def test_a_withdrawal_retried_asks_for_one_letter_and_sends_no_more_mail(requester):
    client = client_for(requester)
    case = make_case(requester)
    case = case_act(case_id=case.pk, name="submit", actor=requester, version=case.version)
    letters_before = LetterRequest.objects.filter(case=case, kind="withdrawn").count()
    notifications_before = Notification.objects.count()

    first = transition(client, case.pk, "withdraw", "w", version=case.version, reason="Settled.")
    assert first.status_code == 200
    notifications_after_first = Notification.objects.count()
    retry = transition(client, case.pk, "withdraw", "w", version=case.version, reason="Settled.")

    assert_replay_of(first, retry)
    assert LetterRequest.objects.filter(case=case, kind="withdrawn").count() == letters_before + 1
    assert Notification.objects.count() == notifications_after_first >= notifications_before
    assert case.events.filter(kind="transition", to_status="withdrawn").count() == 1


def test_the_same_key_on_two_cases_acts_on_each(requester):
    client = client_for(requester)
    one, two = make_case(requester), make_case(requester)
    assert transition(client, one.pk, "submit", "k", version=one.version).status_code == 200
    response = transition(client, two.pk, "submit", "k", version=two.version)
    assert response.status_code == 200
    assert not response.has_header("Idempotent-Replayed")
    assert set(RebuttalCase.objects.values_list("status", flat=True)) == {"submitted"}


def test_a_409_is_not_recorded_so_its_retry_is_checked_again(requester):
    client = client_for(requester)
    case = make_case(requester)
    stale = transition(client, case.pk, "submit", "late", version=case.version + 5)
    assert stale.status_code == 409
    assert not IdempotencyRecord.objects.exists()
    assert RebuttalCase.objects.get(pk=case.pk).status == "draft"

    # The retry is checked against the case as it is: still stale, answered afresh.
    again = transition(client, case.pk, "submit", "late", version=case.version + 5)
    assert again.status_code == 409
    assert not again.has_header("Idempotent-Replayed")
    # Nothing was held against the key, so the corrected request may use it.
    ok = transition(client, case.pk, "submit", "late", version=case.version)
    assert ok.status_code == 200
    assert RebuttalCase.objects.get(pk=case.pk).status == "submitted"


def test_a_refused_transition_for_a_case_one_may_not_see_is_recorded_and_changes_nothing(requester, outsider):
    case = make_case(requester)
    client = client_for(outsider)
    first = transition(client, case.pk, "submit", "nosy", version=case.version)
    assert first.status_code == 404
    assert_replay_of(first, transition(client, case.pk, "submit", "nosy", version=case.version))
    assert RebuttalCase.objects.get(pk=case.pk).status == "draft"
    assert IdempotencyRecord.objects.get().user == outsider


def test_an_over_long_transition_path_is_a_404_without_a_record(requester):
    case = make_case(requester)
    name = "x" * 2000
    response = transition(client_for(requester), case.pk, name, "long", version=case.version)
    assert response.status_code == 404
    assert not IdempotencyRecord.objects.exists()


def test_a_nul_in_the_path_is_stored_escaped(requester):
    case = make_case(requester)
    response = transition(client_for(requester), case.pk, "sub%00mit", "nul-path", version=case.version)
    assert response.status_code == 404
    assert IdempotencyRecord.objects.get().path == f"{CASES}{case.pk}/transitions/sub%00mit/"


# --- expiry ----------------------------------------------------------------------------


def test_the_scheduler_purges_records_older_than_the_ttl(requester):
    start = timezone.now()
    client = client_for(requester)
    with time_machine.travel(start, tick=False):
        assert create(client, key="old").status_code == 201
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert create(client, key="newer", statement="Another.").status_code == 201

    scheduler.run(start + dt.timedelta(hours=23, minutes=59))
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"old", "newer"}

    scheduler.run(start + dt.timedelta(hours=24, minutes=1))
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"newer"}
    assert RebuttalCase.objects.count() == 2  # the work stays; only the record goes


@override_settings(IDEMPOTENCY_KEY_TTL_HOURS=1)
def test_the_ttl_is_a_setting(requester):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert create(client_for(requester), key="short").status_code == 201
    assert idempotency.purge_expired(start + dt.timedelta(minutes=59)) == 0
    assert idempotency.purge_expired(start + dt.timedelta(minutes=61)) == 1
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_key_not_yet_purged_is_free_again(requester):
    start = timezone.now()
    client = client_for(requester)
    with time_machine.travel(start, tick=False):
        first = create(client, key="reused")
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        second = create(client, key="reused")
    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header("Idempotent-Replayed")
    assert first.json()["id"] != second.json()["id"]
    assert RebuttalCase.objects.count() == 2
    assert IdempotencyRecord.objects.get().response_body == second.content.decode()


# --- concurrent duplicates (PostgreSQL) -------------------------------------------------


def _threaded(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` in a thread with its own connection; its result or exception lands in the list."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.postgres
def test_a_duplicate_sent_while_the_first_runs_is_409_and_the_work_is_done_once(
    transactional_db, requester, monkeypatch
):
    entered, release = threading.Event(), threading.Event()
    original = services.case_create

    def slow_create(**kwargs: Any) -> Any:
        case = original(**kwargs)
        entered.set()
        assert release.wait(TIMEOUT)
        return case

    monkeypatch.setattr(services, "case_create", slow_create)
    first_thread, first = _threaded(lambda: create(client_for(requester), key="dup"))
    assert entered.wait(TIMEOUT)
    try:
        monkeypatch.setattr(services, "case_create", original)
        duplicate = create(client_for(requester), key="dup")
    finally:
        release.set()
        first_thread.join(TIMEOUT)

    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency_key_in_progress"
    assert "in progress" in duplicate.json()["detail"]
    assert duplicate["Retry-After"] == "1"
    assert first[0].status_code == 201
    assert RebuttalCase.objects.count() == 1
    # Once the first has finished, the retry gets its answer.
    assert_replay_of(first[0], create(client_for(requester), key="dup"))


THREADS = 8


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(3))
def test_racing_identical_creates_file_exactly_one_case(transactional_db, requester, round_):
    start = threading.Barrier(THREADS, timeout=TIMEOUT)

    def send() -> Any:
        client = client_for(requester)
        start.wait()
        return create(client, key=f"race-{round_}")

    runs = [_threaded(send) for _ in range(THREADS)]
    for thread, _ in runs:
        thread.join(TIMEOUT)
    answers = [out[0] for _, out in runs]

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert RebuttalCase.objects.count() == 1
    case = RebuttalCase.objects.get()
    assert case.events.count() == 1
    created = [a for a in answers if a.status_code == 201]
    fresh = [a for a in created if not a.has_header("Idempotent-Replayed")]
    assert len(fresh) == 1
    for answer in answers:
        if answer.status_code == 201:
            assert answer.content == fresh[0].content
        else:
            assert answer.status_code == 409, answer.content
            assert answer.json()["code"] == "idempotency_key_in_progress"


@pytest.mark.postgres
def test_racing_identical_transitions_perform_it_exactly_once(transactional_db, requester):
    case = make_case(requester)
    start = threading.Barrier(THREADS, timeout=TIMEOUT)

    def send() -> Any:
        client = client_for(requester)
        start.wait()
        return transition(client, case.pk, "submit", "submit-race", version=case.version)

    runs = [_threaded(send) for _ in range(THREADS)]
    for thread, _ in runs:
        thread.join(TIMEOUT)
    answers = [out[0] for _, out in runs]

    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted({a.status_code for a in answers}) in ([200], [200, 409])
    fresh = [a for a in answers if a.status_code == 200 and not a.has_header("Idempotent-Replayed")]
    assert len(fresh) == 1
    assert all(a.content == fresh[0].content for a in answers if a.status_code == 200)
    # Refused for the key, not for a stale version: the loser never reached the case.
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {"idempotency_key_in_progress"}
    case.refresh_from_db()
    assert case.status == "submitted"
    assert case.events.filter(kind="transition").count() == 1
    assert LetterRequest.objects.filter(case=case).count() == 1


@pytest.mark.postgres
def test_without_the_lock_the_unique_record_still_lets_one_request_win(
    transactional_db, requester, monkeypatch
):
    """The backstop: a loser that did the work too rolls it back and replays the winner's answer."""
    monkeypatch.setattr(idempotency, "_lock", lambda scope: True)
    saved, raced = threading.Event(), []
    original_save, original_find = idempotency._save, idempotency._find

    def save_then_linger(scope: Any, fingerprint: str, response: Any) -> None:
        original_save(scope, fingerprint, response)
        if not saved.is_set():
            saved.set()
            threading.Event().wait(0.5)  # commit late, while the second request runs

    def find(scope: Any) -> Any:
        record = original_find(scope)
        raced.append(record is not None)
        return record

    monkeypatch.setattr(idempotency, "_save", save_then_linger)
    monkeypatch.setattr(idempotency, "_find", find)
    first_thread, first = _threaded(lambda: create(client_for(requester), key="backstop"))
    assert saved.wait(TIMEOUT)
    second = create(client_for(requester), key="backstop")
    first_thread.join(TIMEOUT)

    assert first[0].status_code == 201
    assert_replay_of(first[0], second)
    assert RebuttalCase.objects.count() == 1
    # The second found nothing at first (not yet committed), then the winner's record after its rollback.
    assert raced[-2:] == [False, True]
