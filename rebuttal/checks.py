"""System checks that fail loudly on a bad configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Any]:
    if settings.SECRET_KEY.startswith("insecure-embedded-default"):
        return [
            Warning(
                "SECRET_KEY is the embedded default.",
                hint="Set the SECRET_KEY environment variable in production.",
                id="rebuttal.W001",
            )
        ]
    return []


@register(Tags.database)
def check_history_revert_disabled(app_configs: Any, **kwargs: Any) -> list[Any]:
    if not getattr(settings, "SIMPLE_HISTORY_REVERT_DISABLED", False):
        return [
            Error(
                "SIMPLE_HISTORY_REVERT_DISABLED must be True: history is evidence.",
                id="rebuttal.E001",
            )
        ]
    return []
