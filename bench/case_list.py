"""(b) The case list API as an HR specialist: its latency with 100 cases and with 10,000.

Requests go through the whole Django stack (``django.test.Client``: middleware,
token authentication, visibility, filters, pagination with its count,
serialisation) for the default page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from bench import data
from bench.timing import Sample, latency_figures, median_wall, time_once
from rebuttal.api_pagination import CasePagination
from rebuttal.models import RebuttalCase, Status

URL = "/api/v1/cases/"
PAGE_SIZE = CasePagination.page_size
REQUESTS = 30
WARMUP = 5
SMALL = 100
LARGE = 10_000


@dataclass(frozen=True)
class ListFigures:
    """Latencies of ``REQUESTS`` list requests against one database size."""

    cases: int
    visible: int
    page_rows: int
    samples: list[Sample]

    @property
    def median_ms(self) -> float:
        return median_wall(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "visible_to_hr": self.visible,
            "rows_on_page": self.page_rows,
            **latency_figures(self.samples),
        }


def run(people: data.People) -> tuple[ListFigures, ListFigures]:
    """Measure with ``SMALL`` cases, grow the same database to ``LARGE``, measure again."""
    client = Client(headers={"authorization": f"Token {people.hr_token}"})
    data.create_cases(people, SMALL)
    data.analyze()
    small = measure(client, cases=SMALL)
    data.create_cases(people, LARGE - SMALL)
    data.analyze()
    large = measure(client, cases=LARGE)
    return small, large


def measure(client: Client, *, cases: int) -> ListFigures:
    """Median latency of the default page after a warm-up; the first answer is checked."""
    rows = _request(client).json()["results"]
    visible = _check_newest_first(rows)
    for _ in range(WARMUP - 1):
        _request(client)
    samples = [time_once(lambda: _request(client)) for _ in range(REQUESTS)]
    return ListFigures(cases=cases, visible=visible, page_rows=len(rows), samples=samples)


def _check_newest_first(rows: list[dict[str, Any]]) -> int:
    """The page holds the newest filed cases, a full page of them; returns how many HR sees."""
    filed = RebuttalCase.objects.filter(deleted_at__isnull=True).exclude(status=Status.DRAFT)
    newest = list(filed.order_by("-created_at", "-id").values_list("reference", flat=True)[:PAGE_SIZE])
    shown = [row["reference"] for row in rows]
    if shown != newest:
        raise RuntimeError(f"the list showed {shown[:3]}...; HR should see {newest[:3]}... first")
    return filed.count()


def _request(client: Client) -> Any:
    response = client.get(URL)
    if response.status_code != 200:
        raise RuntimeError(f"GET {URL} answered {response.status_code}: {response.content[:200]!r}")
    return response
