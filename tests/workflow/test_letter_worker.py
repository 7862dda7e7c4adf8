"""One outcome letter per case: from a task run twice, two at once, a worker killed mid-render.

A decided case's outcome ``LetterRequest`` is written by ``decide``; ``issue_letter``
renders it outside any transaction and, in one transaction, stores the letter
and closes the case (``issue_outcome``). Whatever runs it, however often, and
whatever moment a worker dies at, each case ends with one outcome letter whose
hash matches its bytes, one ``letter_issued`` event and one ``issue_outcome``
transition.

The last test runs a real Celery worker on Redis (``tests/workflow/test_celery_worker.py``
shows the set-up) whose renders are slowed and can be held
(``tests/workflow/letter_worker_support.py``), and SIGKILLs it five times while
a render is held: alternately the pool process rendering (its task is given
back to the broker at once) and the whole worker (Redis gives the unacknowledged
tasks back after the visibility timeout; a new worker is started). The 2 s
visibility timeout also hands a held task to the other pool process now and
then, so the same letter is often rendered twice at once. Every letter is
issued through the broker's redelivery alone; then the scheduler's sweep
(``retry_pending``) finds nothing pending, and a second task for every letter
renders nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from rebuttal.models import CaseEvent, EventKind, RebuttalCase, Status
from reports import services as letter_services
from reports.models import Letter, LetterKind, LetterRequest, RequestStatus
from tests.factories import UserFactory, advance, make_case
from tests.workflow import letter_worker_support as support
from tests.workflow.test_celery_worker import REDIS_URL, ROOT, Worker, wait_for
from workflow import letters
from workflow.tasks import issue_letter

CASES = 12
KILLS = 5
# Each render takes this much longer (as a long letter would), so that the queue is not
# drained between two kills; a dozen letters on two processes still take seconds.
RENDER_DELAY = "0.3"


def decided_case(requester: Any, people: dict[str, Any]) -> RebuttalCase:
    """A case decided through the services; letters the transitions ask for stay pending."""
    with letters.letters_held():
        case = advance(make_case(requester), to="decided", requester=requester, **people)
    assert case.status == Status.DECIDED
    return case


def outcome_request(case: RebuttalCase) -> LetterRequest:
    return LetterRequest.objects.get(case=case, kind=LetterKind.OUTCOME, supersedes__isnull=True)


def assert_issued_once(case: RebuttalCase) -> Letter:
    """One outcome letter, intact; the case closed by exactly one transition; one timeline entry."""
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    (letter,) = Letter.objects.filter(case=case, kind=LetterKind.OUTCOME)
    assert letter.hash_matches()
    assert letter.size == len(bytes(letter.pdf)) > 0
    request = outcome_request(case)
    assert letter.request_id == request.pk
    assert request.status == RequestStatus.ISSUED
    events = CaseEvent.objects.filter(case=case)
    closing = events.filter(kind=EventKind.TRANSITION, transition="issue_outcome")
    assert closing.count() == 1
    assert closing.get().to_status == Status.CLOSED
    issued = events.filter(kind=EventKind.LETTER_ISSUED, changes__letter_kind=LetterKind.OUTCOME)
    assert issued.count() == 1
    assert issued.get().changes["letter"] == letter.pk
    assert issued.get().changes["sha256"] == letter.sha256
    return letter


@pytest.fixture
def people(hr, reviewer, endorser, decision_maker) -> dict[str, Any]:
    return {"hr": hr, "reviewer": reviewer, "endorser": endorser, "decision_maker": decision_maker}


@pytest.mark.django_db
def test_issuing_twice_by_hand_and_by_task_issues_one_letter_and_closes_the_case_once(requester, people):
    case = decided_case(requester, people)
    request = outcome_request(case)
    assert request.status == RequestStatus.PENDING
    assert not Letter.objects.filter(case=case, kind=LetterKind.OUTCOME).exists()
    # A second run that rendered before the first one stored, as an overlapping redelivery would.
    late_render = letter_services.letter_render(request)

    first = letters.letter_issue(request.pk)
    second = letters.letter_issue(request.pk)
    by_task = issue_letter.run(request.pk)
    by_task_again = issue_letter.apply(args=[request.pk]).get()
    stored_late, created = letter_services.letter_store(request_id=request.pk, rendered=late_render)
    again_by_outcome = letters.outcome_issue(case.pk)

    assert first is not None
    assert second == first
    assert by_task == by_task_again == first.pk
    assert (stored_late, created) == (first, False)
    assert again_by_outcome == first
    letter = assert_issued_once(case)
    assert letter == first
    request.refresh_from_db()
    assert (request.attempts, request.last_error) == (1, "")


@pytest.mark.django_db
def test_a_failing_render_leaves_the_case_decided_until_hr_retries(requester, people, monkeypatch):
    case = decided_case(requester, people)
    request = outcome_request(case)

    def broken(request: LetterRequest, **kwargs: Any) -> None:
        raise RuntimeError("the renderer ran out of memory")

    monkeypatch.setattr(letter_services, "letter_render", broken)
    assert issue_letter.run(request.pk) is None

    request.refresh_from_db()
    case.refresh_from_db()
    assert not Letter.objects.filter(request=request).exists()
    assert case.status == Status.DECIDED
    assert (request.status, request.attempts) == (RequestStatus.PENDING, 1)
    assert "the renderer ran out of memory" in request.last_error
    assert not case.events.filter(kind=EventKind.LETTER_ISSUED, changes__letter_kind="outcome").exists()

    for _ in range(letter_services.MAX_ATTEMPTS - 1):
        assert issue_letter.run(request.pk) is None
    request.refresh_from_db()
    assert (request.status, request.attempts) == (RequestStatus.FAILED, letter_services.MAX_ATTEMPTS)
    # A failed request waits for HR: neither the task nor the scheduler renders it again.
    monkeypatch.undo()
    assert issue_letter.run(request.pk) is None
    assert letters.retry_pending(now=timezone.now() + dt.timedelta(days=1)) == 1  # the acknowledgement only
    request.refresh_from_db()
    case.refresh_from_db()
    assert request.status == RequestStatus.FAILED
    assert case.status == Status.DECIDED
    assert not Letter.objects.filter(request=request).exists()

    retried = letter_services.letter_retry(request_id=request.pk, actor=people["hr"])
    assert (retried.status, retried.attempts) == (RequestStatus.PENDING, 0)
    letter_id = issue_letter.run(request.pk)

    letter = assert_issued_once(case)
    assert letter_id == letter.pk
    request.refresh_from_db()
    assert (request.attempts, request.last_error) == (1, "")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_issuing_the_same_letter_at_once_store_one(requester, people, monkeypatch):
    case = decided_case(requester, people)
    request = outcome_request(case)
    # Both threads finish rendering before either stores: they race for the store itself.
    rendered_both = threading.Barrier(2, timeout=20)
    render = letter_services.letter_render

    def render_then_meet(request: LetterRequest, **kwargs: Any) -> letter_services.Rendered:
        rendered = render(request, **kwargs)
        rendered_both.wait()
        return rendered

    monkeypatch.setattr(letter_services, "letter_render", render_then_meet)
    results: list[Letter | None] = []
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            results.append(letters.letter_issue(request.pk))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert len(results) == 2
    letter = assert_issued_once(case)
    assert results == [letter, letter]


def pending_outcome_ids() -> set[int]:
    return set(
        LetterRequest.objects.filter(kind=LetterKind.OUTCOME, status=RequestStatus.PENDING).values_list(
            "pk", flat=True
        )
    )


def parent_pid(pid: int) -> int:
    """The parent of a running process (Linux ``/proc``): a pool process's is the worker's main process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


