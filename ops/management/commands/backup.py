"""``manage.py backup --output PATH``: back up the database, the documents and a manifest.

``--verify PATH`` checks an existing backup (every checksum, the manifest, a
readable dump) without restoring it. See ``ops/backup.py`` for the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backup


class Command(BaseCommand):
    help = "Back up the database and the uploaded documents to a new directory, or verify a backup."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--output", type=Path, help="The new directory to write (must not exist).")
        target.add_argument("--verify", type=Path, metavar="PATH", help="Verify this backup; change nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            try:
                manifest = backup.backup_verify(options["verify"])
            except backup.BackupError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"{options['verify']}: intact. {backup.summary(manifest)}."))
            return
        try:
            result = backup.backup_create(output=options["output"], progress=not options["no_progress"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written to {result.path.resolve()}")
        self.stdout.write(backup.summary(result.manifest))
        for problem in result.document_problems:
            self.stderr.write(f"PROBLEM  {problem}")
        if result.document_problems:
            raise CommandError(
                f"The backup was written, but {len(result.document_problems)} document file(s) were "
                "missing or altered in the media directory before the backup."
            )
