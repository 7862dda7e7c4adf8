"""``manage.py export_diagrams DIR``: write the flow graph (SVG) and the case state machine (DOT)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from workflow.diagrams import flow_svg, fsm_dot


class Command(BaseCommand):
    help = "Write docs/diagrams/flow.svg and case-states.dot (or into the folder given)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", nargs="?", default="docs/diagrams")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(options["folder"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "flow.svg").write_text(flow_svg(), encoding="utf-8")
        (folder / "case-states.dot").write_text(fsm_dot(), encoding="utf-8")
        self.stdout.write(f"Wrote {folder / 'flow.svg'} and {folder / 'case-states.dot'}.")
