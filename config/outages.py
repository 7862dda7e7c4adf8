"""Outages of the database or the broker: a 503 with a clear page, never a 500.

Django turns an exception raised anywhere in a request (a view, a middleware,
the session saved on the way out) into a call of ``handler500`` from inside its
``except`` block, so ``server_error`` can still see which exception it was. A
lost database connection or an unreachable broker is an outage, not a bug: the
person is told the service is briefly unavailable and that nothing they sent was
kept half-way (the transaction was rolled back), with ``Retry-After``. The page
is rendered without a request context, so it needs neither the database nor the
session. API paths get the same answer as JSON.
"""

from __future__ import annotations

import functools
import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

# Seconds a client is asked to wait before trying again.
RETRY_AFTER = 30


@functools.cache
def outage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a backing service is unreachable (not a fault in the request)."""
    errors: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:  # The broker (Celery on Redis): kombu's and redis-py's connection errors.
        from kombu.exceptions import OperationalError as BrokerError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [BrokerError, RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    return tuple(errors)


def is_outage(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) is a lost connection to the database or the broker."""
    errors = outage_errors()
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, errors) and not _is_query_error(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


# SQLite errors that mean the file cannot be reached or written now, rather than a bad query.
SQLITE_OUTAGES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


def _is_query_error(error: BaseException) -> bool:
    """A ``DatabaseError`` that the database answered (a bad query) is a bug, not an outage.

    psycopg reports a lost server as ``OperationalError`` with no SQLSTATE, or with a
    class-08 (connection exception) or 57P (operator intervention: shutdown) code;
    SQLite names its error (``sqlite_errorname``).
    """
    if not isinstance(error, DatabaseError):
        return False
    cause = error.__cause__
    name = getattr(cause, "sqlite_errorname", None)
    if name is not None:
        return not name.startswith(SQLITE_OUTAGES)
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        return False
    return not (sqlstate.startswith("08") or sqlstate.startswith("57P"))


def unavailable(request: HttpRequest | None) -> HttpResponse:
    """The 503 answer: JSON for the API, a page for people."""
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": _("The service is briefly unavailable. Nothing was changed; try again shortly.")},
            status=503,
        )
    else:
        body = loader.get_template("503.html").render({"retry_after": RETRY_AFTER})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 during an outage of the database or the broker, else Django's 500 page."""
    error = sys.exc_info()[1]
    if is_outage(error):
        return unavailable(request)
    body = loader.get_template("500.html").render()
    return HttpResponse(body, status=500)
