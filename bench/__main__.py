"""``python -m bench``: build a throw-away database, run the benchmarks, report.

Set ``DATABASE_URL`` to run on PostgreSQL (a ``rebuttal_bench`` database is
created on that server and dropped afterwards); otherwise a temporary SQLite file
is used. The developer's own database is never opened.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import django
from django.conf import settings
from django.core.management import call_command

from bench import database as bench_database


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database = bench_database.prepare()
    try:
        _setup_django()
        _run(database)
    finally:
        database.drop()
    return 0


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


def _run(database: bench_database.BenchDatabase) -> None:
    # Imported after django.setup(): these modules import models.
    from bench import case_list, data, human_step, letters, report, suggestions, transitions

    started = time.perf_counter()
    report.header(database)
    people = data.create_people()
    report.say(f"measuring the case list with {case_list.SMALL:,} then {case_list.LARGE:,} cases ...")
    small, large = case_list.run(people)
    report.list_line(small, large)
    report.say(f"measuring {transitions.TRANSITION} through the service and as raw SQL ...")
    figures = transitions.run(people)
    report.transition_line(figures)
    report.say(
        f"measuring one human step ({human_step.TRANSITION}) with its viewflow task, and a bare flow's ..."
    )
    steps = human_step.run(people)
    report.human_step_line(steps)
    report.say(
        f"measuring reviewer suggestions with {suggestions.SMALL:,} then {suggestions.LARGE:,} reviewers ..."
    )
    pools = suggestions.run(people)
    report.suggestions_line(pools)
    report.say("measuring outcome letters: the service against bare WeasyPrint, then 1 and 2 workers ...")
    letter_figures, throughput = letters.run(people)
    letters.letters_line(letter_figures)
    letters.throughput_line(throughput)
    extra_rows = [
        ("letter", "service / bare WeasyPrint, median latency", letter_figures.ratio),
        ("letters x2", "2 worker processes / 1, throughput", throughput.speedup),
    ]
    extra = {"letters": {"one": letter_figures.as_dict(), "throughput": throughput.as_dict()}}
    report.summary(database, figures, small, large, pools, steps, extra_rows)
    path = report.write_json(database, figures, small, large, pools, steps, extra)
    report.say(f"results written to {path.relative_to(path.parent.parent)}")
    report.say(f"bench took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
