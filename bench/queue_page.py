"""(f) HR's queue page: 100,000 cases against 1,000, a deep page against the first, and against a bare view.

Requests go through the whole Django stack (``django.test.Client`` signed in
with ``force_login`` as an HR specialist: session, CSP, locale, CSRF, messages,
history and axes middleware, the template) for the default page of
``/queue/``: open cases, earliest due date first, keyset-paged.

Goals (throughput ratios, higher is better): the first page at 100,000 cases
answers at least 0.9 times as fast as at 1,000 (no COUNT over the table per
request, no OFFSET); the page reached by following "Next page" 200 times, and
the very last page, cost what the first page costs; the page costs at most 10
times a bare view (``bench.urls.bare``, a tiny ``HttpResponse`` behind the same
middleware, the same signed-in session).

The counts per state are cached for 60 s by the view: they are measured warm,
the same way at both sizes (the cache is emptied, one checked request fills it,
warm-up requests follow, then the timed ones, all well within the 60 s). What a
request that recounts them costs is measured apart ("cold").

The cases are bulk-created by ``bench.data`` (a realistic mix of states; the
open ones have stage due dates spread over three years, many sharing a date so
that the id breaks ties) and deleted again afterwards, so that the benchmarks
that follow start from an empty case table as they would alone.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from bench import data, report
from bench.timing import Sample, latency_figures, median_cpu, median_wall, time_once
from bench.urls import BARE_URL
from rebuttal.models import TERMINAL_STATES, RebuttalCase, Status
from workflow.pages.work import QUEUE_PAGE_SIZE, STATE_COUNTS_TTL, _encode

URL = "/queue/"
SMALL = 1_000
LARGE = 100_000
# Cases per bulk insert round (a reference__in lookup per round must stay under SQLite's variable limit).
CHUNK = 5_000
REQUESTS = 30
WARMUP = 5
# Requests timed with the state counts recounted each time.
COLD_REQUESTS = 5
DEEP_PAGES = 200
TARGET_SCALE = 0.9
TARGET_BARE = 0.10
OPEN_STATES = frozenset(s for s in Status.values if s not in TERMINAL_STATES and s != Status.DRAFT)
REFERENCE = re.compile(r'<a href="/cases/\d+/">([^<]+)</a>')
NEXT_QUERY = re.compile(r'href="\?([^"]*\bafter=[^"]*)"')


@dataclass(frozen=True)
class PageFigures:
    """Latencies of one page, requested ``REQUESTS`` times."""

    query: str
    samples: list[Sample]

    @property
    def median_ms(self) -> float:
        return median_wall(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, **latency_figures(self.samples)}


@dataclass(frozen=True)
class SizeFigures:
    """The first page with ``cases`` cases in the database, warm and cold."""

    cases: int
    open_cases: int
    due_dates: int
    first: PageFigures
    cold: list[Sample]
    queries: int
    counts: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "open_cases_in_queue": self.open_cases,
            "distinct_due_dates": self.due_dates,
            "sql_per_request_warm": self.queries,
            "count_queries_per_request_warm": self.counts,
            "first_page": self.first.as_dict(),
            "recounting_states": latency_figures(self.cold),
        }


@dataclass(frozen=True)
class QueueFigures:
    """Both sizes; at the large one also a deep page, the last page and the bare view."""

    small: SizeFigures
    large: SizeFigures
    # The first page again, its requests alternating with the three below.
    first: PageFigures
    deep: PageFigures
    last: PageFigures
    bare: PageFigures
    walk_ms: float

    @property
    def scale_ratio(self) -> float:
        """Throughput at 100,000 cases over throughput at 1,000 (1k latency / 100k latency)."""
        return self.small.first.median_ms / self.large.first.median_ms

    @property
    def deep_ratio(self) -> float:
        """Throughput of the deep page over the first page's (first latency / deep latency)."""
        return self.first.median_ms / self.deep.median_ms

    @property
    def last_ratio(self) -> float:
        return self.first.median_ms / self.last.median_ms

    @property
    def bare_ratio(self) -> float:
        """Throughput of the queue page over the bare view's (bare latency / queue latency)."""
        return self.bare.median_ms / self.first.median_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": URL,
            "page_size": QUEUE_PAGE_SIZE,
            "state_counts": f"cached {STATE_COUNTS_TTL} s by the view; timed warm",
            "small": self.small.as_dict(),
            "large": self.large.as_dict(),
            "first_page_alongside": self.first.as_dict(),
            "deep_page": {"pages_followed": DEEP_PAGES, **self.deep.as_dict()},
            "last_page": self.last.as_dict(),
            "bare_view": {"url": BARE_URL, **self.bare.as_dict()},
            "ratios": {
                "throughput_large_over_small": self.scale_ratio,
                "first_over_deep_page": self.deep_ratio,
                "first_over_last_page": self.last_ratio,
                "queue_over_bare_view": self.bare_ratio,
            },
            "targets": {"throughput_large_over_small": TARGET_SCALE, "queue_over_bare_view": TARGET_BARE},
        }


