"""The Celery app of the letter worker test, with a render a test can slow down and hold.

``tests/workflow/test_letter_worker.py`` starts ``celery -A tests.workflow.letter_worker_support
worker``: this module is the project's app (``config.celery``) and, when the
environment variable ``LETTER_WORKER_REDIS_URL`` is set (only in that worker),
wraps ``reports.services.letter_render`` so that each render of a letter:

1. reports itself on the Redis list ``RENDERS_KEY`` as ``"<pid> <request id>"``;
2. renders the PDF for real;
3. sleeps ``LETTER_RENDER_DELAY_SECONDS`` (default 0), like a large letter;
4. while the key ``HOLD_KEY`` exists, reports itself on ``HELD_KEY`` as
   ``"<hold value> <pid> <request id>"`` and waits (at most 30 s) until the key is gone.

A test can so kill a process at a known moment in the middle of a render: the
PDF is in memory, nothing is stored, no transaction is open. Production code
has no hook for this: each pool process wraps the function when it starts
(``worker_process_init``, once Django is set up).
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis
from celery import signals

from config.celery import app

__all__ = ["app"]

REDIS_URL_ENV = "LETTER_WORKER_REDIS_URL"
DELAY_ENV = "LETTER_RENDER_DELAY_SECONDS"
RENDERS_KEY = "letters:renders"
HOLD_KEY = "letters:hold"
HELD_KEY = "letters:held"
HOLD_LIMIT = 30.0


def slowed(render: Any, *, redis_url: str, delay: float) -> Any:
    """``render`` (``letter_render``) reporting each call, slowed by ``delay`` and held on demand."""

    def letter_render(request: Any, **kwargs: Any) -> Any:
        client = redis.Redis.from_url(redis_url, socket_timeout=10)
        try:
            client.rpush(RENDERS_KEY, f"{os.getpid()} {request.pk}")
            rendered = render(request, **kwargs)
            time.sleep(delay)
            hold = client.get(HOLD_KEY)
            if hold is not None:
                client.rpush(HELD_KEY, f"{hold.decode()} {os.getpid()} {request.pk}")
                limit = time.monotonic() + HOLD_LIMIT
                while client.exists(HOLD_KEY) and time.monotonic() < limit:
                    time.sleep(0.01)
            return rendered
        finally:
            client.close()

    return letter_render


def install(**kwargs: Any) -> None:
    """Wrap this process's ``letter_render`` (``letter_issue`` looks it up on the module at each call)."""
    from reports import services

    services.letter_render = slowed(
        services.letter_render,
        redis_url=os.environ[REDIS_URL_ENV],
        delay=float(os.environ.get(DELAY_ENV, "0")),
    )


if os.environ.get(REDIS_URL_ENV):
    signals.worker_process_init.connect(install, weak=False)
