"""``manage.py restore PATH --yes``: replace the database and the documents with a backup.

The backup is verified first (a damaged one is refused and nothing changes);
then the database and the media directory are replaced, and every letter's
hash, every case's audit chain and every document's checksum is recomputed.
Exits 1 if any check fails.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ops import backup


class Command(BaseCommand):
    help = "Restore the database and the uploaded documents from a backup, then verify them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The backup directory (made by manage.py backup).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"]
        try:
            # The manifest's promises first (same vendor, known migrations), then every checksum.
            backup.restore_preflight(backup.manifest_read(path))
            manifest = backup.backup_verify(path)
        except backup.BackupError as exc:
            raise CommandError(f"{exc}\nNothing was changed.") from None
        self.stdout.write(f"{path}: intact. {backup.summary(manifest)}.")
        if not options["yes"]:
            self._confirm(manifest)
        try:
            report = backup.backup_restore(path, manifest, progress=not options["no_progress"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored {path} into database {connection.settings_dict['NAME']}.")
        for ok, line in backup.report_lines(report):
            self.stdout.write(line if ok else self.style.ERROR(line))
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if not report.ok:
            failed = ", ".join(check.name for check in report.checks if not check.ok)
            raise CommandError(f"The backup was restored, but verification failed ({failed}).")
        self.stdout.write(self.style.SUCCESS("Every check passed."))

    def _confirm(self, manifest: dict[str, Any]) -> None:
        if not sys.stdin.isatty():
            raise CommandError("Refusing to restore without --yes (no terminal to ask). Nothing was changed.")
        question = (
            f"This replaces database {connection.settings_dict['NAME']} and everything under "
            f"{settings.MEDIA_ROOT} with the backup made {manifest['created_at']}. Type 'yes' to go on: "
        )
        if input(question).strip().lower() != "yes":
            raise CommandError("Restore cancelled. Nothing was changed.")