def run(people: data.People) -> QueueFigures:
    """Measure at ``SMALL`` cases, grow the same database to ``LARGE``, measure again; then clean up."""
    first_id = _create_cases(people, SMALL)
    try:
        with override_settings(ROOT_URLCONF="bench.urls"):
            client = Client()
            client.force_login(people.hr)
            data.analyze()
            small = _measure_size(client, people, SMALL)
            _create_cases(people, LARGE - SMALL)
            data.analyze()
            large = _measure_size(client, people, LARGE)
            order = _expected_order(people)
            walk_started = time.perf_counter()
            deep_query = _walk(client, order, DEEP_PAGES)
            walk_ms = (time.perf_counter() - walk_started) * 1000
            last_query = "after=" + _encode(*order[-QUEUE_PAGE_SIZE - 1][:2])
            _check_page(_get(client, f"{URL}?{last_query}"), order[-QUEUE_PAGE_SIZE:], last=True)
            bare_response = _get(client, BARE_URL)
            if bare_response.content != b"ok":
                raise RuntimeError(f"GET {BARE_URL} answered {bare_response.content[:100]!r}")
            first, deep, last, bare = _alternate(
                client, [URL, f"{URL}?{deep_query}", f"{URL}?{last_query}", BARE_URL]
            )
    finally:
        _remove_cases(first_id)
    return QueueFigures(
        small=small, large=large, first=first, deep=deep, last=last, bare=bare, walk_ms=walk_ms
    )


def _create_cases(people: data.People, count: int) -> int:
    """Bulk-create ``count`` cases in rounds of ``CHUNK``; the first new id."""
    first_id = None
    for done in range(0, count, CHUNK):
        ids = data.create_cases(people, min(CHUNK, count - done))
        first_id = ids[0] if first_id is None else first_id
    assert first_id is not None
    return first_id


def _remove_cases(first_id: int) -> None:
    """Delete the bench's cases (bulk-created, so nothing refers to them) and refresh the statistics."""
    table = connection.ops.quote_name(RebuttalCase._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id >= %s", [first_id])
        cursor.execute("VACUUM" if connection.vendor == "sqlite" else f"VACUUM ANALYZE {table}")
    data.analyze()
    cache.clear()


def _expected_order(people: data.People) -> list[tuple[dt.date | None, int, str]]:
    """The queue as HR should see it, sorted here (due date, nulls last; then id), not by the database."""
    rows = RebuttalCase.objects.filter(deleted_at__isnull=True, status__in=OPEN_STATES).exclude(
        requester_id=people.hr.pk
    )
    found = list(rows.values_list("stage_due_on", "pk", "reference"))
    return sorted(found, key=lambda row: (row[0] is None, row[0] or dt.date.min, row[1]))


def _measure_size(client: Client, people: data.People, cases: int) -> SizeFigures:
    """The first page: cold (state counts recounted), then checked, warmed and timed with the cache warm."""
    order = _expected_order(people)
    cold = []
    for _ in range(COLD_REQUESTS):
        cache.clear()
        cold.append(time_once(lambda: _get(client, URL)))
    _check_page(_get(client, URL), order[:QUEUE_PAGE_SIZE])
    statements: list[str] = []
    with connection.execute_wrapper(_recorder(statements)):
        _get(client, URL)
    (first,) = _alternate(client, [URL])
    return SizeFigures(
        cases=cases,
        open_cases=len(order),
        due_dates=len({due for due, _pk, _ref in order}),
        first=first,
        cold=cold,
        queries=len(statements),
        counts=sum("COUNT(" in sql.upper() for sql in statements),
    )


def _recorder(statements: list[str]) -> Any:
    """An execute wrapper that notes every SQL statement run (Django's query log is off without DEBUG)."""

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    return record


def _alternate(client: Client, urls: list[str]) -> list[PageFigures]:
    """``WARMUP`` then ``REQUESTS`` rounds, each requesting every URL once (drift hits them alike).

    The cache is emptied first and the first warm-up request fills it: every
    timed request finds the state counts cached, at every size.
    """
    cache.clear()
    warm_since = time.monotonic()
    for _ in range(WARMUP):
        for url in urls:
            _get(client, url)
    samples: list[list[Sample]] = [[] for _ in urls]
    for _ in range(REQUESTS):
        for url, series in zip(urls, samples, strict=True):
            series.append(time_once(lambda url=url: _get(client, url)))
    if time.monotonic() - warm_since >= STATE_COUNTS_TTL:
        raise RuntimeError(f"the timed requests outlasted the {STATE_COUNTS_TTL} s state-count cache")
    return [
        PageFigures(query=url.partition("?")[2], samples=series)
        for url, series in zip(urls, samples, strict=True)
    ]


def _walk(client: Client, order: list[tuple[Any, int, str]], pages: int) -> str:
    """Follow "Next page" ``pages`` times from the first page, checking each; the last query string."""
    query = ""
    for page in range(pages + 1):
        response = _get(client, f"{URL}?{query}" if query else URL)
        start = page * QUEUE_PAGE_SIZE
        _check_page(response, order[start : start + QUEUE_PAGE_SIZE])
        if page < pages:
            found = NEXT_QUERY.search(response.content.decode())
            if found is None:
                raise RuntimeError(f"page {page + 1} of the queue has no 'Next page' link")
            query = html.unescape(found.group(1))
    return query


def _check_page(response: Any, expected: list[tuple[Any, int, str]], *, last: bool = False) -> None:
    """The page lists exactly the expected cases, in order (and the last page offers no next one)."""
    body = response.content.decode()
    shown = REFERENCE.findall(body)
    wanted = [reference for _due, _pk, reference in expected]
    if shown != wanted:
        raise RuntimeError(f"the queue showed {shown[:3]}...; HR should see {wanted[:3]}...")
    if last and NEXT_QUERY.search(body):
        raise RuntimeError("the last page of the queue offers a next page")


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:200]!r}")
    return response


