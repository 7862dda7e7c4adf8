"""Structured logs: request and user ids on every line, no personal content, and the audit sink."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config import log_context
from config.celery import app as project_celery
from config.logging import AuditFileHandler, AuditFormatter, ContextFilter, JsonFormatter, TextFormatter
from rebuttal import services
from rebuttal.documents import document_add
from rebuttal.models import CaseEvent
from tests.factories import advance, intake, make_case, reviewer_profile
from tests.upload_corpus import pypdf_document

HEX_ID = re.compile(r"[0-9a-f]{32}")
probe_log = logging.getLogger("tests.test_logging.probe")


class Captured:
    """Everything logged while it is attached, through the JSON and the text formatter."""

    def __init__(self) -> None:
        self.json_stream, self.text_stream = io.StringIO(), io.StringIO()
        self.handlers = []
        for stream, formatter in ((self.json_stream, JsonFormatter()), (self.text_stream, TextFormatter())):
            handler = logging.StreamHandler(stream)
            handler.setFormatter(formatter)
            handler.addFilter(ContextFilter())
            handler.setLevel(logging.DEBUG)
            self.handlers.append(handler)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.json_stream.getvalue().splitlines()]

    def text(self) -> str:
        return self.json_stream.getvalue() + self.text_stream.getvalue()


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Capture every record that reaches the root logger, at DEBUG and above."""
    capture = Captured()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in capture.handlers:
        root.addHandler(handler)
    yield capture
    for handler in capture.handlers:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def audit_file(tmp_path: Any) -> Iterator[Any]:
    """The audit logger writing to a file of this test, as settings.LOGGING configures it."""
    path = tmp_path / "audit" / "audit.jsonl"
    handler = AuditFileHandler(str(path))
    handler.setFormatter(AuditFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("rebuttal.audit")
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    handler.close()


def audit_lines(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def request_lines(capture: Captured) -> list[dict[str, Any]]:
    return [line for line in capture.lines() if line["logger"] == "config.request"]


# --- request id and user id ---------------------------------------------------------


def test_a_request_logs_the_callers_request_id_and_the_users_id(client, requester, captured):
    client.force_login(requester)
    response = client.get(reverse("home"), headers={"X-Request-ID": "edge-42.a_B"})

    assert response.status_code == 302  # to the case list
    assert response["X-Request-ID"] == "edge-42.a_B"
    [line] = request_lines(captured)
    assert line["request_id"] == "edge-42.a_B"
    assert line["user_id"] == requester.pk
    assert line["method"] == "GET"
    assert line["status"] == 302
    assert line["route"] == "/"
    assert line["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])


def test_a_request_without_an_id_gets_a_new_one_on_every_line_and_in_the_response(client, captured):
    response = client.get(reverse("login"))

    request_id = response["X-Request-ID"]
    assert HEX_ID.fullmatch(request_id)
    lines = captured.lines()
    assert lines
    assert {line["request_id"] for line in lines} == {request_id}
    assert request_lines(captured)[0]["user_id"] is None  # nobody signed in


def test_two_requests_get_different_ids(client):
    first = client.get(reverse("login"))["X-Request-ID"]
    second = client.get(reverse("login"))["X-Request-ID"]
    assert first != second


@pytest.mark.parametrize(
    "offered",
    [
        "abc\ninjected",
        'abc\r\n{"level": "CRITICAL"}',
        "a" * 65,
        "a" * 200,
        "",
        "with space",
        "semi;colon",
        "ünïcode",
    ],
)
def test_a_hostile_request_id_is_replaced(client, captured, offered):
    response = client.get(reverse("login"), headers={"X-Request-ID": offered} if offered else {})

    request_id = response["X-Request-ID"]
    assert request_id != offered
    assert HEX_ID.fullmatch(request_id)
    assert request_lines(captured)[0]["request_id"] == request_id


def test_an_id_of_64_characters_is_kept(client):
    offered = "A1._-" * 12 + "abcd"
    assert len(offered) == 64
    assert client.get(reverse("login"), headers={"X-Request-ID": offered})["X-Request-ID"] == offered


def test_the_request_line_names_the_url_pattern_not_the_path_query_or_address(client, requester, captured):
    client.force_login(requester)
    case = make_case(requester)
    client.get(
        f"/api/v1/cases/{case.pk}/?search=Abara&token=s3cret",
        REMOTE_ADDR="203.0.113.9",
    )

    [line] = request_lines(captured)
    assert line["route"] == "/api/v1/cases/(?P<pk>[^/.]+)/$"  # the API router's pattern
    output = captured.text()
    for secret in ("Abara", "s3cret", "203.0.113.9", "search="):
        assert secret not in output


def test_the_context_is_gone_after_the_request(client):
    client.get(reverse("login"), headers={"X-Request-ID": "done-1"})
    assert log_context.current_request_id() is None
    assert log_context.current_user_id() is None


# --- the JSON formatter -----------------------------------------------------------------


def test_extra_fields_are_kept_only_when_allow_listed(captured):
    probe_log.info(
        "case event",
        extra={"case": "RB-2026-0001", "seq": 3, "email": "alice@example.org", "statement": "My objectives"},
    )

    [line] = captured.lines()
    assert line["case"] == "RB-2026-0001"
    assert line["seq"] == 3
    assert "email" not in line
    assert "statement" not in line
    assert "alice@example.org" not in captured.json_stream.getvalue()


def test_an_exception_is_logged_with_its_type_and_traceback(captured):
    try:
        {}["missing"]  # noqa: B018
    except KeyError:
        probe_log.exception("lookup failed")

    [line] = captured.lines()
    assert line["level"] == "ERROR"
    assert line["message"] == "lookup failed"
    assert line["exc_type"] == "builtins.KeyError"
    assert "Traceback (most recent call last)" in line["exc"]
    assert "test_an_exception_is_logged_with_its_type_and_traceback" in line["exc"]


def test_a_line_break_in_a_message_does_not_split_the_json_line(captured):
    probe_log.warning("first\nsecond\u2028third")

    raw = captured.json_stream.getvalue()
    assert raw.count("\n") == 1
    assert json.loads(raw)["message"] == "first\nsecond\u2028third"


# --- a case's lifecycle -------------------------------------------------------------------


def lifecycle(people: dict[str, Any], media: Any, settings: Any) -> Any:
    """File a case with a document and an IP address on its events, and drive it to the end."""
    settings.MEDIA_ROOT = media
    requester = people["requester"]
    case = services.case_create(requester=requester, data=intake(), client_ip="203.0.113.7")
    document_add(
        case_id=case.pk,
        actor=requester,
        kind="appraisal",
        name="Alice Abara appraisal 2026.pdf",
        fileobj=io.BytesIO(pypdf_document()),
        client_ip="203.0.113.7",
    )
    reviewer_profile(people["reviewer"], name="Rita Reviewer-Name")
    return advance(case, to="closed", **people)


@pytest.fixture
def people(requester, hr, reviewer, endorser, decision_maker) -> dict[str, Any]:
    return {
        "requester": requester,
        "hr": hr,
        "reviewer": reviewer,
        "endorser": endorser,
        "decision_maker": decision_maker,
    }


def test_a_transitions_log_lines_carry_the_case_reference(
    people, captured, tmp_path, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = lifecycle(people, tmp_path, settings)

    transitions = [line for line in captured.lines() if line.get("transition")]
    assert [line["transition"] for line in transitions] == [
        "submit",
        "start_screening",
        "accept_receivable",
        "invite_reviewer",
        "reviewer_accept",
        "submit_recommendation",
        "forward_for_endorsement",
        "endorse",
        "decide",
        "issue_outcome",
    ]
    assert {line["case"] for line in transitions} == {case.reference}
    assert transitions[0]["from_status"] == "draft"
    assert transitions[0]["to_status"] == "submitted"
    assert transitions[-1]["to_status"] == "closed"


def test_no_personal_content_reaches_any_log_line_while_a_case_is_filed_and_decided(
    people, captured, tmp_path, settings, django_capture_on_commit_callbacks
):
    data = intake()
    requester, reviewer = people["requester"], people["reviewer"]
    with django_capture_on_commit_callbacks(execute=True):
        case = lifecycle(people, tmp_path, settings)

    assert case.status == "closed"
    events = CaseEvent.objects.filter(case=case)
    # The events hold the personal content (so the test would see a leak of them) ...
    assert events.filter(client_ip="203.0.113.7").count() == 2
    assert events.filter(changes__name="Alice Abara appraisal 2026.pdf").exists()
    assert events.exclude(reason="").exists()
    # ... and the logs said something about each of them.
    lines = captured.lines()
    assert sum(1 for line in lines if line["logger"] == "rebuttal.audit") == events.count()
    personal = [
        requester.first_name,
        requester.last_name,
        requester.email,
        reviewer.email,
        people["hr"].email,
        "Rita Reviewer-Name",
        data["statement"],
        data["first_reporting_officer_email"],
        data["second_reporting_officer_email"],
        "Alice Abara appraisal 2026",
        "203.0.113.7",
        # reasons, findings and comments given along the way (tests/factories.py ``advance``)
        "Accepted in test.",
        "Evidence thin.",
        "Objectives met.",
        "Agreed.",
        "The review is convincing.",
    ]
    output = captured.text()
    for value in personal:
        assert value
        assert value not in output, value


def test_sql_parameters_are_never_logged_even_with_djangos_loggers_turned_up(people, captured):
    django_logger = logging.getLogger("django")
    level = django_logger.level
    django_logger.setLevel(logging.DEBUG)  # as a developer chasing a problem might
    try:
        with CaptureQueriesContext(connection) as queries:  # SQL is logged only while recorded
            services.case_create(requester=people["requester"], data=intake())
    finally:
        django_logger.setLevel(level)

    # The statement was sent to the database as a parameter, and nothing logged it.
    assert any(intake()["statement"] in str(query) for query in queries.captured_queries)
    assert intake()["statement"] not in captured.text()


# --- the audit sink -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_audit_file_gets_one_line_per_committed_event_matching_the_database(
    people, audit_file, tmp_path, settings
):
    case = lifecycle(people, tmp_path / "media", settings)

    rows = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    lines = audit_lines(audit_file)
    # created, document added, ten transitions, two letters (acknowledgement, outcome)
    assert len(rows) == 14
    assert len(lines) == len(rows)
    for row, line in zip(rows, lines, strict=True):
        assert line == {
            "case": case.reference,
            "case_id": case.pk,
            "seq": row.seq,
            "at": row.at.isoformat(),
            "actor": row.actor_id,
            "kind": row.kind,
            "transition": row.transition,
            "from_status": row.from_status,
            "to_status": row.to_status,
            "policy_version": row.policy_version,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
            "request_id": None,  # driven by services, outside any request
        }
    # The file is the chain: each line's prev_hash is the hash of the line before.
    assert [line["prev_hash"] for line in lines[1:]] == [line["hash"] for line in lines[:-1]]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transition_writes_no_audit_line(people, audit_file):
    requester = people["requester"]
    case = make_case(requester)
    assert len(audit_lines(audit_file)) == 1  # created

    def submit_then_fail() -> None:
        with transaction.atomic():
            services.case_submit(case_id=case.pk, actor=requester, version=case.version)
            raise RuntimeError("something later in the same transaction failed")

    with pytest.raises(RuntimeError, match="later in the same transaction"):
        submit_then_fail()

    assert CaseEvent.objects.filter(case=case).count() == 1
    assert len(audit_lines(audit_file)) == 1

    case.refresh_from_db()
    services.case_submit(case_id=case.pk, actor=requester, version=case.version)
    lines = audit_lines(audit_file)
    # The submission committed this time, and with it the acknowledgement letter (an eager task).
    assert [(line["seq"], line["kind"], line["transition"]) for line in lines] == [
        (1, "created", ""),
        (2, "transition", "submit"),
        (3, "letter_issued", ""),
    ]
    assert [line["hash"] for line in lines] == list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("hash", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_an_audit_line_written_during_a_request_carries_its_request_id(people, audit_file, api_as, captured):
    requester = people["requester"]
    case = make_case(requester)
    response = api_as(requester).post(
        f"/api/v1/cases/{case.pk}/transitions/submit/",
        {"version": case.version},
        format="json",
        headers={"X-Request-ID": "submit-1"},
    )

    assert response.status_code == 200, response.content
    # The transition, and the acknowledgement letter its request issued through an eager task.
    assert [(line["seq"], line["kind"], line["request_id"]) for line in audit_lines(audit_file)] == [
        (1, "created", None),
        (2, "transition", "submit-1"),
        (3, "letter_issued", "submit-1"),
    ]
    # The API's user (authenticated by DRF, not the session middleware) is on the request's line.
    [line] = request_lines(captured)
    assert (line["request_id"], line["user_id"], line["status"]) == ("submit-1", requester.pk, 200)


def test_the_audit_file_is_appended_to_and_reopened_after_logrotate_moves_it(tmp_path):
    path = tmp_path / "audit.jsonl"
    handler = AuditFileHandler(str(path), fsync=True)
    handler.setFormatter(AuditFormatter())
    assert not path.exists()  # opened at the first line only

    def emit(seq: int) -> None:
        handler.handle(logging.makeLogRecord({"msg": "case event", "case": "RB-2026-0001", "seq": seq}))

    emit(1)
    assert fcntl.fcntl(handler.stream.fileno(), fcntl.F_GETFL) & os.O_APPEND
    os.rename(path, tmp_path / "audit.jsonl.1")
    emit(2)
    handler.close()

    assert [json.loads(line)["seq"] for line in (tmp_path / "audit.jsonl.1").read_text().splitlines()] == [1]
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [2]


# --- Celery ------------------------------------------------------------------------------------


# On the project's app, not ``shared_task``: a shared task runs on whichever app is current,
# and a test that starts its own Celery app (a worker test) leaves that one current.
@project_celery.task(name="tests.test_logging.probe")
def probe(n: int) -> str | None:
    probe_log.warning("probe %s ran", n)
    return log_context.current_request_id()


def test_an_eager_tasks_log_lines_carry_the_request_id_that_queued_it(captured, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    with log_context.bind(request_id="queued-by-1", user_id=7):
        probe.delay(1)

    [line] = [line for line in captured.lines() if line["logger"] == probe_log.name]
    assert (line["message"], line["request_id"], line["user_id"]) == ("probe 1 ran", "queued-by-1", 7)


def test_a_workers_task_gets_the_request_id_through_its_message_headers():
    """Not eager: the task is published to a broker and run by a worker thread (no shared context)."""
    app = Celery("log-context-test", broker="memory://", backend="cache+memory://")
    app.conf.task_always_eager = False

    @app.task(name="tests.test_logging.worker_probe")
    def worker_probe() -> list[Any]:
        probe_log.warning("worker probe ran")
        return [log_context.current_request_id(), log_context.current_user_id()]

    capture = Captured()
    for handler in capture.handlers:
        probe_log.addHandler(handler)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            with log_context.bind(request_id="queued-by-2", user_id=8):
                result = worker_probe.delay()
            assert result.get(timeout=20) == ["queued-by-2", 8]
            untagged = worker_probe.delay()  # queued outside any request
            assert untagged.get(timeout=20) == [None, None]
    finally:
        for handler in capture.handlers:
            probe_log.removeHandler(handler)

    assert [(line["request_id"], line["user_id"]) for line in capture.lines()] == [
        ("queued-by-2", 8),
        (None, None),
    ]
