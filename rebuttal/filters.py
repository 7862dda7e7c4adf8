"""Filters of the case list (API now, the HR queue page later)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from rebuttal.models import TERMINAL_STATES, RebuttalCase, Status


class CaseFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Status.choices)
    overdue = filters.BooleanFilter(method="filter_overdue", label="Past its stage due date")
    assigned_to_me = filters.BooleanFilter(method="filter_assigned_to_me", label="Held by me as reviewer")
    office = filters.CharFilter(field_name="office", lookup_expr="iexact", max_length=120)
    region = filters.CharFilter(field_name="region", lookup_expr="iexact", max_length=120)
    cycle = filters.NumberFilter(field_name="appraisal_cycle", min_value=2000, max_value=2100)
    search = filters.CharFilter(
        method="filter_search", max_length=200, label="Reference, office, region or requester"
    )

    class Meta:
        model = RebuttalCase
        fields = ["status", "overdue", "assigned_to_me", "office", "region", "cycle", "search"]

    def filter_overdue(
        self, qs: QuerySet[RebuttalCase], name: str, value: bool | None
    ) -> QuerySet[RebuttalCase]:
        if value is None:
            return qs
        late = Q(stage_due_on__lt=timezone.localdate(), paused_at__isnull=True) & ~Q(
            status__in=TERMINAL_STATES
        )
        return qs.filter(late) if value else qs.exclude(late)

    def filter_assigned_to_me(
        self, qs: QuerySet[RebuttalCase], name: str, value: bool | None
    ) -> QuerySet[RebuttalCase]:
        if not value:
            return qs
        return qs.filter(reviewer_user_id=self.request.user.pk)

    def filter_search(self, qs: QuerySet[RebuttalCase], name: str, value: str) -> QuerySet[RebuttalCase]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(reference__icontains=value)
            | Q(office__icontains=value)
            | Q(region__icontains=value)
            | Q(requester__email__icontains=value)
            | Q(requester__last_name__icontains=value)
        )