def queue_lines(figures: QueueFigures) -> None:
    """What the run prints about the queue page."""
    small, large = figures.small, figures.large
    report.say(
        f"queue page: {small.cases:,} cases {small.first.median_ms:.2f} ms, {large.cases:,} cases "
        f"{large.first.median_ms:.2f} ms, throughput ratio {figures.scale_ratio:.2f} "
        f"(goal >= {TARGET_SCALE:.2f})"
    )
    report.say(
        f"  (GET {URL} as an HR specialist (session login), default page of {QUEUE_PAGE_SIZE} open cases, "
        f"earliest due first; median of {REQUESTS} requests after {WARMUP} warm-up, state counts cached;"
    )
    report.say(
        f"   {small.open_cases:,} and {large.open_cases:,} open cases over {small.due_dates:,} and "
        f"{large.due_dates:,} due dates; {small.queries} and {large.queries} SQL per request, "
        f"{small.counts} and {large.counts} of them COUNTs;"
    )
    report.say(
        f"   CPU of this process per request {median_cpu(small.first.samples):.2f} ms vs "
        f"{median_cpu(large.first.samples):.2f} ms; a request that recounts the states (every "
        f"{STATE_COUNTS_TTL} s): {median_wall(small.cold):.2f} ms vs {median_wall(large.cold):.2f} ms)"
    )
    report.say(
        f"queue deep page: first {figures.first.median_ms:.2f} ms, page {DEEP_PAGES + 1} "
        f"{figures.deep.median_ms:.2f} ms (ratio {figures.deep_ratio:.2f}), last page "
        f"{figures.last.median_ms:.2f} ms (ratio {figures.last_ratio:.2f})"
    )
    report.say(
        f"  ({large.cases:,} cases; page {DEEP_PAGES + 1} reached by following 'Next page' "
        f"{DEEP_PAGES} times, each page checked, {figures.walk_ms / (DEEP_PAGES + 1):.2f} ms a page on the "
        "way;"
    )
    report.say(
        f"   the last page through an after= token made from the {QUEUE_PAGE_SIZE + 1}th case from the end;"
        " requests of the first, deep and last pages and the bare view alternate)"
    )
    report.say(
        f"queue vs bare view: bare {figures.bare.median_ms:.2f} ms, queue {figures.first.median_ms:.2f} ms, "
        f"throughput ratio {figures.bare_ratio:.2f} (goal >= {TARGET_BARE:.2f})"
    )
    report.say(
        f"  (GET {BARE_URL}: a tiny HttpResponse behind the same middleware and signed-in session, "
        "the floor: what any page costs at least)"
    )


def summary_rows(figures: QueueFigures) -> list[tuple[str, str, float]]:
    """The queue's rows of the summary (throughput ratios: higher is better)."""
    return [
        (
            "queue",
            f"{LARGE // 1000}k / {SMALL // 1000}k cases, throughput (goal >= {TARGET_SCALE})",
            figures.scale_ratio,
        ),
        ("queue deep", f"page {DEEP_PAGES + 1} / first page, throughput", figures.deep_ratio),
        ("queue bare", f"queue / bare view, throughput (goal >= {TARGET_BARE})", figures.bare_ratio),
    ]
