"""``manage.py management_report``: the periodic management report as a PDF, in English, French or Spanish.

Example: ``manage.py management_report --from 2026-03-01 --to 2026-03-31 --language fr``
writes ``management-report-2026-03-01-2026-03-31-fr.pdf`` in the current directory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from reports import management_report
from reports.figures import Scope
from reports.rendering import render_pdf


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date written YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Write the management report (figures, charts, changes since the previous period) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", required=True, help="First day of the period (YYYY-MM-DD)."
        )
        parser.add_argument("--to", dest="end", required=True, help="Last day of the period (YYYY-MM-DD).")
        parser.add_argument("--language", default="en", help="en, fr or es (default en).")
        parser.add_argument("--office", help="Only this office's cases.")
        parser.add_argument("--region", help="Only this region's cases.")
        parser.add_argument("--cycle", type=int, help="Only this appraisal cycle's cases.")
        parser.add_argument("--contract-type", help="Only cases with this contract type (e.g. fixed_term).")
        parser.add_argument("--output", help="Where to write the PDF (default: a file in this directory).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = _date(options["start"], "--from"), _date(options["end"], "--to")
        if start > end:
            raise CommandError(f"--from ({start}) is after --to ({end}).")
        language = options["language"]
        languages = dict(settings.LANGUAGES)
        if language not in languages:
            raise CommandError(f"Unknown language {language!r}; use one of: {', '.join(languages)}.")
        scope = Scope(
            start=start,
            end=end,
            office=options["office"],
            region=options["region"],
            cycle=options["cycle"],
            contract_type=options["contract_type"],
        )
        output = Path(options["output"] or f"management-report-{start}-{end}-{language}.pdf")
        if not output.parent.is_dir():
            raise CommandError(f"The folder {str(output.parent)!r} does not exist.")
        today = timezone.localdate()

        steps = ["figures", "previous period", "charts", "rendering"]
        with tqdm(
            total=len(steps), desc="Management report", unit="step", disable=options["no_progress"]
        ) as bar:
            bar.set_postfix_str(steps[0])
            current = management_report.collect(scope=scope, today=today)
            bar.update()
            bar.set_postfix_str(steps[1])
            previous = management_report.collect(scope=management_report.previous_scope(scope), today=today)
            bar.update()
            bar.set_postfix_str(steps[2])
            report = management_report.Report(
                current=current, previous=previous, threshold=management_report.threshold()
            )
            management_report.draw_charts(report, language=language)
            bar.update()
            bar.set_postfix_str(steps[3])
            pdf = render_pdf(management_report.render_html(report, language=language))
            bar.update()
        output.write_bytes(pdf)
        self.stdout.write(f"Wrote {output} ({len(pdf):,} bytes).")
