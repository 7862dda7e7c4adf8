"""System checks for letters: the fonts they embed, and the library that keeps rendering fast."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register

from reports.rendering import ASSETS_DIR, STYLESHEET

FONTS = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSans-Italic.ttf")


def harfbuzz_subset_available() -> bool:
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


@register()
def check_letter_rendering(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    missing = [name for name in FONTS if not (ASSETS_DIR / "fonts" / name).is_file()]
    if missing or not STYLESHEET.is_file():
        problems.append(
            Error(
                f"Letter assets are missing: {', '.join(missing) or STYLESHEET.name}.",
                hint=f"Restore them under {ASSETS_DIR}; letters embed these fonts.",
                id="reports.E001",
            )
        )
    if not harfbuzz_subset_available():
        problems.append(
            Warning(
                "HarfBuzz's subsetting library (libharfbuzz-subset) is not installed: "
                "letters render about five times slower.",
                hint="On Debian or Ubuntu: apt-get install libharfbuzz-subset0",
                id="reports.W001",
            )
        )
    return problems
