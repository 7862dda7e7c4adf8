"""API representations of the reviewer pool."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rebuttal.models import Language
from rebuttal.serializers import TEXT_MAX_CHARS
from reviewers.models import Assignment, ContractStatus, RetainerContract, Reviewer


class ReviewerSerializer(serializers.ModelSerializer):
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), min_length=1, max_length=3
    )
    regions = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, default=list, max_length=20
    )
    open_case_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Reviewer
        fields = ["id", "name", "email", "languages", "regions", "affiliation", "active", "open_case_count"]
        read_only_fields = ["id", "open_case_count"]

    def validate_languages(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ContractSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3, help_text="ISO 4217 code, e.g. USD")

    class Meta:
        model = RetainerContract
        fields = [
            "id",
            "number",
            "starts_on",
            "ends_on",
            "max_concurrent_cases",
            "fee_per_review",
            "currency",
            "status",
        ]
        read_only_fields = ["id"]
        # Uniqueness is checked by the service, with its own message.
        extra_kwargs = {"number": {"validators": []}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": ["A contract cannot end before it starts."]})
        return attrs


class ExpiringContractSerializer(ContractSerializer):
    reviewer = serializers.CharField(source="reviewer.name", read_only=True)
    reviewer_id = serializers.IntegerField(read_only=True)
    open_case_count = serializers.IntegerField(read_only=True)

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "reviewer", "reviewer_id", "open_case_count"]


class ConflictSerializer(serializers.Serializer):
    requester_email = serializers.EmailField(required=False, allow_blank=True, default="")
    office = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_CHARS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["requester_email"].strip() and not attrs["office"].strip():
            raise serializers.ValidationError("Name a requester (by e-mail) or an office.")
        return attrs


class ReleaseAllSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX_CHARS)


class CheckSerializer(serializers.Serializer):
    rule = serializers.CharField()
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    reviewer = serializers.IntegerField(source="reviewer.pk")
    name = serializers.CharField(source="reviewer.name")
    eligible = serializers.BooleanField()
    open_cases = serializers.IntegerField()
    last_assigned_at = serializers.DateTimeField(source="reviewer.last_assigned_at", allow_null=True)
    contract = serializers.CharField(source="contract.number", allow_null=True, default=None)
    reasons = CheckSerializer(many=True, source="checks")


class SuggestionsSerializer(serializers.Serializer):
    ranking = serializers.CharField()
    eligible = SuggestionSerializer(many=True)
    ineligible = SuggestionSerializer(many=True)


class AssignmentSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.reference")
    case_id = serializers.IntegerField()
    reviewer = serializers.CharField(source="reviewer.name")
    contract = serializers.CharField(source="contract.number")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "case",
            "case_id",
            "reviewer",
            "contract",
            "status",
            "invited_at",
            "expected_end_on",
            "responded_at",
            "declaration_signed_at",
            "ended_at",
            "end_reason",
            "report_submitted_at",
        ]
        read_only_fields = fields


class ReportSerializer(serializers.Serializer):
    case = serializers.CharField(source="case.reference")
    submitted_at = serializers.DateTimeField(source="report_submitted_at")
    findings = serializers.CharField(source="report.findings")
    recommendation = serializers.CharField(source="report.recommendation")
    recommended_rating = serializers.CharField(source="report.recommended_rating", allow_blank=True)
    reasons = serializers.CharField(source="report.reasons")


class CertificationLineSerializer(serializers.Serializer):
    case = serializers.CharField()
    contract = serializers.CharField()
    earned_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()


class CertificationTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    reviews = serializers.IntegerField()


class CertificationSerializer(serializers.Serializer):
    reviewer_id = serializers.IntegerField()
    reviewer = serializers.CharField()
    lines = CertificationLineSerializer(many=True)
    totals = CertificationTotalSerializer(many=True)
