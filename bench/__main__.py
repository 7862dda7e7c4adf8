"""``python -m bench``: build a throw-away database, run the benchmarks, report.

Set ``DATABASE_URL`` to run on PostgreSQL (a ``rebuttal_bench`` database is
created on that server and dropped afterwards); otherwise a temporary SQLite file
is used. The developer's own database is never opened.

``python -m bench queue letters`` runs only the benchmarks named (any of
``BENCHES``); such a partial run prints its lines and the summary rows of the
benchmarks that have some, and leaves the results file alone.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command

from bench import database as bench_database

# In the order they run. The queue page and the dashboard go first: each deletes its 100,000 cases when done.
BENCHES = ("queue", "dashboard", "list", "transitions", "human-step", "suggestions", "letters")


def main() -> int:
    selected = _selected(sys.argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database = bench_database.prepare()
    try:
        _setup_django()
        _run(database, selected)
    finally:
        database.drop()
    return 0


def _selected(names: list[str]) -> tuple[str, ...]:
    """The benchmarks named on the command line, in running order; all of them if none is named."""
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        raise SystemExit(f"bench: no benchmark named {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    return tuple(name for name in BENCHES if name in names) if names else BENCHES


def _setup_django() -> None:
    # With DEBUG on, Django keeps every query in memory: a cost production never pays.
    os.environ["DEBUG"] = "0"
    # Submitting cases notifies people: the bench sends no mail and queues no task on a broker.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.pop("CELERY_BROKER_URL", None)
    # viewflow keeps a flow only in an installed app: ``bench`` (no models) holds the bare flow.
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]
    django.setup()
    # Celery's eager mode still builds a broker connection once and warns that it has no host.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    call_command("migrate", verbosity=0)


def _run(database: bench_database.BenchDatabase, selected: tuple[str, ...]) -> None:
    # Imported after django.setup(): these modules import models.
    from bench import (
        case_list,
        dashboard,
        data,
        human_step,
        letters,
        queue_page,
        report,
        suggestions,
        transitions,
    )

    started = time.perf_counter()
    report.header(database)
    people = data.create_people()
    core: dict[str, Any] = {}
    extra_rows: list[tuple[str, str, float]] = []
    extra: dict[str, Any] = {}
    if "queue" in selected:
        report.say(
            f"measuring the HR queue page with {queue_page.SMALL:,} then {queue_page.LARGE:,} cases, "
            "a deep page and a bare view ..."
        )
        queue = queue_page.run(people)
        queue_page.queue_lines(queue)
        extra_rows += queue_page.summary_rows(queue)
        extra["queue_page"] = queue.as_dict()
    if "dashboard" in selected:
        report.say(
            f"measuring the reports dashboard with {dashboard.SMALL:,} then {dashboard.LARGE:,} cases ..."
        )
        reports_page = dashboard.run(people)
        dashboard.dashboard_lines(reports_page)
        extra_rows += dashboard.summary_rows(reports_page)
        extra["dashboard"] = reports_page.as_dict()
    if "list" in selected:
        report.say(f"measuring the case list with {case_list.SMALL:,} then {case_list.LARGE:,} cases ...")
        core["small"], core["large"] = case_list.run(people)
        report.list_line(core["small"], core["large"])
    if "transitions" in selected:
        report.say(f"measuring {transitions.TRANSITION} through the service and as raw SQL ...")
        core["figures"] = transitions.run(people)
        report.transition_line(core["figures"])
    if "human-step" in selected:
        report.say(
            f"measuring one human step ({human_step.TRANSITION}) with its viewflow task, "
            "and a bare flow's ..."
        )
        core["steps"] = human_step.run(people)
        report.human_step_line(core["steps"])
    if "suggestions" in selected:
        report.say(
            f"measuring reviewer suggestions with {suggestions.SMALL:,} then "
            f"{suggestions.LARGE:,} reviewers ..."
        )
        core["pools"] = suggestions.run(people)
        report.suggestions_line(core["pools"])
    if "letters" in selected:
        report.say("measuring outcome letters: the service against bare WeasyPrint, then 1 and 2 workers ...")
        letter_figures, throughput = letters.run(people)
        letters.letters_line(letter_figures)
        letters.throughput_line(throughput)
        extra_rows += [
            ("letter", "service / bare WeasyPrint, median latency", letter_figures.ratio),
            ("letters x2", "2 worker processes / 1, throughput", throughput.speedup),
        ]
        extra["letters"] = {"one": letter_figures.as_dict(), "throughput": throughput.as_dict()}
    if selected == BENCHES:
        report.summary(
            database, core["figures"], core["small"], core["large"], core["pools"], core["steps"], extra_rows
        )
        path = report.write_json(
            database, core["figures"], core["small"], core["large"], core["pools"], core["steps"], extra
        )
        report.say(f"results written to {path.relative_to(path.parent.parent)}")
    else:
        report.say()
        report.say(f"== summary ({database.vendor}; only {', '.join(selected)}) ==")
        for name, what, ratio in extra_rows:
            report.say(f"{name:<12}{what:<46}{ratio:6.2f}x")
        report.say("partial run: the results file was left as it was")
    report.say(f"bench took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
