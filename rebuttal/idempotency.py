"""Idempotent POSTs: a retry sent with the same ``Idempotency-Key`` gets the first answer back.

An integration that loses the answer to ``POST /api/v1/cases/`` or to a transition
(a timeout, a dropped connection) cannot know whether the work was done. Sent with
an ``Idempotency-Key`` header, the request may simply be sent again: the work is
done at most once, and every retry gets the first answer (status and body) with
``Idempotent-Replayed: true``. The semantics are Stripe's, with the statuses of the
IETF draft "The Idempotency-Key HTTP Header Field":

- A key is 1 to 255 printable ASCII characters (spaces allowed inside, not at the
  ends: proxies may strip them); anything else is a 400 naming the header.
- A key belongs to the user and the endpoint (method and path): another user, or
  another case or transition, with the same key is another request.
- The same key with another body is refused (422): it is a client bug, and
  answering with the first result would hide it.
- The same key while the first request is still running is refused (409, with
  ``Retry-After``); the retry that comes after it finishes gets its answer.
- Records expire after ``IDEMPOTENCY_KEY_TTL_HOURS`` (default 24); the scheduler
  purges them. After that the key may be used again.
- Without the header nothing here runs: the endpoint behaves as it always did.

What is recorded -- the answer to the request itself, which a retry must see again:

- every 2xx (the work done);
- every 4xx but 409: the request as sent is invalid (400), not this user's to make
  (403), about a case they may not see (404) or too large (413). Nothing changed;
  a retry gets the same answer, and a corrected request is a new request that
  needs a new key (the old one answers 422 to a different body).

What is not recorded, so that a retry runs again:

- 5xx: the transaction rolled back and nothing was done; a retry may succeed.
- 409: it describes the case at that moment (a stale ``version``, a transition not
  allowed in this state), not the request. Nothing changed, so running the retry
  is safe, and it then answers for the case as it is (a stale version stays stale:
  versions only grow).

The record is written in the transaction of the work, so neither can exist without
the other: a crash leaves both or neither, and a retry after a crash either replays
or does the work. Two identical requests at once do the work once: on PostgreSQL
the first takes a transaction-scoped advisory lock on the key and the second,
failing to take it, answers 409 at once; the unique constraint on the record is the
backstop everywhere (the loser's transaction, work included, rolls back and it
replays the winner's answer).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from rebuttal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_TTL_HOURS = 24
# Printable ASCII, 1 to 255 characters, no space at either end.
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")
_PATH_MAX = IdempotencyRecord._meta.get_field("path").max_length

INVALID_KEY = (
    f"The {HEADER} header must be 1 to 255 printable ASCII characters, without a space at either end."
)
KEY_REUSED = (
    f"This {HEADER} was used with a different request. Send a new key for a new request, "
    "or the same body to retry the first one."
)
KEY_IN_PROGRESS = f"A request with this {HEADER} is in progress. Retry when it has finished."


def ttl() -> dt.timedelta:
    """How long a record answers retries (``IDEMPOTENCY_KEY_TTL_HOURS``, default 24)."""
    return dt.timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", DEFAULT_TTL_HOURS))


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the records older than the TTL; the scheduler calls this. Returns how many."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class _Scope:
    user_id: int
    key: str
    method: str
    path: str

    def filter(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "key": self.key, "method": self.method, "path": self.path}

    def lock_id(self) -> int:
        """A signed 64-bit number for ``pg_try_advisory_xact_lock`` (a collision only delays a retry)."""
        text = "\x1f".join(["idempotency", str(self.user_id), self.method, self.path, self.key])
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class _Raced(Exception):
    """Another request saved a record for the same key first; our transaction must roll back."""


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the body's canonical form: parsed JSON with sorted keys; form fields and each file's digest.

    Canonical, so that the same data sent again (another key order, other spacing) is
    the same request.
    """
    data = request.data
    if isinstance(data, QueryDict):  # a form or multipart body (files included by DRF)
        canonical: Any = {name: [_form_value(v) for v in values] for name, values in data.lists()}
    else:
        canonical = data
    # ASCII escapes: a lone surrogate (valid in JSON) cannot be encoded as UTF-8.
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _form_value(value: Any) -> Any:
    if not isinstance(value, UploadedFile):
        return value
    digest = hashlib.sha256()
    for chunk in value.chunks():
        digest.update(chunk)
    value.seek(0)  # the view reads it next
    return {"file": value.name, "sha256": digest.hexdigest()}


def _records(status_code: int) -> bool:
    """Whether an answer is kept for retries (the module's docstring says why)."""
    return status_code < 500 and status_code != status.HTTP_409_CONFLICT


