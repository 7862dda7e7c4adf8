"""Log formats: readable text for development, JSON lines for production, and the audit sink.

A JSON line holds the time (UTC), level, logger, message, request id, user id, the case
reference when known, and only those ``extra`` fields that are on ``ALLOWED_EXTRA``:
identifiers, states and counts, never a name, e-mail address, statement, reason, file
name or IP address. Log messages themselves must keep to the same rule (ids, not names).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from logging.handlers import WatchedFileHandler
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.log_context import current_request_id, current_user_id

# ``extra`` fields a JSON line may carry. Anything else passed in ``extra`` is dropped.
ALLOWED_EXTRA = frozenset(
    {
        # a request (config.middleware.RequestId)
        "method",
        "route",
        "status",
        "duration_ms",
        # a case event (rebuttal.services)
        "case_id",
        "seq",
        "kind",
        "transition",
        "from_status",
        "to_status",
        "actor",
        "at",
        "policy_version",
        "hash",
        "prev_hash",
        # background work
        "task",
        "task_id",
        "notification_id",
        "letter_request_id",
    }
)

# The fields of one audit line, in order (all but ``request_id`` mirror the CaseEvent row).
AUDIT_FIELDS = (
    "case",
    "case_id",
    "seq",
    "at",
    "actor",
    "kind",
    "transition",
    "from_status",
    "to_status",
    "policy_version",
    "prev_hash",
    "hash",
    "request_id",
)

FORMATS = ("text", "json")


class ContextFilter(logging.Filter):
    """Give every record the current request id and user id (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        if getattr(record, "user_id", None) is None:
            record.user_id = current_user_id()
        if not hasattr(record, "case"):
            record.case = None
        return True


def _utc(created: float) -> str:
    return (
        dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, holding allow-listed fields only.

    Written here rather than taken from python-json-logger: that library ships every
    ``extra`` attribute unless told otherwise, the opposite of what personal data needs,
    and what remains (``json.dumps`` of a dict) is a few lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "case": getattr(record, "case", None),
        }
        for key in sorted(ALLOWED_EXTRA.intersection(record.__dict__)):
            line[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = f"{record.exc_info[0].__module__}.{record.exc_info[0].__qualname__}"
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii: a line break or separator inside a value can never split the line.
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal (``make run``): time, level, logger, [request id, case], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(context)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the record itself goes on to other handlers (the JSON one) unchanged.
        record = logging.makeLogRecord(record.__dict__)
        parts = [getattr(record, "request_id", None) or "-"]
        if getattr(record, "case", None):
            parts.append(str(record.case))
        record.context = " ".join(parts)
        return super().format(record)


class AuditFormatter(logging.Formatter):
    """An audit line: the case event's identifiers, states and hashes, never free text."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({key: getattr(record, key, None) for key in AUDIT_FIELDS}, default=str)


class AuditFileHandler(WatchedFileHandler):
    """Appends each audit line with a single ``write()`` to a file opened ``O_APPEND``.

    Several processes may append to the same file (each line lands whole); a file moved
    away by logrotate is reopened (``WatchedFileHandler``). With ``fsync`` each line is
    on disk before the request finishes.
    """

    def __init__(self, filename: str, fsync: bool = False) -> None:
        self.fsync = fsync
        # Opened at the first event: a process that appends none (a check, a migration) touches nothing.
        super().__init__(filename, mode="ab", delay=True)

    def _open(self) -> Any:
        # Unbuffered binary: one write() per line, at the end of the file (O_APPEND) whoever else appends.
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        return open(fd, "ab", buffering=0)  # noqa: SIM115 - the handler owns and closes it

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + "\n").encode()
            if self.stream is None:
                self.stream = self._open()
                self._statstream()
            else:
                self.reopenIfNeeded()
            written = self.stream.write(data)
            while written < len(data):  # only on a short write (a full disk): finish the line
                written += self.stream.write(data[written:])
            if self.fsync:
                os.fsync(self.stream.fileno())
        except Exception:
            self.handleError(record)


def console_formatter(name: str) -> str:
    """The LOG_FORMAT setting, checked: ``text`` or ``json``."""
    value = name.strip().lower()
    if value not in FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {name!r}")
    return value


def audit_handlers(target: str, *, fsync: bool = False) -> dict[str, dict[str, Any]]:
    """The handler named ``audit`` for AUDIT_LOG_FILE: a file, ``syslog:`` (the local syslog,
    ``/dev/log``), ``syslog:<socket path>`` or ``syslog:<host>:<port>`` (UDP); empty: none."""
    target = target.strip()
    if not target:
        return {}
    common = {"formatter": "audit", "filters": ["context"]}
    if target.startswith("syslog:"):
        where = target.removeprefix("syslog:") or "/dev/log"
        if where.startswith("/"):
            address: Any = where
        else:
            host, _, port = where.rpartition(":")
            if not host or not port.isdigit():
                raise ImproperlyConfigured(f"AUDIT_LOG_FILE: expected syslog:<host>:<port>, got {target!r}")
            address = (host, int(port))
        return {"audit": {"class": "logging.handlers.SysLogHandler", "address": address, **common}}
    return {"audit": {"()": "config.logging.AuditFileHandler", "filename": target, "fsync": fsync, **common}}
