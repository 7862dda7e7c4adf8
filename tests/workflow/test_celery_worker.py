"""A real Celery worker on Redis sends every notification exactly once, even when killed mid-send.

The worker runs as a subprocess against this test's (committed) PostgreSQL
database, with the recording e-mail backend of ``tests/workflow/recording_backend.py``.
Five times, a send is held in the middle (row claimed, mail not yet with the
server) and the worker is killed with SIGKILL: alternately the pool process
doing the send (the parent sees the worker lost and gives the task back to the
broker) and the whole worker, main process and pool together (Redis gives the
unacknowledged tasks back after the visibility timeout; a new worker is
started). Nothing is lost and nothing is sent twice.

The kills land while a send is held, not at random: a kill after the mail
server accepted a message and before the row is marked sent makes the row go
out again, which no worker can rule out; that resend carries the same
Message-ID (``workflow.tasks.message_id``), so it is recognisable.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.db import connection

from tests.factories import make_case
from tests.workflow import recording_backend
from workflow import notifications
from workflow.models import Notification, NotificationStatus
from workflow.tasks import message_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A Redis database of its own: emptied before and after the test.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]
NOTIFICATIONS = 48
KILLS = 5


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """Redis database 14, emptied; unreachable Redis skips, or fails in CI's PostgreSQL run."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"needs Redis at {REDIS_URL} for a real Celery worker: {exc}"
        if os.environ.get("REQUIRE_POSTGRES_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def database_url() -> str:
    """This test's database, for the worker subprocess."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery worker`` in its own process group, logging to ``log``."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            # A task taken by a dead worker is back in the queue within ~3 s.
            "CELERY_VISIBILITY_TIMEOUT": "2",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "EMAIL_BACKEND": "tests.workflow.recording_backend.RecordingBackend",
            recording_backend.REDIS_URL_ENV: REDIS_URL,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        celery = Path(sys.executable).parent / "celery"
        command = [str(celery), "-A", "config", "worker", "--pool=prefork", "--concurrency=2"]
        command += ["--without-mingle", "--without-gossip", "--loglevel=WARNING"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")

    def kill_all(self) -> None:
        """SIGKILL to the main process and its pool at once."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


def wait_for(condition: Callable[[], object], *, timeout: float, worker: Worker, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.check_alive()
        if result := condition():
            return result
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{worker.log.read_text()[-3000:]}")


def test_a_worker_killed_mid_send_five_times_loses_no_notification_and_sends_none_twice(
    broker, requester, tmp_path
):
    case = make_case(requester)
    rows = [
        notifications.build(
            case=case,
            kind="case_submitted",
            person=notifications.Recipient(email=f"person{i}@example.org", name=f"Person {i}"),
            dedupe_key=f"worker-test:{i}",
        )
        for i in range(NOTIFICATIONS)
    ]
    Notification.objects.bulk_create(rows)  # committed: no test transaction here
    ids = sorted(Notification.objects.values_list("pk", flat=True))
    assert len(ids) == NOTIFICATIONS

    producer = Celery("producer", broker=REDIS_URL)
    worker = Worker(tmp_path / "worker.log")
    sent_count = lambda: broker.llen(recording_backend.SENT_KEY)  # noqa: E731
    killed_mid_send: list[str] = []
    try:
        for pk in ids:
            producer.send_task("workflow.tasks.send_notification", args=[pk])
        worker.start()
        for kill in range(1, KILLS + 1):
            progress = sent_count() + 2
            wait_for(
                lambda progress=progress: sent_count() >= progress,
                timeout=30,
                worker=worker,
                what="sends to go on",
            )
            broker.set(recording_backend.HOLD_KEY, kill)
            # Killing the whole worker waits until both pool processes are held: one between
            # the mail server's acceptance and its commit would send its row again.
            whole_worker = kill % 2 == 0
            held: list[tuple[int, str]] = []

            def enough_held(
                kill: int = kill, held: list = held, needed: int = 2 if whole_worker else 1
            ) -> bool:
                while entry := broker.lpop(recording_backend.HELD_KEY):
                    round_, pid, held_id = entry.decode().split(" ", 2)
                    if round_ == str(kill):
                        held.append((int(pid), held_id))
                return len(held) >= needed

            wait_for(enough_held, timeout=20, worker=worker, what="sends to be held")
            # Killed in the middle of their send: the rows are claimed, the server does not have them.
            recorded_now = {m.decode() for m in broker.lrange(recording_backend.SENT_KEY, 0, -1)}
            assert not {held_id for _, held_id in held} & recorded_now
            killed_mid_send.extend(held_id for _, held_id in held)
            if whole_worker:
                worker.kill_all()  # the main process and the pool
                worker.start()
            else:
                pid, _ = held[0]
                assert pid != worker.process.pid
                os.kill(pid, signal.SIGKILL)  # one pool process
            broker.delete(recording_backend.HOLD_KEY)

        def all_sent() -> bool:
            return not Notification.objects.exclude(status=NotificationStatus.SENT).exists()

        wait_for(all_sent, timeout=45, worker=worker, what="every notification to be sent")
    finally:
        worker.kill_all()
        producer.close()

    recorded = [m.decode() for m in broker.lrange(recording_backend.SENT_KEY, 0, -1)]
    expected = [message_id(pk) for pk in ids]
    assert sorted(recorded) == sorted(expected)  # each notification reached the server exactly once
    assert len(killed_mid_send) >= KILLS
    assert set(killed_mid_send) <= set(recorded)
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}
