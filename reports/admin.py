"""The letter archive in the admin: readable, never editable or deletable (by anyone)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.html import format_html

from rebuttal.admin import ReadOnlyAdmin
from reports.models import Letter, LetterRequest


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "case",
        "kind",
        "language",
        "issued_at",
        "template_version",
        "short_hash",
        "supersedes",
    )
    list_filter = ("kind", "language")
    search_fields = ("case__reference", "sha256")
    exclude = ("pdf", "html")
    readonly_fields = ("pdf_link",)

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).defer("pdf", "html").select_related("case")

    @admin.display(description="SHA-256")
    def short_hash(self, letter: Letter) -> str:
        return letter.sha256[:16] + "…"

    @admin.display(description="PDF")
    def pdf_link(self, letter: Letter) -> str:
        return format_html(
            '<a href="/api/v1/letters/{}/pdf/">Download ({} bytes)</a>', letter.pk, letter.size
        )


@admin.register(LetterRequest)
class LetterRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "kind", "language", "status", "attempts", "requested_at")
    list_filter = ("status", "kind")
    search_fields = ("case__reference",)
