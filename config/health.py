"""``GET /healthz``: whether this application process can reach the database and the broker,
and whether a Celery worker (through beat's heartbeat) is alive.

Answered by a middleware placed first, before sessions and authentication, so it
needs nothing but the checks themselves and still answers (503) while the
database is down. The body says which part failed and how long each check took;
it holds no secret and no personal data.

- ``database``: ``SELECT 1`` on the default connection.
- ``broker``: a connection to ``CELERY_BROKER_URL`` (skipped in the embedded
  default, where tasks run in the web process).
- ``worker``: the age of the heartbeat a worker writes into the cache every
  ``HEARTBEAT_SECONDS`` (queued by Celery beat): alive when younger than three
  intervals. A stale heartbeat makes the status ``degraded`` but not 503: this
  process can still serve pages, and a load balancer should keep sending them.

Status 200 when the database and the broker answer, 503 otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

PATH = "/healthz"
HEARTBEAT_KEY = "health:worker-heartbeat"
# The answer of the broker and worker checks in the embedded default.
NOT_USED = {"ok": True, "detail": "not used: tasks run in the web process"}
# How long each check may take before it counts as failed.
TIMEOUT_SECONDS = 2


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> dict[str, Any]:
    if not settings.CELERY_BROKER_URL:
        return NOT_USED.copy()
    from config.celery import app

    # The URL the settings name now (Celery's own configuration is read once, at start).
    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
    return {"ok": True}


def check_worker() -> dict[str, Any]:
    if not settings.CELERY_BROKER_URL:
        return NOT_USED.copy()
    beat = cache.get(HEARTBEAT_KEY)
    if beat is None:
        return {"ok": False, "detail": "no heartbeat from a worker yet"}
    age = (timezone.now() - beat).total_seconds()
    limit = 3 * settings.HEARTBEAT_SECONDS
    return {
        "ok": age < limit,
        "age_seconds": round(age, 1),
        "detail": f"heartbeat expected every {settings.HEARTBEAT_SECONDS} s",
    }


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - any failure of a check is its answer
        result = {"ok": False, "detail": f"{type(exc).__name__}: {str(exc)[:200]}"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def health() -> tuple[int, dict[str, Any]]:
    """The status code and body of ``/healthz``."""
    checks = {
        "database": _timed(check_database),
        "broker": _timed(check_broker),
        "worker": _timed(check_worker),
    }
    serving = checks["database"]["ok"] and checks["broker"]["ok"]
    status = "ok" if serving and checks["worker"]["ok"] else "degraded" if serving else "unavailable"
    return (200 if serving else 503), {"status": status, "checks": checks}


class HealthCheck:
    """Answers ``GET``/``HEAD /healthz`` before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        code, body = health()
        response = JsonResponse(body, status=code)
        response["Cache-Control"] = "no-store"
        return response


def record_heartbeat() -> None:
    """Called by the worker's heartbeat task: now, for ``check_worker`` to read."""
    cache.set(HEARTBEAT_KEY, timezone.now(), timeout=None)
