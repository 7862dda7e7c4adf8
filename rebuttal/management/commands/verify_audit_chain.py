"""``manage.py verify_audit_chain``: recompute every case's audit hash chain.

Exits with status 1 and names each broken case and event if anything was
altered, removed or inserted behind the application's back.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rebuttal.audit_chain import verify_all_chains, verify_case_chain
from rebuttal.models import RebuttalCase


class Command(BaseCommand):
    help = "Verify the hash chain of every case's audit events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--case", help="Only this case reference (e.g. RB-2026-0042).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["case"]:
            case = RebuttalCase.objects.filter(reference=options["case"]).first()
            if case is None:
                raise CommandError(f"No case with reference {options['case']!r}.")
            results = [(case, verify_case_chain(case))]
        else:
            results = verify_all_chains()
        checked = broken = 0
        for _case, problems in results:
            checked += 1
            if problems:
                broken += 1
                for problem in problems:
                    self.stderr.write(f"BROKEN {problem}")
        if broken:
            raise CommandError(f"{broken} of {checked} case chains are broken.")
        self.stdout.write(self.style.SUCCESS(f"{checked} case chains verified, none broken."))
