"""``manage.py letters_issue``: issue waiting letters in bulk, with a progress bar.

Issues every pending letter request (optionally of one kind), each in its own
transaction, exactly as the Celery task does (an outcome letter also closes its
case). ``--failed`` first puts the requests that failed repeatedly back in line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from reports.models import LetterKind, LetterRequest, RequestStatus
from workflow.letters import letter_issue


class Command(BaseCommand):
    help = "Issue every pending letter (acknowledgements, outcome letters, ...), with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=LetterKind.values, help="Only letters of this kind.")
        parser.add_argument("--failed", action="store_true", help="Retry the requests that failed, too.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        requests = LetterRequest.objects.filter(status=RequestStatus.PENDING)
        if options["failed"]:
            LetterRequest.objects.filter(status=RequestStatus.FAILED).update(
                status=RequestStatus.PENDING, attempts=0
            )
        if options["kind"]:
            requests = requests.filter(kind=options["kind"])
        ids = list(requests.order_by("requested_at", "id").values_list("pk", flat=True))
        issued = failed = 0
        for request_id in tqdm(ids, desc="Issuing letters", unit="letter", disable=options["no_progress"]):
            try:
                letter = letter_issue(request_id)
            except Exception as exc:  # noqa: BLE001 - reported, and the next letter goes on
                failed += 1
                self.stderr.write(f"letter request {request_id} failed: {exc}")
                continue
            issued += letter is not None
        self.stdout.write(f"{issued} letter(s) issued, {failed} failed, of {len(ids)} waiting.")
        if failed:
            raise CommandError(f"{failed} letter(s) could not be issued; see the messages above.")