def _refusal(status_code: int, detail: str, code: str) -> Response:
    return Response({"detail": detail, "code": code}, status=status_code)


def _in_progress() -> Response:
    response = _refusal(status.HTTP_409_CONFLICT, KEY_IN_PROGRESS, "idempotency_key_in_progress")
    response["Retry-After"] = "1"
    return response


def _lock(scope: _Scope) -> bool:
    """Take the key's lock for this transaction; False if another request holds it.

    PostgreSQL only. SQLite lets one writer in at a time, and the unique constraint
    catches what gets past that.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [scope.lock_id()])
        return bool(cursor.fetchone()[0])


def _find(scope: _Scope) -> IdempotencyRecord | None:
    """The live record of the key; an expired one not yet purged is deleted (the key is free again)."""
    record = IdempotencyRecord.objects.filter(**scope.filter()).first()
    if record is not None and record.created_at < timezone.now() - ttl():
        record.delete()
        return None
    return record


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return _refusal(status.HTTP_422_UNPROCESSABLE_ENTITY, KEY_REUSED, "idempotency_key_reused")
    response = Response(json.loads(record.response_body), status=record.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def _run(
    view: Any, handler: Callable[..., Response], request: Request, *args: Any, **kwargs: Any
) -> Response:
    """The view's answer, errors included; a refusal rolls back what the handler did (a savepoint)."""
    try:
        with transaction.atomic():
            return handler(view, request, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - DRF's own handling: an answer, or re-raised (5xx)
        return view.handle_exception(exc)


def _save(scope: _Scope, fingerprint: str, response: Response) -> None:
    # The body as the client got it (DRF's JSON); the replay renders these data again, to the same bytes.
    body = "null" if response.data is None else JSONRenderer().render(response.data).decode()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                **scope.filter(),
                fingerprint=fingerprint,
                status_code=response.status_code,
                response_body=body,
            )
    except IntegrityError as exc:
        raise _Raced from exc


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Make a DRF view method honour the ``Idempotency-Key`` header (see the module's docstring)."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise serializers.ValidationError({HEADER: [INVALID_KEY]})
        path = escape_uri_path(request.path)
        if len(path) > _PATH_MAX:
            # Case ids are numbers and transition names short: so long a path names no
            # endpoint that acts. It is answered 404, changing nothing, every time.
            return handler(view, request, *args, **kwargs)
        scope = _Scope(user_id=request.user.pk, key=key, method=request.method, path=path)
        fingerprint = request_fingerprint(request)
        try:
            with transaction.atomic():
                if not _lock(scope):
                    return _in_progress()
                record = _find(scope)
                if record is not None:
                    return _replay(record, fingerprint)
                response = _run(view, handler, request, *args, **kwargs)
                if _records(response.status_code):
                    _save(scope, fingerprint, response)
                return response
        except _Raced:
            # Our work rolled back with the transaction; answer as the winner did.
            record = _find(scope)
            return _in_progress() if record is None else _replay(record, fingerprint)

    return wrapper


# --- the schema ------------------------------------------------------------------------


class CodedErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="What went wrong, for programs: e.g. `stale_version`, `idempotency_key_reused`."
    )


def schema_parameters(*replayable: int) -> list[OpenApiParameter]:
    """The request header, and the response header on the statuses a replay can have."""
    return [
        OpenApiParameter(
            HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=False,
            pattern=f"^{_KEY.pattern}$",
            description=(
                "Optional. A key you choose (1-255 printable ASCII characters, e.g. a UUID) to make the "
                "request safe to retry: the work is done once, and a retry with the same key and body "
                f"within {DEFAULT_TTL_HOURS} hours (`IDEMPOTENCY_KEY_TTL_HOURS`) gets the first answer "
                f"back, with `{REPLAYED_HEADER}: true`. The key is yours and this endpoint's alone. "
                "Successes and 4xx answers other than 409 are kept; a 409 or 5xx is not, so its retry "
                "runs again."
            ),
        ),
        OpenApiParameter(
            REPLAYED_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            enum=["true"],
            response=list(replayable),
            description=f"`true` when this is the stored answer to an earlier request with this {HEADER}.",
        ),
    ]


def schema_responses(conflict: str = "") -> dict[int, OpenApiResponse]:
    """The 409 and 422 of an idempotent endpoint; ``conflict`` is what else its 409 means."""
    in_progress = f"a request with the same {HEADER} is still in progress; retry later."
    return {
        409: OpenApiResponse(
            CodedErrorSerializer,
            description=f"{conflict} Or {in_progress}" if conflict else "A" + in_progress[1:],
        ),
        422: OpenApiResponse(
            CodedErrorSerializer, description=f"This {HEADER} was used with a different request body."
        ),
    }
