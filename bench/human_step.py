"""(d) One human step of the rebuttal process, viewflow's bookkeeping included, against viewflow's own.

The step is ``start_screening`` through ``workflow.services.case_act`` on cases
that were created and submitted through the services, so that
``workflow.process.follow_transition`` started their viewflow process on
submission: the measured call locks and transitions the case, writes its history
row and hash-chained event, and completes the process's open ``intake`` task
(finding the process and the task, assigning, starting, executing, and creating
the ``screening`` task). The floor is viewflow alone on the same database: a bare
Start -> View -> End flow (``bench.bareflow``) whose one task is completed the
same way. Both run one transaction per step; batches of the two alternate.

CPU per step is the median of the batches; SQL statements per step are counted
on separate steps (``CaptureQueriesContext``), so the counting costs no measured
time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow import PROCESS, STATUS

from bench import bareflow, data
from bench.timing import Sample, median_cpu, median_wall, time_each
from rebuttal import services
from rebuttal.models import RebuttalCase, Status
from workflow.flows import RebuttalFlow
from workflow.models import RebuttalProcess
from workflow.services import case_act

TRANSITION = "start_screening"
BATCHES = 7
BATCH_SIZE = 50
WARMUP = 20
COUNTED = 5
CLIENT_IP = "127.0.0.1"
# Version of a case once created (1) and submitted (2).
SUBMITTED_VERSION = 2


@dataclass
class StepFigures:
    """Per-step samples of both ways, one per batch, and SQL statements of separately counted steps."""

    rebuttal: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)
    rebuttal_queries: list[int] = field(default_factory=list)
    bare_queries: list[int] = field(default_factory=list)

    @property
    def rebuttal_ms(self) -> float:
        return median_cpu(self.rebuttal)

    @property
    def bare_ms(self) -> float:
        return median_cpu(self.bare)

    @property
    def ratio(self) -> float:
        return self.rebuttal_ms / self.bare_ms

    @property
    def rebuttal_sql(self) -> int:
        return round(statistics.median(self.rebuttal_queries))

    @property
    def bare_sql(self) -> int:
        return round(statistics.median(self.bare_queries))

    def as_dict(self) -> dict[str, Any]:
        return {
            "transition": TRANSITION,
            "batches": BATCHES,
            "batch_size": BATCH_SIZE,
            "rebuttal_cpu_ms": self.rebuttal_ms,
            "bare_viewflow_cpu_ms": self.bare_ms,
            "ratio": self.ratio,
            "rebuttal_sql_per_step": self.rebuttal_sql,
            "bare_viewflow_sql_per_step": self.bare_sql,
            "rebuttal_wall_ms": median_wall(self.rebuttal),
            "bare_viewflow_wall_ms": median_wall(self.bare),
            "rebuttal_batches_cpu_ms": [s.cpu_ms for s in self.rebuttal],
            "bare_viewflow_batches_cpu_ms": [s.cpu_ms for s in self.bare],
            "rebuttal_sql_counted": self.rebuttal_queries,
            "bare_viewflow_sql_counted": self.bare_queries,
        }


def run(people: data.People) -> StepFigures:
    """Screen submitted cases with processes, complete bare tasks; return the samples after checking."""
    per_side = WARMUP + COUNTED + BATCHES * BATCH_SIZE
    hr = get_user_model().objects.get(pk=people.hr.pk)
    case_ids = submitted_cases(people, per_side)
    process_ids = [bareflow.start_process() for _ in range(per_side)]
    rebuttal_step = RebuttalStep(actor=hr)
    bare_step = BareStep(user=hr)
    time_each(rebuttal_step, case_ids[:WARMUP])
    time_each(bare_step, process_ids[:WARMUP])
    figures = StepFigures(
        rebuttal_queries=count_queries(rebuttal_step, case_ids[WARMUP : WARMUP + COUNTED]),
        bare_queries=count_queries(bare_step, process_ids[WARMUP : WARMUP + COUNTED]),
    )
    for batch in range(BATCHES):
        start = WARMUP + COUNTED + batch * BATCH_SIZE
        case_batch, process_batch = (
            case_ids[start : start + BATCH_SIZE],
            process_ids[start : start + BATCH_SIZE],
        )
        if batch % 2:
            figures.bare.append(time_each(bare_step, process_batch))
            figures.rebuttal.append(time_each(rebuttal_step, case_batch))
        else:
            figures.rebuttal.append(time_each(rebuttal_step, case_batch))
            figures.bare.append(time_each(bare_step, process_batch))
    check_steps(case_ids, process_ids)
    return figures


def submitted_cases(people: data.People, count: int) -> list[int]:
    """``count`` cases created and submitted through the services (each starts its process); their ids."""
    requesters = list(get_user_model().objects.filter(pk__in=people.requester_ids[:count]))
    today = timezone.localdate()
    case_ids = []
    for n in range(count):
        requester = requesters[n % len(requesters)]
        case = services.case_create(requester=requester, data=_intake(today), client_ip=CLIENT_IP)
        case_act(case_id=case.pk, name="submit", actor=requester, version=case.version, client_ip=CLIENT_IP)
        case_ids.append(case.pk)
    return case_ids


def _intake(today: Any) -> dict[str, Any]:
    """A receivable request's intake fields, as a requester fills them in."""
    return {
        "appraisal_cycle": today.year,
        "original_rating": "partially_meets",
        "appraisal_signed_on": today,
        "first_reporting_officer_email": "fro@example.org",
        "second_reporting_officer_email": "sro@example.org",
        "office": "Geneva Office",
        "region": "Europe",
        "contract_type": "fixed_term",
        "appointment_months": 24,
        "language": "en",
        "statement": data.SENTENCE * 4,
    }


