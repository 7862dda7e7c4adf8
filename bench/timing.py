"""Clocks for the bench: CPU and wall time per operation, medians of batches."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    """Milliseconds spent per operation: CPU of this process, and wall clock."""

    cpu_ms: float
    wall_ms: float


def time_each(operation: Callable[[T], object], items: Sequence[T]) -> Sample:
    """Run ``operation`` once per item; the mean time per item over the whole batch."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for item in items:
        operation(item)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Sample(cpu_ms=cpu * 1000 / len(items), wall_ms=wall * 1000 / len(items))


def time_once(operation: Callable[[], object]) -> Sample:
    """One operation, timed on its own (for latencies)."""
    cpu, wall = time.process_time(), time.perf_counter()
    operation()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Sample(cpu_ms=cpu * 1000, wall_ms=wall * 1000)


def median_cpu(samples: Iterable[Sample]) -> float:
    return statistics.median(sample.cpu_ms for sample in samples)


def median_wall(samples: Iterable[Sample]) -> float:
    return statistics.median(sample.wall_ms for sample in samples)


def latency_figures(samples: Sequence[Sample]) -> dict[str, float | int]:
    """The request count and latency statistics every latency benchmark reports."""
    return {
        "requests": len(samples),
        "median_ms": median_wall(samples),
        "median_cpu_ms": median_cpu(samples),
        "min_ms": min(s.wall_ms for s in samples),
        "max_ms": max(s.wall_ms for s in samples),
    }
