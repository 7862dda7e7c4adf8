"""(e) Outcome letters: the service against bare WeasyPrint, and rendering on 2 worker processes against 1.

The letters are the outcome letters of cases driven to ``decided`` through the
services (``tests.factories.advance``, as the tests do), in each of the three
languages, with their letter requests held back so that they stay pending.

Per letter: ``reports.services.letter_render`` (reads the case, renders the
template in the case's language, renders the PDF/A with the process's shared
``FontConfiguration`` and parsed stylesheet) against the floor, WeasyPrint
rendering the very same HTML with the same stylesheet file and options and
nothing cached: a fresh ``FontConfiguration`` and a freshly parsed stylesheet per
letter, as a naive implementation would. The floor passes its font
configuration to the stylesheet and the document because without one WeasyPrint
drops the stylesheet's ``@font-face`` rules and sets the letter in a system
font: a different, cheaper document. Batches of the two alternate.

Throughput: 200 outcome letters through ``letter_render`` on a pool of 1, then
2, forked worker processes, each of which opens its own database connection
and builds its renderer once, as a Celery prefork child does; runs of the two
pools alternate and each figure is the median run.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import weasyprint
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections
from pypdf import PdfReader
from weasyprint.text.fonts import FontConfiguration

from bench import data, report
from bench.timing import Sample, median_cpu, median_wall, time_each
from rebuttal import permissions
from rebuttal.models import Language, Status
from reports import rendering, services
from reports.models import LetterKind, LetterRequest, RequestStatus
from tests.factories import advance, make_case
from workflow.letters import letters_held

# Cases per language (en, fr, es); their letters are rendered over and over.
CASES_PER_LANGUAGE = 2
BATCHES = 7
# Each batch renders every case's letter this many times, each way.
ROUNDS_PER_BATCH = 2
WARMUP_ROUNDS = 1
LETTERS = 200
PROCESSES = (1, 2)
RUNS = 3
TARGET_RATIO = 1.15
TARGET_SPEEDUP = 1.8


@dataclass
class LetterFigures:
    """Per-letter samples of the service and of bare WeasyPrint, one per batch."""

    letters: int
    service: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)
    pdf_bytes: int = 0
    fonts: tuple[str, ...] = ()

    @property
    def service_ms(self) -> float:
        return median_wall(self.service)

    @property
    def bare_ms(self) -> float:
        return median_wall(self.bare)

    @property
    def ratio(self) -> float:
        return self.service_ms / self.bare_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": LetterKind.OUTCOME.value,
            "cases": self.letters,
            "batches": BATCHES,
            "batch_size": self.letters * ROUNDS_PER_BATCH,
            "service_wall_ms": self.service_ms,
            "bare_weasyprint_wall_ms": self.bare_ms,
            "ratio": self.ratio,
            "target_ratio": TARGET_RATIO,
            "service_cpu_ms": median_cpu(self.service),
            "bare_weasyprint_cpu_ms": median_cpu(self.bare),
            "service_batches_wall_ms": [s.wall_ms for s in self.service],
            "bare_weasyprint_batches_wall_ms": [s.wall_ms for s in self.bare],
            "median_pdf_bytes": self.pdf_bytes,
            "fonts": list(self.fonts),
        }


@dataclass
class ThroughputFigures:
    """Seconds per run of ``LETTERS`` letters, for each pool size."""

    runs: dict[int, list[float]] = field(default_factory=dict)
    # The machine's 1-minute load average before and after: other work on it takes cores from the pool.
    load: tuple[float, float] = (0.0, 0.0)

    def letters_per_second(self, processes: int) -> float:
        return LETTERS / statistics.median(self.runs[processes])

    @property
    def speedup(self) -> float:
        return self.letters_per_second(2) / self.letters_per_second(1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "letters": LETTERS,
            "runs": RUNS,
            "path": "reports.services.letter_render in each worker (own DB connection, own renderer)",
            "letters_per_second": {str(n): self.letters_per_second(n) for n in self.runs},
            "run_seconds": {str(n): seconds for n, seconds in self.runs.items()},
            "speedup": self.speedup,
            "target_speedup": TARGET_SPEEDUP,
            "load_average_before_after": list(self.load),
        }


def run(people: data.People) -> tuple[LetterFigures, ThroughputFigures]:
    """Decide cases through the services, then measure their outcome letters both ways."""
    requests = decided_outcome_requests(people)
    return service_against_bare(requests), throughput(requests)


def decided_outcome_requests(people: data.People) -> list[LetterRequest]:
    """The pending outcome letter requests of cases decided through the services, in every language."""
    user_model = get_user_model()
    hr = user_model.objects.get(pk=people.hr.pk)
    reviewer = user_model.objects.get(pk=people.reviewer_ids[0])
    endorser = _member("bench-endorser", permissions.ENDORSER)
    decision_maker = _member("bench-decision-maker", permissions.DECISION_MAKER)
    requesters = list(user_model.objects.filter(pk__in=people.requester_ids[: CASES_PER_LANGUAGE * 3]))
    case_ids = []
    # Held, the letters the transitions ask for stay pending: nothing is rendered while deciding.
    with letters_held():
        for n, requester in enumerate(requesters):
            language = Language.values[n % len(Language.values)]
            case = make_case(requester, language=language, statement=data.SENTENCE * 6)
            case = advance(
                case,
                to=Status.DECIDED,
                requester=requester,
                hr=hr,
                reviewer=reviewer,
                endorser=endorser,
                decision_maker=decision_maker,
            )
            case_ids.append(case.pk)
    requests = list(
        LetterRequest.objects.filter(
            case_id__in=case_ids, kind=LetterKind.OUTCOME, status=RequestStatus.PENDING
        ).order_by("case_id")
    )
    if len(requests) != len(case_ids):
        raise RuntimeError(f"expected {len(case_ids)} pending outcome letters; found {len(requests)}")
    return requests


def _member(username: str, group: str) -> Any:
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.org")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def service_against_bare(requests: list[LetterRequest]) -> LetterFigures:
    """Render each request's letter through the service and its HTML with bare WeasyPrint, in turns."""
    htmls = [services.letter_render(request).html for request in requests]
    check_same_document(requests[0], htmls[0])
    figures = LetterFigures(letters=len(requests))
    time_each(render_with_service, requests * WARMUP_ROUNDS)
    time_each(render_bare, htmls * WARMUP_ROUNDS)
    for batch in range(BATCHES):
        if batch % 2:
            figures.bare.append(time_each(render_bare, htmls * ROUNDS_PER_BATCH))
            figures.service.append(time_each(render_with_service, requests * ROUNDS_PER_BATCH))
        else:
            figures.service.append(time_each(render_with_service, requests * ROUNDS_PER_BATCH))
            figures.bare.append(time_each(render_bare, htmls * ROUNDS_PER_BATCH))
    figures.pdf_bytes = round(statistics.median(len(render_bare(html)) for html in htmls))
    figures.fonts = pdf_fonts(services.letter_render(requests[0]).pdf)
    return figures


