"""The production profile's own parts: /healthz, 503 during an outage, the deploy check, beat's schedule.

Outages here are simulated inside one process (every SQL statement fails, the broker URL
points at a closed port); the fault-injection run of ``make verify`` restarts the real
PostgreSQL and kills real workers.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, OperationalError, connection
from django.test import Client, override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from config import health
from config.outages import is_outage
from reports.models import LetterRequest, RequestStatus
from tests.factories import make_case
from workflow import letters, tasks

ROOT = Path(__file__).resolve().parent.parent
# A port nothing listens on (the discard port), for a broker that is down.
DOWN_BROKER = "redis://127.0.0.1:9/0"


def _database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise OperationalError("server closed the connection unexpectedly")


# --- /healthz -------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_each_part_and_sets_no_cookie() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "worker"}
    assert body["checks"]["database"]["ok"] is True
    # The embedded default has no broker: tasks run in the web process.
    assert "not used" in body["checks"]["broker"]["detail"]
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


@pytest.mark.django_db
def test_healthz_answers_any_host_and_head() -> None:
    # A load balancer probes by address; the host check must not turn that into a 400.
    assert Client(HTTP_HOST="10.1.2.3:8000").get("/healthz").status_code == 200
    assert Client().head("/healthz").status_code == 200
    # Only GET and HEAD are the health check; anything else goes through the normal stack.
    assert Client().post("/healthz").status_code == 404


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down() -> None:
    with connection.execute_wrapper(_database_down):
        response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["detail"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down() -> None:
    with override_settings(CELERY_BROKER_URL=DOWN_BROKER):
        response = Client().get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["broker"]["ok"] is False
    # Refused at once, not after a long wait.
    assert checks["broker"]["ms"] < 5000


@pytest.mark.django_db
def test_worker_heartbeat_fresh_stale_and_missing() -> None:
    cache.delete(health.HEARTBEAT_KEY)
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0"):
        assert health.check_worker() == {"ok": False, "detail": "no heartbeat from a worker yet"}
        health.record_heartbeat()
        assert health.check_worker()["ok"] is True
        stale = timezone.now() - dt.timedelta(seconds=3 * settings.HEARTBEAT_SECONDS + 1)
        cache.set(health.HEARTBEAT_KEY, stale)
        result = health.check_worker()
        assert result["ok"] is False
        assert result["age_seconds"] > 3 * settings.HEARTBEAT_SECONDS


def test_the_heartbeat_task_records_the_heartbeat() -> None:
    cache.delete(health.HEARTBEAT_KEY)
    tasks.heartbeat.apply()
    assert cache.get(health.HEARTBEAT_KEY) is not None


def test_beat_queues_the_scheduler_and_the_heartbeat() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["scheduler"]["task"] == "workflow.tasks.run_scheduler"
    assert schedule["heartbeat"]["task"] == "workflow.tasks.heartbeat"
    # The names beat sends are the tasks' registered names.
    assert {tasks.run_scheduler.name, tasks.heartbeat.name} == {
        "workflow.tasks.run_scheduler",
        "workflow.tasks.heartbeat",
    }


@pytest.mark.django_db
def test_the_scheduler_task_runs_one_pass() -> None:
    # Nothing is due in an empty database: the pass's summary says so.
    line = tasks.run_scheduler.apply().get()
    nothing = "0 invitation(s) expired, 0 reminder(s), 0 escalation(s), 0 e-mail(s) retried"
    assert line == f"{nothing}, 0 letter(s) retried."


# --- pages and API during an outage ---------------------------------------------------


@pytest.mark.django_db
def test_a_page_answers_503_with_a_clear_page_while_the_database_is_down(requester) -> None:  # noqa: ANN001
    client = Client(raise_request_exception=False)
    client.force_login(requester)
    with connection.execute_wrapper(_database_down):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert "briefly unavailable" in text
    assert "Nothing you sent was half-saved" in text


@pytest.mark.django_db
def test_the_api_answers_503_json_while_the_database_is_down(requester) -> None:  # noqa: ANN001
    client = Client(raise_request_exception=False)
    client.force_login(requester)
    with connection.execute_wrapper(_database_down):
        response = client.get("/api/v1/cases/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["detail"]


@pytest.mark.django_db
def test_a_bug_is_still_a_500(requester) -> None:  # noqa: ANN001
    client = Client(raise_request_exception=False)
    client.force_login(requester)
    with connection.execute_wrapper(_broken_query):
        response = client.get("/cases/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def _broken_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    if "rebuttal_rebuttalcase" in sql:
        raise ValueError("a bug in the view")
    return execute(sql, params, many, context)


@pytest.mark.django_db
def test_a_bad_query_is_not_mistaken_for_an_outage() -> None:
    with pytest.raises(DatabaseError) as caught, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert not is_outage(caught.value)
    assert is_outage(OperationalError("server closed the connection unexpectedly"))
    assert is_outage(BrokerError("Error 111 connecting to 127.0.0.1:9. Connection refused."))


@pytest.mark.django_db
def test_a_transition_committed_while_the_broker_is_down_is_not_lost(
    requester,
    hr,
    monkeypatch,  # noqa: ANN001
) -> None:
    """The letter task cannot be queued: the action still succeeds, the request waits, the
    scheduler queues it again once the broker is back."""
    from workflow.tasks import issue_letter

    def refused(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    case = make_case(requester)
    client = Client(raise_request_exception=False)
    client.force_login(requester)
    monkeypatch.setattr(issue_letter, "delay", refused)
    response = client.post(
        f"/api/v1/cases/{case.pk}/transitions/submit/",
        data={"version": case.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.status == "submitted"
    pending = LetterRequest.objects.get(case=case, kind="acknowledgement")
    assert pending.status == RequestStatus.PENDING
    monkeypatch.undo()
    later = timezone.now() + letters.RETRY_AFTER + dt.timedelta(seconds=1)
    assert letters.retry_pending(now=later) == 1
    pending.refresh_from_db()
    assert pending.status == RequestStatus.ISSUED


# --- configuration --------------------------------------------------------------------


def _deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "CACHE_"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "HTTPS": "1",
    "ALLOWED_HOSTS": "rebuttals.example.org",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def test_production_settings_pass_the_deploy_check() -> None:
    result = _deploy_check(**PRODUCTION, SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_refuses_the_embedded_key_and_an_unshared_cache() -> None:
    result = _deploy_check(**{**PRODUCTION, "CACHE_URL": ""})
    assert result.returncode != 0
    assert "rebuttal.W001" in result.stderr  # the embedded secret key
    assert "rebuttal.W002" in result.stderr  # workers without a shared cache
    plain = _deploy_check(**{**PRODUCTION, "HTTPS": "0"}, SECRET_KEY=secrets.token_urlsafe(64))
    assert plain.returncode != 0
    assert "security.W008" in plain.stderr or "security.W012" in plain.stderr
