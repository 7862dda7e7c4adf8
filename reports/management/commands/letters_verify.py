"""``manage.py letters_verify``: check archived letters against their hash and a fresh render.

For each letter: the stored PDF must still hash to the stored SHA-256 (a
mismatch is an altered archive: exit status 1), and the letter's HTML,
re-rendered now from the case with the letter's language and date, is compared
with the HTML archived at issue. A difference with the same template version
means the case's data changed since; with another version, that the templates
or translations did.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from rebuttal.models import RebuttalCase
from reports import letters
from reports.models import Letter


class Command(BaseCommand):
    help = "Verify archived letters: stored hash, and a re-render compared with the archived HTML."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", help="Only this case's letters (its reference, e.g. RB-2026-0042).")
        parser.add_argument("--letter", type=int, help="Only this letter (its id).")
        parser.add_argument("--diff", action="store_true", help="Show the HTML differences found.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = Letter.objects.order_by("id")
        if options["case"]:
            if not RebuttalCase.objects.filter(reference=options["case"]).exists():
                raise CommandError(f"No case with the reference {options['case']!r}.")
            qs = qs.filter(case__reference=options["case"])
        if options["letter"] is not None:
            qs = qs.filter(pk=options["letter"])
            if not qs.exists():
                raise CommandError(f"No letter with the id {options['letter']}.")
        ids = list(qs.values_list("pk", flat=True))
        altered: list[str] = []
        drifted: list[str] = []
        for pk in tqdm(ids, desc="Verifying letters", unit="letter", disable=options["no_progress"]):
            letter = Letter.objects.select_related("case", "case__requester", "case__policy").get(pk=pk)
            label = f"letter {letter.pk} ({letter.kind}, {letter.language}) of {letter.case.reference}"
            if not letter.hash_matches():
                altered.append(label)
                self.stderr.write(f"ALTERED  {label}: the stored PDF no longer matches its SHA-256")
                continue
            _, html = letters.letter_html(
                letter.case, letter.kind, language=letter.language, issued_at=letter.issued_at
            )
            if html == letter.html:
                continue
            now = letters.template_version(letter.kind, letter.language)
            why = (
                "the case's data changed since"
                if now == letter.template_version
                else f"the template changed ({letter.template_version} -> {now})"
            )
            drifted.append(label)
            self.stdout.write(f"DIFFERS  {label}: a re-render differs from the archive; {why}")
            if options["diff"]:
                diff = difflib.unified_diff(
                    letter.html.splitlines(), html.splitlines(), "archived", "re-rendered", lineterm=""
                )
                self.stdout.write("\n".join(diff))
        self.stdout.write(
            f"{len(ids)} letter(s) checked: {len(ids) - len(altered)} with an intact PDF, "
            f"{len(altered)} altered; {len(drifted)} whose re-render differs from the archived HTML."
        )
        if altered:
            raise CommandError(f"{len(altered)} archived letter(s) do not match their SHA-256.")
