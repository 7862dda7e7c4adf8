"""The rulebook's defaults, used once to create policy version 1.

Nothing reads these at run time: code reads the policy version in force
(``selectors.policy_current``), which an HR administrator changes by publishing a
new version.
"""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY: dict[str, Any] = {
    "rating_scale": [
        {"key": "exceeds", "label": "Exceeds expectations"},
        {"key": "successfully_meets", "label": "Successfully meets expectations"},
        {"key": "partially_meets", "label": "Partially meets expectations"},
        {"key": "does_not_meet", "label": "Does not meet expectations"},
    ],
    "rebuttable_ratings": ["partially_meets", "does_not_meet"],
    "filing_window_days": 14,
    "eligible_contract_types": ["permanent", "continuing", "fixed_term", "ica"],
    "fixed_term_min_months": 12,
    "stage_targets": {
        "receivability": {"days": 5, "unit": "business"},
        "assignment": {"days": 5, "unit": "business"},
        "acceptance": {"days": 5, "unit": "calendar"},
        "review": {"days": 30, "unit": "calendar"},
        "quality_check": {"days": 5, "unit": "business"},
        "endorsement": {"days": 10, "unit": "business"},
        "decision": {"days": 10, "unit": "business"},
        "outcome": {"days": 5, "unit": "business"},
    },
    "case_target_days": 90,
    "reminder_thresholds": [50, 75],
    "invitation_expiry_days": 5,
    "supervisor_comment_days": 14,
    "management_evaluation_days": 60,
    "small_count_threshold": 5,
    "max_document_mb": 10,
    "max_case_documents_mb": 50,
    "statement_max_chars": 20_000,
}