def render_with_service(request: LetterRequest) -> bytes:
    """The letter as the letter task renders it: ``letter_render``, from the database to the PDF/A."""
    return services.letter_render(request).pdf


def render_bare(html: str) -> bytes:
    """The floor: the same HTML to PDF/A with the same stylesheet file and options, nothing cached."""
    font_config = FontConfiguration()
    stylesheet = weasyprint.CSS(filename=str(rendering.STYLESHEET), font_config=font_config)
    document = weasyprint.HTML(string=html, base_url=rendering.BASE_URL)
    return document.write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_variant=rendering.PDF_VARIANT
    )


def pdf_fonts(pdf: bytes) -> tuple[str, ...]:
    """The fonts a PDF's pages use, without their subset prefixes."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return tuple(sorted(names))


def check_same_document(request: LetterRequest, html: str) -> None:
    """Both ways make the same letter: same fonts embedded, sizes within a few percent."""
    service_pdf, bare_pdf = render_with_service(request), render_bare(html)
    service_fonts, bare_fonts = pdf_fonts(service_pdf), pdf_fonts(bare_pdf)
    if not service_fonts or service_fonts != bare_fonts:
        raise RuntimeError(f"the service embeds {service_fonts}, bare WeasyPrint {bare_fonts}")
    if abs(len(service_pdf) - len(bare_pdf)) > 0.05 * len(service_pdf):
        raise RuntimeError(f"the service's PDF has {len(service_pdf)} bytes, bare's {len(bare_pdf)}")


def throughput(requests: list[LetterRequest]) -> ThroughputFigures:
    """Render ``LETTERS`` letters on each pool size; runs of the pools alternate."""
    request_ids = [requests[n % len(requests)].pk for n in range(LETTERS)]
    # A forked child must not use (nor close) a connection it shares with its parent: on
    # PostgreSQL closing it would end the parent's session. The parent closes its own first,
    # so every worker opens a connection of its own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    pools = {n: context.Pool(n, initializer=_start_worker, initargs=(request_ids[0],)) for n in PROCESSES}
    for n, pool in pools.items():
        _wait_until_started(pool, n)
    figures = ThroughputFigures(runs={n: [] for n in PROCESSES})
    load_before = os.getloadavg()[0]
    try:
        for run_number in range(RUNS):
            order = PROCESSES if run_number % 2 == 0 else PROCESSES[::-1]
            for n in order:
                started = time.perf_counter()
                sizes = pools[n].map(_render_in_worker, request_ids, chunksize=1)
                figures.runs[n].append(time.perf_counter() - started)
                if len(sizes) != LETTERS or min(sizes) == 0:
                    raise RuntimeError(f"{n} processes rendered {len(sizes)} letters; one was empty")
    finally:
        for pool in pools.values():
            pool.close()
            pool.join()
    figures.load = (load_before, os.getloadavg()[0])
    return figures


def _wait_until_started(pool: Any, processes: int) -> None:
    """Return once every worker has run a task, hence finished its initializer (its warm-up included)."""
    seen: set[int] = set()
    while len(seen) < processes:
        seen.update(pool.map(_worker_pid, range(4 * processes), chunksize=1))


def _worker_pid(_: int) -> int:
    # Long enough that an idle worker takes the next task rather than one worker taking them all.
    time.sleep(0.02)
    return os.getpid()


def _start_worker(warmup_request_id: int) -> None:
    """A worker process starts as a Celery prefork child: own connection, own renderer, one letter."""
    connections.close_all()
    # The fork copied the parent's renderer (fonts, stylesheet): build this process's own.
    rendering.reset_renderer()
    rendering.renderer()
    _render_in_worker(warmup_request_id)


def _render_in_worker(request_id: int) -> int:
    """One letter through the service, in a worker; the size of its PDF."""
    pdf = services.letter_render(LetterRequest.objects.get(pk=request_id)).pdf
    if not pdf.startswith(b"%PDF-"):
        raise RuntimeError(f"letter request {request_id} rendered no PDF")
    return len(pdf)


def letters_line(figures: LetterFigures) -> None:
    service_cpu, bare_cpu = median_cpu(figures.service), median_cpu(figures.bare)
    report.say(
        f"outcome letter: service {figures.service_ms:.1f} ms, bare WeasyPrint {figures.bare_ms:.1f} ms, "
        f"ratio {figures.ratio:.2f}x (goal at most {TARGET_RATIO:.2f}x)"
    )
    report.say(
        f"  (reports.services.letter_render of {figures.letters} decided cases' outcome letters in "
        f"{len(Language.values)} languages: the case read"
    )
    report.say("   from the database, its template, the PDF/A with the process's shared fonts and sheet;")
    report.say(
        "   floor: WeasyPrint on the same HTML, same stylesheet file and options, with a fresh "
        "FontConfiguration"
    )
    report.say(
        f"   and stylesheet per letter; wall clock per letter, median of {BATCHES} batches of "
        f"{figures.letters * ROUNDS_PER_BATCH};"
    )
    report.say(
        f"   CPU of this process {service_cpu:.1f} ms vs {bare_cpu:.1f} ms; "
        f"PDFs of {figures.pdf_bytes / 1024:.0f} KiB embedding {', '.join(figures.fonts)})"
    )


def throughput_line(figures: ThroughputFigures) -> None:
    report.say(
        f"letter throughput: 1 process {figures.letters_per_second(1):.1f} letters/s, 2 processes "
        f"{figures.letters_per_second(2):.1f} letters/s, speedup {figures.speedup:.2f}x "
        f"(goal at least {TARGET_SPEEDUP:.1f}x)"
    )
    seconds = "; ".join(f"{n}: {', '.join(f'{s:.2f}' for s in runs)} s" for n, runs in figures.runs.items())
    report.say(
        f"  ({LETTERS} outcome letters through letter_render on a forked pool of worker processes, each with "
        "its own"
    )
    report.say(
        f"   database connection and renderer, warmed by one letter; median of {RUNS} alternating runs per "
        "pool size"
    )
    report.say(
        f"   ({seconds}); {os.cpu_count()} CPUs, load average {figures.load[0]:.2f} before, "
        f"{figures.load[1]:.2f} after)"
    )
