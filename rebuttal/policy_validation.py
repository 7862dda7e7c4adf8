"""Validation of a policy version an HR administrator publishes.

Every problem is reported against its field name, and nothing is stored unless
the whole version is valid.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from rebuttal.clocks import BUSINESS, CALENDAR, STAGE_OF_STATUS
from rebuttal.models import ContractType

_INT_FIELDS = {
    # field: (minimum, maximum)
    "filing_window_days": (1, 3650),
    "fixed_term_min_months": (0, 600),
    "case_target_days": (1, 3650),
    "invitation_expiry_days": (1, 365),
    "supervisor_comment_days": (1, 365),
    "management_evaluation_days": (1, 3650),
    "small_count_threshold": (1, 1000),
    "max_document_mb": (1, 100),
    "max_case_documents_mb": (1, 1000),
    # The upper bound keeps a letter that quotes the statement quick to render.
    "statement_max_chars": (500, 50_000),
}
FIELDS = (
    "rating_scale",
    "rebuttable_ratings",
    "eligible_contract_types",
    "stage_targets",
    "reminder_thresholds",
    *_INT_FIELDS,
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_policy_values(values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ValidationError({"non_field_errors": ["A policy is an object of named values."]})
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        if name not in values:
            errors[name] = ["This field is required."]
    for name, (low, high) in _INT_FIELDS.items():
        value = values.get(name)
        if name in values and not (_is_int(value) and low <= value <= high):
            errors[name] = [f"A whole number from {low} to {high}."]

    scale = values.get("rating_scale")
    keys: list[str] = []
    if "rating_scale" in values:
        if not (
            isinstance(scale, list)
            and 2 <= len(scale) <= 10
            and all(
                isinstance(item, dict)
                and isinstance(item.get("key"), str)
                and 0 < len(item["key"]) <= 40
                and isinstance(item.get("label"), str)
                and 0 < len(item["label"]) <= 120
                for item in scale
            )
        ):
            errors["rating_scale"] = ['A list of 2 to 10 ratings, highest first, each {"key", "label"}.']
        else:
            keys = [item["key"] for item in scale]
            if len(set(keys)) != len(keys):
                errors["rating_scale"] = ["Each rating key must be unique."]

    rebuttable = values.get("rebuttable_ratings")
    if (
        "rebuttable_ratings" in values
        and keys
        and not (isinstance(rebuttable, list) and rebuttable and all(key in keys for key in rebuttable))
    ):
        errors["rebuttable_ratings"] = ["A non-empty list of keys from the rating scale."]

    contract_types = values.get("eligible_contract_types")
    if "eligible_contract_types" in values and not (
        isinstance(contract_types, list) and all(kind in ContractType.values for kind in contract_types)
    ):
        errors["eligible_contract_types"] = [
            "A list of contract types among: " + ", ".join(ContractType.values) + "."
        ]

    targets = values.get("stage_targets")
    stages = sorted(set(STAGE_OF_STATUS.values()))
    if "stage_targets" in values:
        if not isinstance(targets, dict) or set(targets) != set(stages):
            errors["stage_targets"] = ["Give a target for each stage: " + ", ".join(stages) + "."]
        else:
            for stage, target in targets.items():
                if not (
                    isinstance(target, dict)
                    and _is_int(target.get("days"))
                    and 1 <= target["days"] <= 365
                    and target.get("unit") in (CALENDAR, BUSINESS)
                ):
                    errors["stage_targets"] = [
                        f'\'{stage}\' needs {{"days": 1-365, "unit": "calendar" or "business"}}.'
                    ]
                    break

    thresholds = values.get("reminder_thresholds")
    if "reminder_thresholds" in values and not (
        isinstance(thresholds, list)
        and all(_is_int(t) and 1 <= t <= 99 for t in thresholds)
        and thresholds == sorted(set(thresholds))
    ):
        errors["reminder_thresholds"] = ["Percentages from 1 to 99, ascending, without repeats."]

    per_file, per_case = values.get("max_document_mb"), values.get("max_case_documents_mb")
    if (
        _is_int(per_file)
        and _is_int(per_case)
        and per_case < per_file
        and "max_case_documents_mb" not in errors
    ):
        errors["max_case_documents_mb"] = ["At least the largest single file (max_document_mb)."]

    unknown = set(values) - set(FIELDS) - {"version", "note", "created_at", "created_by"}
    if unknown:
        errors["non_field_errors"] = ["Unknown policy values: " + ", ".join(sorted(unknown)) + "."]
    if errors:
        raise ValidationError(errors)
    return {name: values[name] for name in FIELDS}
