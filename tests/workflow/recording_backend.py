"""An e-mail backend for tests that run a real Celery worker: it records each send in Redis.

Each message takes 20-50 ms, like a short SMTP exchange, then its Message-ID is
pushed to the list ``SENT_KEY``: one entry per message that reached the "mail
server". When the key ``HOLD_KEY`` exists, a send first reports itself on
``HELD_KEY`` as ``"<hold value> <pid> <Message-ID>"`` and waits (at most 30 s)
until the key is gone: a test can then kill the process at a known moment in
the middle of a send, after the notification row is claimed and before the
server has the message.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence

import redis
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

REDIS_URL_ENV = "RECORDING_REDIS_URL"
SENT_KEY = "recorded:sent"
HOLD_KEY = "recorded:hold"
HELD_KEY = "recorded:held"
HOLD_LIMIT = 30.0


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        client = redis.Redis.from_url(os.environ[REDIS_URL_ENV], socket_timeout=10)
        try:
            for message in email_messages:
                message_id = message.message()["Message-ID"]
                hold = client.get(HOLD_KEY)
                if hold is not None:
                    client.rpush(HELD_KEY, f"{hold.decode()} {os.getpid()} {message_id}")
                    limit = time.monotonic() + HOLD_LIMIT
                    while client.exists(HOLD_KEY) and time.monotonic() < limit:
                        time.sleep(0.01)
                time.sleep(random.uniform(0.02, 0.05))  # noqa: S311 - a delay, not a secret
                client.rpush(SENT_KEY, message_id)
        finally:
            client.close()
        return len(email_messages)
