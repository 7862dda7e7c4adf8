"""Admin pages for looking, never for rewriting the record.

Cases change only through services (the API and, later, the pages); audit
events, access records, history rows and policy versions are read-only here
for everyone, superusers included.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from rebuttal.models import CaseAccess, CaseEvent, Policy, RebuttalCase


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

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.is_superuser or super().has_view_permission(request, obj)


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
