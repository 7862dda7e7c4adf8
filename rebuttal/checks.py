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


@register(Tags.caches, deploy=True)
def check_shared_cache_with_workers(app_configs: Any, **kwargs: Any) -> list[Any]:
    """With Celery workers in other processes, the cache must be one they share (Redis)."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CELERY_BROKER_URL and backend.endswith("LocMemCache"):
        return [
            Warning(
                "CELERY_BROKER_URL is set but the cache is each process's own memory.",
                hint=(
                    "Set CACHE_URL (e.g. redis://host:6379/1): the queue's counts and the workers' "
                    "heartbeat for /healthz must be seen by every process."
                ),
                id="rebuttal.W002",
            )
        ]
    return []
