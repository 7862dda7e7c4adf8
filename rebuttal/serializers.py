"""API representations of cases and policy; which fields a caller sees depends on role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rebuttal import permissions
from rebuttal.models import ContractType, DocumentKind, Language, Policy, RebuttalCase

# A statement long enough for any real case, short enough that a letter renders
# in bounded time.
STATEMENT_MAX_CHARS = 20_000
TEXT_MAX_CHARS = 5_000
# The requester's statement: the policy's ``statement_max_chars`` applies (checked by the
# service, with a message naming the limit); this is only the ceiling any policy may set.
STATEMENT_CEILING = 50_000

# Fields only the people handling a case see (never the requester).
HANDLER_FIELDS = frozenset(
    {
        "requester",
        "receivability_result",
        "override_justification",
        "reviewer_user",
        "findings",
        "recommendation",
        "recommended_rating",
        "recommendation_reasons",
        "endorsement_comment",
    }
)


# Choice-like values that stay empty until a later stage sets them.
OPTIONAL_CHOICES = ("final_rating", "recommendation", "recommended_rating", "withdrawn_from")


def _nullify_unset(data: dict[str, Any]) -> dict[str, Any]:
    """A value not given yet is null, not an empty string."""
    for name in OPTIONAL_CHOICES:
        if data.get(name) == "":
            data[name] = None
    return data


class CaseIntakeSerializer(serializers.Serializer):
    """The fields a requester fills in (create and draft edits)."""

    appraisal_cycle = serializers.IntegerField(min_value=2000, max_value=2100)
    overall_rating = serializers.CharField(max_length=40, source="original_rating")
    appraisal_signed_on = serializers.DateField()
    first_reporting_officer_email = serializers.EmailField(max_length=254)
    second_reporting_officer_email = serializers.EmailField(max_length=254)
    office = serializers.CharField(max_length=120)
    region = serializers.CharField(max_length=120)
    contract_type = serializers.ChoiceField(choices=ContractType.choices)
    appointment_months = serializers.IntegerField(min_value=1, max_value=600, required=False, allow_null=True)
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN)
    statement = serializers.CharField(
        max_length=STATEMENT_CEILING,
        allow_blank=True,
        required=False,
        default="",
        trim_whitespace=False,
    )


class CasePatchSerializer(CaseIntakeSerializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you saw.")


class CaseListSerializer(serializers.ModelSerializer):
    overall_rating = serializers.CharField(source="original_rating")
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = RebuttalCase
        fields = [
            "id",
            "reference",
            "status",
            "version",
            "appraisal_cycle",
            "overall_rating",
            "final_rating",
            "office",
            "region",
            "contract_type",
            "language",
            "created_at",
            "submitted_at",
            "stage_due_on",
            "is_overdue",
        ]
        read_only_fields = fields

    def to_representation(self, case: RebuttalCase) -> dict[str, Any]:
        return _nullify_unset(super().to_representation(case))


class CaseSerializer(serializers.ModelSerializer):
    overall_rating = serializers.CharField(source="original_rating")
    is_overdue = serializers.BooleanField(read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", allow_null=True, default=None)
    requester = serializers.CharField(source="requester.email")
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = RebuttalCase
        fields = [
            "id",
            "reference",
            "status",
            "version",
            "appraisal_cycle",
            "overall_rating",
            "appraisal_signed_on",
            "first_reporting_officer_email",
            "second_reporting_officer_email",
            "office",
            "region",
            "contract_type",
            "appointment_months",
            "language",
            "statement",
            "original_rating",
            "final_rating",
            "follows_recommendation",
            "decision_reasons",
            "decided_at",
            "not_receivable_reason",
            "withdrawal_reason",
            "created_at",
            "submitted_at",
            "closed_at",
            "stage_started_at",
            "stage_due_on",
            "is_overdue",
            "policy_version",
            "requester",
            "receivability_result",
            "override_justification",
            "reviewer_user",
            "findings",
            "recommendation",
            "recommended_rating",
            "recommendation_reasons",
            "endorsement_comment",
            "available_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, case: RebuttalCase) -> list[str]:
        user = self.context["request"].user
        return [t.name for t in case.get_available_user_status_transitions(user)]

    def to_representation(self, case: RebuttalCase) -> dict[str, Any]:
        data = super().to_representation(case)
        user = self.context["request"].user
        relations = permissions.relations(case, user)
        # The requester reads their case as a requester, whatever groups they are in.
        handler = case.requester_id != user.pk and (
            bool(relations - {"requester"})
            or user.is_superuser
            or bool(permissions.group_names(user) & {permissions.HR_SPECIALIST, permissions.HR_ADMIN})
        )
        if not handler:
            for name in HANDLER_FIELDS:
                data.pop(name, None)
        return _nullify_unset(data)


class RuleResultSerializer(serializers.Serializer):
    rule = serializers.CharField()
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    # The contract gives event times in UTC, whatever TIME_ZONE the service runs in.
    at = serializers.DateTimeField(default_timezone=dt.UTC)
    actor = serializers.CharField()
    kind = serializers.CharField()
    transition = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    changes = serializers.JSONField()
    reason = serializers.CharField()


class RatingSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=120)


class StageTargetSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=["calendar", "business"])


class PolicySerializer(serializers.ModelSerializer):
    rating_scale = RatingSerializer(many=True)
    rebuttable_ratings = serializers.ListField(child=serializers.CharField(max_length=40))
    eligible_contract_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ContractType.choices)
    )
    stage_targets = serializers.DictField(child=StageTargetSerializer())
    reminder_thresholds = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Policy
        fields = [
            "version",
            "created_at",
            "note",
            "rating_scale",
            "rebuttable_ratings",
            "filing_window_days",
            "eligible_contract_types",
            "fixed_term_min_months",
            "stage_targets",
            "case_target_days",
            "reminder_thresholds",
            "invitation_expiry_days",
            "supervisor_comment_days",
            "management_evaluation_days",
            "small_count_threshold",
            "max_document_mb",
            "max_case_documents_mb",
            "statement_max_chars",
        ]
        read_only_fields = ["version", "created_at"]
        # Every value is required when publishing, those with a model default too.
        extra_kwargs = {
            name: {"required": True}
            for name in ("max_document_mb", "max_case_documents_mb", "statement_max_chars")
        }


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField(source="display_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    def get_uploaded_by(self, document: Any) -> str:
        user = document.uploaded_by
        return user.get_full_name() or user.get_username()

    def get_download_url(self, document: Any) -> str:
        return f"/api/v1/documents/{document.pk}/download/"


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, max_length=1000)
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