class RebuttalStep:
    """``start_screening`` through ``case_act``: the case's transition and its process's task."""

    def __init__(self, *, actor: Any) -> None:
        self.actor = actor

    def __call__(self, case_id: int) -> None:
        case_act(
            case_id=case_id, name=TRANSITION, actor=self.actor, version=SUBMITTED_VERSION, client_ip=CLIENT_IP
        )


class BareStep:
    """The bare flow's one task completed from code: viewflow's bookkeeping alone."""

    def __init__(self, *, user: Any) -> None:
        self.user = user

    def __call__(self, process_id: int) -> None:
        bareflow.complete_task(process_id, self.user)


def count_queries(operation: Callable[[int], object], items: list[int]) -> list[int]:
    """SQL statements each call of ``operation`` sends, one count per item."""
    counts = []
    for item in items:
        with CaptureQueriesContext(connection) as queries:
            operation(item)
        counts.append(len(queries.captured_queries))
    return counts


def check_steps(case_ids: list[int], process_ids: list[int]) -> None:
    """Every measured step was real: cases screened with their process at screening, bare flows done."""
    expected = len(case_ids)
    screened = RebuttalCase.objects.filter(
        pk__in=case_ids, status=Status.SCREENING, version=SUBMITTED_VERSION + 1
    ).count()
    tasks = RebuttalFlow.task_class.objects.filter(
        process_id__in=RebuttalProcess.objects.filter(case_id__in=case_ids).values("pk")
    )
    intake_done = tasks.filter(flow_task=RebuttalFlow.intake, status=STATUS.DONE).count()
    screening_open = tasks.filter(flow_task=RebuttalFlow.screening, status=STATUS.NEW).count()
    if (screened, intake_done, screening_open) != (expected, expected, expected):
        raise RuntimeError(
            f"expected {expected} screened cases, done intake tasks and open screening tasks; "
            f"found {screened}, {intake_done} and {screening_open}"
        )
    done = bareflow.BareFlow.process_class.objects.filter(pk__in=process_ids, status=PROCESS.DONE).count()
    if done != len(process_ids):
        raise RuntimeError(f"expected {len(process_ids)} finished bare processes; found {done}")
