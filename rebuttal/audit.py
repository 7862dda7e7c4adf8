"""Append-only storage for evidence: audit events, access records, history rows.

Rows of these models can be inserted and read, never updated or deleted through
the ORM (single rows or querysets). On PostgreSQL a trigger (migration
0003) refuses the same at the database level, for anyone who goes around the ORM.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.manager import HistoricalQuerySet


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} records are append-only")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} records are append-only")


class AppendOnlyHistoricalQuerySet(HistoricalQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("history records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("history records are append-only")


class AppendOnlyModel(models.Model):
    """Abstract base: save() only inserts, delete() always refuses."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} records are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} records are append-only")
