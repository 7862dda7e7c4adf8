"""Admin for the reviewer pool: HR administrators manage reviewers, contracts and
conflicts here; assignments and fee lines are read-only (they change through
services only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from rebuttal.admin import ReadOnlyAdmin
from reviewers.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    Conflict,
    FeeLine,
    RetainerContract,
    Reviewer,
)


class ContractInline(admin.TabularInline):
    model = RetainerContract
    extra = 0


class ConflictInline(admin.TabularInline):
    model = Conflict
    extra = 0
    readonly_fields = ["declared_at", "declared_by"]


@admin.register(Reviewer)
class ReviewerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "email", "affiliation", "active", "languages", "regions"]
    list_filter = ["active"]
    search_fields = ["name", "email", "affiliation"]
    inlines = [ContractInline, ConflictInline]
    raw_id_fields = ["user"]


class EndingSoonFilter(admin.SimpleListFilter):
    title = "ending within 30 days with open cases"
    parameter_name = "ending_soon"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() != "yes":
            return queryset
        today = timezone.localdate()
        return (
            queryset.filter(status="active", ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=30))
            .annotate(
                open_cases=Count("assignments", filter=Q(assignments__status__in=OPEN_ASSIGNMENT_STATUSES))
            )
            .filter(open_cases__gt=0)
        )


@admin.register(RetainerContract)
class RetainerContractAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "reviewer",
        "starts_on",
        "ends_on",
        "status",
        "max_concurrent_cases",
        "fee_per_review",
        "currency",
    ]
    list_filter = [EndingSoonFilter, "status", "currency"]
    search_fields = ["number", "reviewer__name"]
    list_select_related = ["reviewer"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["case", "reviewer", "status", "invited_at", "expected_end_on", "ended_at"]
    list_filter = ["status"]
    search_fields = ["case__reference", "reviewer__name"]
    list_select_related = ["case", "reviewer"]


@admin.register(FeeLine)
class FeeLineAdmin(ReadOnlyAdmin):
    list_display = ["contract", "assignment", "amount", "currency", "earned_on"]
    list_filter = ["currency"]
    date_hierarchy = "earned_on"
    list_select_related = ["contract", "assignment"]
