"""``manage.py report_tally``: check the reports' running totals against the cases, merge or rebuild them.

``--check`` (the default) compares ``reports.Tally`` with what the cases, stage
visits, durations, failed rules and screening events add up to, prints the first
differences and exits with status 1 if there are any. ``--rebuild`` replaces the
totals with those worked out from the cases: after data was written outside the
services (an import, a repair in the database) or after ``TIME_ZONE`` changed
(the totals count local days). ``--compact`` merges the rows transitions appended
(the scheduler's pass does it every few minutes).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import tally


class Command(BaseCommand):
    help = "Check the reports' running totals against the cases (--check), merge (--compact) or rebuild them."

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="Compare them with the cases (default).")
        action.add_argument("--rebuild", action="store_true", help="Work them out again from the cases.")
        action.add_argument("--compact", action="store_true", help="Merge each fact's rows into one.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["compact"]:
            removed = tally.compact()
            self.stdout.write(f"Merged the running totals: {removed:,} rows fewer.")
            return
        if options["rebuild"]:
            rows = tally.rebuild()
            self.stdout.write(f"Rebuilt the running totals from the cases: {rows:,} rows.")
            return
        differences = tally.differences()
        if differences:
            for line in differences:
                self.stderr.write(line)
            raise CommandError(
                "The running totals differ from the cases (first differences above); "
                "`manage.py report_tally --rebuild` works them out again."
            )
        self.stdout.write("The running totals match the cases.")
