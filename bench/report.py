"""What the bench prints, and the JSON file it leaves in ``var/``."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import case_list, human_step, suggestions, transitions
from bench.case_list import ListFigures
from bench.database import BenchDatabase
from bench.human_step import StepFigures
from bench.suggestions import PoolFigures
from bench.timing import median_cpu
from bench.transitions import TransitionFigures

RESULTS_FILE = Path(settings.BASE_DIR) / "var" / "bench-results.json"


def say(line: str = "") -> None:
    print(line, flush=True)


def header(database: BenchDatabase) -> None:
    say("Rebuttal service benchmark")
    say(f"database:  {database.description}")
    say(f"           connections kept {settings.DATABASES['default']['CONN_MAX_AGE']} s (CONN_MAX_AGE)")
    say(f"software:  Python {platform.python_version()}, Django {django.get_version()}, {_server()}")
    say(f"machine:   {os.cpu_count()} CPUs")
    say()


def _server() -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL server {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def transition_line(figures: TransitionFigures) -> None:
    say(
        f"transition: ORM service {figures.orm_ms:.2f} ms, raw SQL {figures.raw_ms:.2f} ms, "
        f"ratio {figures.ratio:.2f}x"
    )
    detail = figures.as_dict()
    say(
        f"  ({transitions.TRANSITION}, CPU of {_whose()} per transition, median of "
        f"{transitions.BATCHES} batches of {transitions.BATCH_SIZE}; wall clock "
        f"{detail['orm_service_wall_ms']:.2f} ms vs {detail['raw_sql_wall_ms']:.2f} ms;"
    )
    say("   on bulk-created cases without a viewflow process: the workflow hook skips the flow)")


def human_step_line(steps: StepFigures) -> None:
    say(
        f"human step: rebuttal {steps.rebuttal_ms:.2f} ms ({steps.rebuttal_sql} SQL), bare viewflow step "
        f"{steps.bare_ms:.2f} ms ({steps.bare_sql} SQL), ratio {steps.ratio:.2f}x"
    )
    detail = steps.as_dict()
    say(
        f"  ({human_step.TRANSITION} through case_act on submitted cases with a viewflow process, "
        "completing its intake task;"
    )
    say("   floor: the one View task of a bare Start -> View -> End flow, completed the same way;")
    say(
        f"   CPU of {_whose()} per step, median of {human_step.BATCHES} batches of {human_step.BATCH_SIZE}; "
        f"wall clock {detail['rebuttal_wall_ms']:.2f} ms vs {detail['bare_viewflow_wall_ms']:.2f} ms;"
    )
    say(
        f"   SQL statements counted on {human_step.COUNTED} more steps of each, transaction control included)"
    )


def _whose() -> str:
    # On PostgreSQL the server does part of the work in its own process, which process_time() misses.
    return "this process" if connection.vendor == "sqlite" else "this process (PostgreSQL's own not counted)"


def list_line(small: ListFigures, large: ListFigures) -> None:
    say(
        f"case list: {small.cases:,} cases {small.median_ms:.2f} ms, {large.cases:,} cases "
        f"{large.median_ms:.2f} ms, ratio {list_ratio(small, large):.2f}x"
    )
    say(
        f"  (GET {case_list.URL} as an HR specialist, default page of {large.page_rows} rows, "
        f"median of {case_list.REQUESTS} requests after {case_list.WARMUP} warm-up;"
    )
    say(
        f"   HR sees {small.visible:,} and {large.visible:,} of the cases; CPU of this process per request "
        f"{median_cpu(small.samples):.2f} ms vs {median_cpu(large.samples):.2f} ms)"
    )


def list_ratio(small: ListFigures, large: ListFigures) -> float:
    return large.median_ms / small.median_ms


def suggestions_line(pools: tuple[int, PoolFigures, PoolFigures]) -> None:
    case_id, small, large = pools
    say(
        f"reviewer suggestions: {small.reviewers:,} reviewers {small.median_ms:.2f} ms, {large.reviewers:,} "
        f"reviewers {large.median_ms:.2f} ms, ratio {suggestions.ratio(small, large):.2f}x"
    )
    say(
        f"  (GET {suggestions.URL.format(id=case_id)} as an HR specialist, median of {suggestions.REQUESTS} "
        f"requests after {suggestions.WARMUP} warm-up;"
    )
    say(
        f"   {small.eligible:,} and {large.eligible:,} eligible, {small.queries} and {large.queries} queries "
        f"per request; CPU of this process per request {median_cpu(small.samples):.2f} ms vs "
        f"{median_cpu(large.samples):.2f} ms;"
    )
    say(f"   {suggestions.ms_per_extra_reviewer(small, large):.3f} ms per added reviewer)")


def summary(
    database: BenchDatabase,
    figures: TransitionFigures,
    small: ListFigures,
    large: ListFigures,
    pools: tuple[int, PoolFigures, PoolFigures],
    steps: StepFigures,
    extra: list[tuple[str, str, float]] | None = None,
) -> None:
    """The ratios of the run; ``extra`` rows (name, what, ratio) come from other modules."""
    _, small_pool, large_pool = pools
    rows = [
        ("transition", "ORM service / raw SQL, CPU, no process", figures.ratio),
        ("human step", "rebuttal / bare viewflow step, CPU per step", steps.ratio),
        ("case list", f"{large.cases:,} / {small.cases:,} cases, median latency", list_ratio(small, large)),
        (
            "suggestions",
            f"{large_pool.reviewers:,} / {small_pool.reviewers:,} reviewers, median latency",
            suggestions.ratio(small_pool, large_pool),
        ),
    ]
    rows += extra or []
    say()
    say(f"== summary ({database.vendor}) ==")
    for name, what, ratio in rows:
        say(f"{name:<12}{what:<46}{ratio:6.2f}x")


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to microseconds (figures are in milliseconds)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def write_json(
    database: BenchDatabase,
    figures: TransitionFigures,
    small: ListFigures,
    large: ListFigures,
    pools: tuple[int, PoolFigures, PoolFigures],
    steps: StepFigures,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write every figure of the run to ``var/bench-results.json``; return its path.

    ``extra`` holds other modules' sections, by name.
    """
    case_id, small_pool, large_pool = pools
    results: dict[str, Any] = {
        "run_at": timezone.now().isoformat(),
        "database": {"vendor": database.vendor, "description": database.description, "server": _server()},
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": os.cpu_count(),
        "transition": {**figures.as_dict(), "viewflow_process": False},
        "human_step": steps.as_dict(),
        "case_list": {
            "url": case_list.URL,
            "small": small.as_dict(),
            "large": large.as_dict(),
            "ratio": list_ratio(small, large),
        },
        "reviewer_suggestions": {
            "url": suggestions.URL.format(id=case_id),
            "small": small_pool.as_dict(),
            "large": large_pool.as_dict(),
            "ratio": suggestions.ratio(small_pool, large_pool),
            "ms_per_added_reviewer": suggestions.ms_per_extra_reviewer(small_pool, large_pool),
        },
        "summary": {
            "transition_ratio": figures.ratio,
            "human_step_ratio": steps.ratio,
            "human_step_sql": {"rebuttal": steps.rebuttal_sql, "bare_viewflow": steps.bare_sql},
            "case_list_ratio": list_ratio(small, large),
            "reviewer_suggestions_ratio": suggestions.ratio(small_pool, large_pool),
        },
        **(extra or {}),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(_rounded(results), indent=2) + "\n")
    return RESULTS_FILE
