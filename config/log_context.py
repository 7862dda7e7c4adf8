"""What every log line says about where it comes from: the request id and the signed-in user's id.

Both live in context variables, set by ``config.middleware.RequestId`` for a request and
carried into Celery tasks in two message headers, so a task's log lines carry the id of
the request that queued it. Eager tasks run inside the request and simply see its context.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging.config
from collections.abc import Iterator
from typing import Any

from celery import signals
from django.utils.functional import LazyObject, empty

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# A user id handed over explicitly (a Celery task's header); a request's user is read from the request.
_user_id: contextvars.ContextVar[int | str | None] = contextvars.ContextVar("user_id", default=None)
_request: contextvars.ContextVar[Any] = contextvars.ContextVar("request", default=None)

# Message headers of a queued task (names that cannot collide with Celery's own).
REQUEST_ID_HEADER = "log_request_id"
USER_ID_HEADER = "log_user_id"


def _user_id_of(request: Any) -> int | str | None:
    """The id of ``request``'s user if authentication has already resolved it, else None.

    A log call never triggers the session or token lookup itself: that would be a query
    in the middle of whatever logged (possibly a failed transaction).
    """
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        user = user._wrapped
    if user is None or user is empty or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def current_request_id() -> str | None:
    return _request_id.get()


def current_user_id() -> int | str | None:
    request = _request.get()
    if request is not None:
        return _user_id_of(request)
    return _user_id.get()


@contextlib.contextmanager
def bind(*, request_id: str | None, user_id: int | str | None = None, request: Any = None) -> Iterator[None]:
    """Log lines within the block carry ``request_id`` and the user (``request``'s, or ``user_id``)."""
    tokens = (_request_id.set(request_id), _user_id.set(user_id), _request.set(request))
    try:
        yield
    finally:
        for var, token in zip((_request_id, _user_id, _request), tokens, strict=True):
            var.reset(token)


# --- Celery ----------------------------------------------------------------------------


@signals.before_task_publish.connect(dispatch_uid="config.log_context.publish")
def _add_headers(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is None:
        return
    request_id = current_request_id()
    if request_id is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)
        user_id = current_user_id()
        if user_id is not None:
            headers.setdefault(USER_ID_HEADER, user_id)


# Open contexts of running tasks by task id (a list: an eager retry runs the same id nested).
_task_contexts: dict[str, list[contextlib.AbstractContextManager[None]]] = {}


@signals.task_prerun.connect(dispatch_uid="config.log_context.prerun")
def _enter_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if request_id is None or task_id is None:
        # An eager task (run inside the request that queued it), or one queued outside any request.
        return
    context = bind(request_id=str(request_id), user_id=getattr(task.request, USER_ID_HEADER, None))
    context.__enter__()
    _task_contexts.setdefault(task_id, []).append(context)


@signals.task_postrun.connect(dispatch_uid="config.log_context.postrun")
def _leave_task(task_id: str | None = None, **kwargs: Any) -> None:
    contexts = _task_contexts.get(task_id or "")
    if not contexts:
        return
    contexts.pop().__exit__(None, None, None)
    if not contexts:
        del _task_contexts[task_id or ""]


@signals.setup_logging.connect(dispatch_uid="config.log_context.setup_logging")
def _configure_worker_logging(**kwargs: Any) -> None:
    """A worker logs through settings.LOGGING too, instead of Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
