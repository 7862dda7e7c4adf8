"""``manage.py import_reviewers FILE.csv``: import an existing reviewer pool.

Every row is checked first; every bad row is reported with its number and
nothing is imported unless the whole file is good. Columns: see
``reviewers.importing.COLUMNS`` (languages and regions separated by ``;``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reviewers.importing import COLUMNS, import_pool

MAX_BYTES = 20 * 1024 * 1024


class Command(BaseCommand):
    help = "Import reviewers and their retainer contracts from a CSV file (all or nothing)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV with columns: " + ", ".join(COLUMNS))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
        try:
            reviewers, contracts, problems = import_pool(text=text)
        except ValidationError as exc:  # a value the row checks missed; the transaction rolled back
            raise CommandError(f"Nothing was imported: {'; '.join(exc.messages)}") from None
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            rows = len({p.row for p in problems})
            raise CommandError(f"{rows} bad row(s); nothing was imported.")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {reviewers} reviewer(s) and {contracts} contract(s).")
        )
