"""Admin pages for looking, never for rewriting the record.

Cases change only through services (the API and, later, the pages); audit
events, access records, history rows and policy versions are read-only here
for everyone, superusers included.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from rebuttal.models import (
    CaseAccess,
    CaseEvent,
    ClockPause,
    Document,
    Holiday,
    Office,
    Policy,
    RebuttalCase,
)
from rebuttal.services import case_record_access


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(RebuttalCase)
class RebuttalCaseAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = [
        "reference",
        "status",
        "appraisal_cycle",
        "office",
        "region",
        "stage_due_on",
        "created_at",
    ]
    list_filter = ["status", "appraisal_cycle", "contract_type", "language"]
    search_fields = ["reference", "office", "region", "requester__email"]
    list_select_related = ["requester"]
    date_hierarchy = "created_at"

    def change_view(self, request: Any, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        # Opening a case in the admin is a read like any other: it is logged.
        case = RebuttalCase.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if case is not None and self.has_view_permission(request, case):
            case_record_access(
                case=case, actor=request.user, what="admin", client_ip=request.META.get("REMOTE_ADDR")
            )
        # The page title names no case (titles end up in browser history and on shared screens).
        extra_context = {**(extra_context or {}), "subtitle": None}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: Any, object_id: str, extra_context: Any = None) -> Any:
        extra_context = {**(extra_context or {}), "title": "Change history"}
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: Any, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        # SIMPLE_HISTORY_REVERT_DISABLED only hides the Revert button: the view still
        # processes a POST (today it ends in a 500 on the protected status field).
        # History is evidence; refuse the write outright.
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "seq", "at", "actor", "kind", "transition", "from_status", "to_status"]
    list_filter = ["kind", "transition"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "actor"]


@admin.register(CaseAccess)
class CaseAccessAdmin(ReadOnlyAdmin):
    list_display = ["case", "at", "actor", "what", "client_ip"]
    search_fields = ["case__reference"]
    list_select_related = ["case", "actor"]


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ["version", "created_at", "created_by", "note"]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(Office)
class OfficeAdmin(SimpleHistoryAdmin):
    """HR administrators keep each office's country (public holidays) and its own holidays."""

    list_display = ["name", "region", "country", "subdivision"]
    search_fields = ["name", "region"]
    inlines = [HolidayInline]


@admin.register(Holiday)
class HolidayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "name", "office"]
    list_filter = ["office"]
    date_hierarchy = "date"


@admin.register(ClockPause)
class ClockPauseAdmin(ReadOnlyAdmin):
    list_display = ["case", "stage", "started_at", "reason", "ended_at", "days_added"]
    list_select_related = ["case"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """Records only: the files are downloaded through the case, where each download is logged."""

    list_display = [
        "id",
        "case",
        "kind",
        "display_name",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["kind", "content_type"]
    search_fields = ["case__reference", "sha256"]
    exclude = ["file"]
