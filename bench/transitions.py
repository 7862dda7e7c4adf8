"""(a) The cost of one case transition: the service against hand-written SQL.

The transition is ``start_screening`` on freshly submitted cases, so every
measured call is a real transition (submitted -> screening) that changes the
status, bumps the version, writes a history row and appends a hash-chained
event. The floor does the same writes with three parameterised statements on
the same database: UPDATE the case row (status, version, chain head), INSERT
the history row (copied from the case row), INSERT the event row. Both run one
transaction per transition; batches of the two alternate so that neither gets
a warmer cache or an emptier table.

The cases are bulk-created without a viewflow process, so
``workflow.process.follow_transition`` finds none and skips the flow: this
figure is the case's own cost. ``bench.human_step`` measures a step with the
process.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench import data
from bench.timing import Sample, median_cpu, median_wall, time_each
from rebuttal import services
from rebuttal.audit_chain import verify_case_chain
from rebuttal.models import CaseEvent, EventKind, Policy, RebuttalCase, Status
from rebuttal.selectors import policy_current

TRANSITION = "start_screening"
BATCHES = 7
BATCH_SIZE = 250
WARMUP = 100
CLIENT_IP = "127.0.0.1"


@dataclass
class TransitionFigures:
    """Per-transition samples of both ways, one per batch."""

    orm: list[Sample] = field(default_factory=list)
    raw: list[Sample] = field(default_factory=list)

    @property
    def orm_ms(self) -> float:
        return median_cpu(self.orm)

    @property
    def raw_ms(self) -> float:
        return median_cpu(self.raw)

    @property
    def ratio(self) -> float:
        return self.orm_ms / self.raw_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "transition": TRANSITION,
            "batches": BATCHES,
            "batch_size": BATCH_SIZE,
            "orm_service_cpu_ms": self.orm_ms,
            "raw_sql_cpu_ms": self.raw_ms,
            "ratio": self.ratio,
            "orm_service_wall_ms": median_wall(self.orm),
            "raw_sql_wall_ms": median_wall(self.raw),
            "orm_service_batches_cpu_ms": [s.cpu_ms for s in self.orm],
            "raw_sql_batches_cpu_ms": [s.cpu_ms for s in self.raw],
        }


def run(people: data.People) -> TransitionFigures:
    """Screen fresh submitted cases both ways; return the samples after checking every write."""
    per_side = WARMUP + BATCHES * BATCH_SIZE
    case_ids = data.create_cases(people, 2 * per_side, status=Status.SUBMITTED)
    orm_ids, raw_ids = case_ids[:per_side], case_ids[per_side:]
    with_service = ServiceScreening(actor=people.hr)
    with_sql = RawScreening(actor=people.hr, policy=policy_current())
    time_each(with_service, orm_ids[:WARMUP])
    time_each(with_sql, raw_ids[:WARMUP])
    figures = TransitionFigures()
    for batch in range(BATCHES):
        start = WARMUP + batch * BATCH_SIZE
        orm_batch, raw_batch = orm_ids[start : start + BATCH_SIZE], raw_ids[start : start + BATCH_SIZE]
        if batch % 2:
            figures.raw.append(time_each(with_sql, raw_batch))
            figures.orm.append(time_each(with_service, orm_batch))
        else:
            figures.orm.append(time_each(with_service, orm_batch))
            figures.raw.append(time_each(with_sql, raw_batch))
    check_screened(case_ids)
    return figures


class ServiceScreening:
    """``start_screening`` through ``rebuttal.services``, as the workflow layer calls it."""

    def __init__(self, *, actor: Any) -> None:
        self.actor = actor

    def __call__(self, case_id: int) -> None:
        services.case_start_screening(case_id=case_id, actor=self.actor, version=1, client_ip=CLIENT_IP)


class RawScreening:
    """``start_screening`` as three hand-written statements: the floor.

    It relies on what the bench knows of its fresh cases (submitted, version 1,
    no event yet), so it reads nothing; the event hash is computed exactly as the
    service does, so the chains it writes verify too.
    """

    def __init__(self, *, actor: Any, policy: Policy) -> None:
        self.actor_id = actor.pk
        self.policy = policy
        self.update_case, self.insert_history, self.insert_event = _statements()

    def __call__(self, case_id: int) -> None:
        now = timezone.now()
        event = self._event(case_id, now)
        digest = services.event_digest(prev_hash="", fields=event)
        at = connection.ops.adapt_datetimefield_value(now)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(self.update_case, [Status.SCREENING, self.policy.pk, 1, digest, case_id])
            cursor.execute(self.insert_history, [at, TRANSITION, "~", self.actor_id, case_id])
            cursor.execute(
                self.insert_event,
                [
                    case_id,
                    1,
                    at,
                    self.actor_id,
                    EventKind.TRANSITION,
                    TRANSITION,
                    Status.SUBMITTED,
                    Status.SCREENING,
                    "",
                    json.dumps(event["changes"]),
                    self.policy.version,
                    CLIENT_IP,
                    "",
                    digest,
                ],
            )

    def _event(self, case_id: int, now: dt.datetime) -> dict[str, Any]:
        """The hashed fields of the event, as ``services.event_fields`` lays them out."""
        return {
            "case": case_id,
            "seq": 1,
            "at": now.astimezone(dt.UTC).isoformat(),
            "actor": self.actor_id,
            "kind": EventKind.TRANSITION.value,
            "transition": TRANSITION,
            "from_status": Status.SUBMITTED.value,
            "to_status": Status.SCREENING.value,
            "reason": "",
            "changes": {},
            "policy_version": self.policy.version,
            "client_ip": CLIENT_IP,
        }


def _statements() -> tuple[str, str, str]:
    """The floor's SQL, with table and column names taken from the models."""
    qn = connection.ops.quote_name
    case_table = qn(RebuttalCase._meta.db_table)
    history = RebuttalCase.history.model
    copied = [qn(f.column) for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    history_columns = [*copied, *map(qn, ["history_date", "history_change_reason", "history_type"])]
    history_columns.append(qn("history_user_id"))
    event_columns = [
        "case_id",
        "seq",
        "at",
        "actor_id",
        "kind",
        "transition",
        "from_status",
        "to_status",
        "reason",
        "changes",
        "policy_version",
        "client_ip",
        "prev_hash",
        "hash",
    ]
    update_case = (
        f"UPDATE {case_table} SET {qn('status')} = %s, {qn('version')} = {qn('version')} + 1, "
        f"{qn('policy_id')} = %s, {qn('event_count')} = %s, {qn('last_event_hash')} = %s "
        f"WHERE {qn('id')} = %s"
    )
    insert_history = (
        f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(history_columns)}) "
        f"SELECT {', '.join(copied)}, %s, %s, %s, %s FROM {case_table} WHERE {qn('id')} = %s"
    )
    insert_event = (
        f"INSERT INTO {qn(CaseEvent._meta.db_table)} ({', '.join(map(qn, event_columns))}) "
        f"VALUES ({', '.join(['%s'] * len(event_columns))})"
    )
    return update_case, insert_history, insert_event


def check_screened(case_ids: list[int]) -> None:
    """Every measured call was a real transition: status, version, history row, valid chain."""
    expected = len(case_ids)
    screened = RebuttalCase.objects.filter(
        pk__in=case_ids, status=Status.SCREENING, version=2, event_count=1
    ).count()
    events = CaseEvent.objects.filter(case_id__in=case_ids, transition=TRANSITION).count()
    history = RebuttalCase.history.filter(id__in=case_ids, history_change_reason=TRANSITION).count()
    if (screened, events, history) != (expected, expected, expected):
        raise RuntimeError(
            f"expected {expected} screened cases, events and history rows; "
            f"found {screened}, {events} and {history}"
        )
    problems = [
        problem
        for case in RebuttalCase.objects.filter(pk__in=case_ids)
        for problem in verify_case_chain(case)
    ]
    if problems:
        raise RuntimeError(f"{len(problems)} audit chain problems, e.g. {problems[0]}")