class LetterWorker(Worker):
    """A worker of the test's app (``letter_worker_support``): renders reported, slowed and holdable."""

    def __init__(self, log: Path) -> None:
        super().__init__(log)
        self.env.update(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                support.REDIS_URL_ENV: REDIS_URL,
                support.DELAY_ENV: RENDER_DELAY,
            }
        )

    def start(self) -> None:
        celery = Path(sys.executable).parent / "celery"
        command = [str(celery), "-A", support.__name__, "worker", "--pool=prefork", "--concurrency=2"]
        command += ["--without-mingle", "--without-gossip", "--loglevel=WARNING"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """Redis database 14 (as in ``test_celery_worker``), emptied; unreachable Redis skips, or fails in CI."""
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_five_times_issues_every_outcome_letter_once(
    broker, requester, people, tmp_path, monkeypatch
):
    # One requester each: a reviewer may not review two cases of one requester.
    cases = [decided_case(requester if i == 0 else UserFactory(), people) for i in range(CASES)]
    # The acknowledgements are issued here: the worker has only the outcome letters to do.
    for request in LetterRequest.objects.filter(kind=LetterKind.ACKNOWLEDGEMENT):
        assert letters.letter_issue(request.pk) is not None
    ids = sorted(pending_outcome_ids())
    assert len(ids) == CASES
    assert not LetterRequest.objects.exclude(pk__in=ids).filter(status=RequestStatus.PENDING).exists()

    producer = Celery("producer", broker=REDIS_URL)
    worker = LetterWorker(tmp_path / "worker.log")
    issued_count = lambda: LetterRequest.objects.filter(pk__in=ids, status=RequestStatus.ISSUED).count()  # noqa: E731
    killed_mid_render: list[tuple[int, int]] = []  # (pid, request id) of each render killed
    started = time.monotonic()
    try:
        for pk in ids:
            producer.send_task("workflow.tasks.issue_letter", args=[pk])
        worker.start()
        issued_before = 0
        for kill in range(1, KILLS + 1):
            wait_for(
                lambda before=issued_before: issued_count() > before,
                timeout=30,
                worker=worker,
                what="letters to be issued again",
            )
            broker.set(support.HOLD_KEY, kill)
            # Killing the whole worker waits until both pool processes hold a render.
            whole_worker = kill % 2 == 0
            held: list[tuple[int, int]] = []

            def enough_held(
                kill: int = kill, held: list = held, needed: int = 2 if whole_worker else 1
            ) -> bool:
                while entry := broker.lpop(support.HELD_KEY):
                    round_, pid, request_id = entry.decode().split(" ")
                    if round_ == str(kill):
                        held.append((int(pid), int(request_id)))
                return len(held) >= needed

            wait_for(enough_held, timeout=20, worker=worker, what="renders to be held")
            # Killed in the middle of their render: rendered, nothing stored, the requests pending.
            killed = held if whole_worker else held[:1]
            killed_ids = {request_id for _, request_id in killed}
            assert killed_ids <= pending_outcome_ids()
            assert not Letter.objects.filter(request_id__in=killed_ids).exists()
            assert {parent_pid(pid) for pid, _ in killed} == {worker.process.pid}
            killed_mid_render.extend(killed)
            if whole_worker:
                worker.kill_all()  # the main process and the pool
                worker.start()
            else:
                pid, _ = killed[0]
                os.kill(pid, signal.SIGKILL)  # one pool process; another one held goes on
            broker.delete(support.HOLD_KEY)
            issued_before = issued_count()

        # Only the broker gives the killed tasks back: nothing else queues them again.
        wait_for(
            lambda: issued_count() == CASES,
            timeout=60,
            worker=worker,
            what="every outcome letter to be issued",
        )
        elapsed = time.monotonic() - started
        queue_drained = lambda: not broker.llen("celery") and not broker.hlen("unacked")  # noqa: E731
        wait_for(queue_drained, timeout=30, worker=worker, what="the queue to empty")
        renders_before_sweep = broker.llen(support.RENDERS_KEY)
        # The scheduler's sweep finds nothing left; a second task for every letter renders nothing.
        monkeypatch.setattr(
            "workflow.tasks.issue_letter",
            SimpleNamespace(delay=lambda pk: producer.send_task("workflow.tasks.issue_letter", args=[pk])),
        )
        assert letters.retry_pending(now=timezone.now() + dt.timedelta(days=1)) == 0
        for pk in ids:
            producer.send_task("workflow.tasks.issue_letter", args=[pk])
        wait_for(queue_drained, timeout=30, worker=worker, what="the second tasks to run")
        assert broker.llen(support.RENDERS_KEY) == renders_before_sweep
    finally:
        worker.kill_all()
        producer.close()

    renders = [entry.decode().split(" ") for entry in broker.lrange(support.RENDERS_KEY, 0, -1)]
    rendered_ids = [int(request_id) for _, request_id in renders]
    killed_ids = [request_id for _, request_id in killed_mid_render]
    print(
        f"{CASES} letters: {len(renders)} renders started, {len(killed_mid_render)} processes killed"
        f" mid-render ({len(set(killed_ids))} requests); all issued {elapsed:.1f} s after the first task"
    )
    # One pool process killed, then both with their main process, alternately.
    assert len(killed_mid_render) == KILLS + KILLS // 2
    # Each render killed was done again; nothing else was lost.
    assert len(renders) >= CASES + len(killed_mid_render)
    for request_id in set(killed_ids):
        assert rendered_ids.count(request_id) > killed_ids.count(request_id)
    assert set(rendered_ids) == set(ids)
    for case in cases:
        assert_issued_once(case)
    assert Letter.objects.filter(kind=LetterKind.OUTCOME).count() == CASES
    assert not LetterRequest.objects.exclude(status=RequestStatus.ISSUED).exists()
    # No attempt failed (a kill is not a failure): each request was counted once, when stored.
    assert set(LetterRequest.objects.filter(pk__in=ids).values_list("attempts", "last_error")) == {(1, "")}
