"""The policy is versioned, validated, append-only data that an HR administrator publishes.

Validation names every bad field and stores nothing; a published rating scale of
any length drives intake and receivability; no version is ever changed or
removed; the API serves the version in force and lets only HR administrators
publish a new one.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from rebuttal import receivability, selectors, services
from rebuttal.audit import AppendOnlyError
from rebuttal.models import Policy, Status
from rebuttal.policy_defaults import DEFAULT_POLICY
from rebuttal.policy_validation import FIELDS, validate_policy_values
from tests.factories import advance, api_intake, intake
from workflow.services import case_act

POLICY_URL = "/api/v1/policy/"
STAGES = list(DEFAULT_POLICY["stage_targets"])


def valid_values(**changes: Any) -> dict[str, Any]:
    values = copy.deepcopy(DEFAULT_POLICY)
    values.update(changes)
    return values


def without(name: str) -> dict[str, Any]:
    values = valid_values()
    del values[name]
    return values


def targets(**changes: Any) -> dict[str, Any]:
    stage_targets = copy.deepcopy(DEFAULT_POLICY["stage_targets"])
    stage_targets.update(changes)
    return stage_targets


def scale(*keys: str) -> list[dict[str, str]]:
    return [{"key": key, "label": key.replace("_", " ").capitalize()} for key in keys]


# The default scale with its lowest key repeated (the rebuttable ratings are still on it).
DUPLICATE_KEYS = [*DEFAULT_POLICY["rating_scale"], {"key": "does_not_meet", "label": "Unsatisfactory"}]


def stored() -> list[tuple[int, str]]:
    """Every stored policy version, to show that a refused change stored nothing."""
    return list(Policy.objects.order_by("version").values_list("version", "note"))


# --- validation --------------------------------------------------------------------

BAD_VALUES = [
    # Whole numbers: not a number, a bool, a float, null, out of range.
    pytest.param("filing_window_days", "14", id="window-string"),
    pytest.param("filing_window_days", 14.0, id="window-float"),
    pytest.param("filing_window_days", True, id="window-bool"),
    pytest.param("filing_window_days", 0, id="window-zero"),
    pytest.param("filing_window_days", 3651, id="window-too-long"),
    pytest.param("fixed_term_min_months", -1, id="months-negative"),
    pytest.param("fixed_term_min_months", 601, id="months-too-many"),
    pytest.param("case_target_days", None, id="case-target-null"),
    pytest.param("invitation_expiry_days", 366, id="expiry-too-long"),
    pytest.param("supervisor_comment_days", "fourteen", id="comment-days-word"),
    pytest.param("management_evaluation_days", 0, id="me-days-zero"),
    pytest.param("small_count_threshold", False, id="small-count-bool"),
    # The rating scale.
    pytest.param("rating_scale", DUPLICATE_KEYS, id="scale-duplicate-keys"),
    pytest.param("rating_scale", scale("only"), id="scale-one-level"),
    pytest.param("rating_scale", scale(*(f"r{i}" for i in range(11))), id="scale-eleven-levels"),
    pytest.param("rating_scale", [{"key": "good"}, {"key": "bad", "label": "Bad"}], id="scale-no-label"),
    pytest.param(
        "rating_scale", [{"key": "", "label": "Good"}, {"key": "bad", "label": "Bad"}], id="empty-key"
    ),
    pytest.param("rating_scale", {"good": "Good", "bad": "Bad"}, id="scale-not-a-list"),
    pytest.param("rebuttable_ratings", ["outstanding"], id="rebuttable-not-on-scale"),
    pytest.param("rebuttable_ratings", ["does_not_meet", "poor"], id="rebuttable-partly-on-scale"),
    pytest.param("rebuttable_ratings", [], id="rebuttable-empty"),
    pytest.param("rebuttable_ratings", "does_not_meet", id="rebuttable-not-a-list"),
    pytest.param("rebuttable_ratings", [["does_not_meet"]], id="rebuttable-nested-list"),
    # Contract types.
    pytest.param("eligible_contract_types", ["permanent", "freelance"], id="contract-unknown"),
    pytest.param("eligible_contract_types", "permanent", id="contract-not-a-list"),
    pytest.param("eligible_contract_types", [{"type": "permanent"}], id="contract-object"),
    # Stage targets.
    pytest.param("stage_targets", {k: v for k, v in targets().items() if k != "review"}, id="stage-missing"),
    pytest.param("stage_targets", targets(appeal={"days": 5, "unit": "calendar"}), id="stage-unknown"),
    pytest.param("stage_targets", targets(review={"days": 30, "unit": "weeks"}), id="stage-bad-unit"),
    pytest.param("stage_targets", targets(review={"days": 30}), id="stage-no-unit"),
    pytest.param("stage_targets", targets(review={"days": 0, "unit": "calendar"}), id="stage-zero-days"),
    pytest.param("stage_targets", targets(review={"days": True, "unit": "calendar"}), id="stage-bool-days"),
    pytest.param("stage_targets", targets(review=30), id="stage-not-an-object"),
    pytest.param("stage_targets", [{"stage": "review", "days": 30}], id="stages-not-an-object"),
    # Reminder thresholds.
    pytest.param("reminder_thresholds", [75, 50], id="thresholds-unsorted"),
    pytest.param("reminder_thresholds", [50, 50], id="thresholds-repeated"),
    pytest.param("reminder_thresholds", [0, 50], id="thresholds-zero"),
    pytest.param("reminder_thresholds", [50, 100], id="thresholds-hundred"),
    pytest.param("reminder_thresholds", [50.5], id="thresholds-float"),
    pytest.param("reminder_thresholds", [True], id="thresholds-bool"),
    pytest.param("reminder_thresholds", "50,75", id="thresholds-not-a-list"),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_a_bad_policy_value_is_refused_naming_its_field_and_nothing_is_stored(hr_admin, field, value):
    before = stored()

    with pytest.raises(ValidationError) as refused:
        services.policy_publish(actor=hr_admin, values=valid_values(**{field: value}))

    assert list(refused.value.message_dict) == [field]
    assert stored() == before


@pytest.mark.parametrize("field", FIELDS)
def test_a_missing_policy_value_is_refused_naming_its_field(hr_admin, field):
    before = stored()

    with pytest.raises(ValidationError) as refused:
        services.policy_publish(actor=hr_admin, values=without(field))

    assert refused.value.message_dict == {field: ["This field is required."]}
    assert stored() == before


def test_an_unknown_policy_value_is_refused_by_name(hr_admin):
    before = stored()

    with pytest.raises(ValidationError) as refused:
        services.policy_publish(actor=hr_admin, values=valid_values(grace_days=3))

    assert list(refused.value.message_dict) == ["non_field_errors"]
    assert "grace_days" in refused.value.message_dict["non_field_errors"][0]
    assert stored() == before


def test_a_policy_that_is_not_an_object_is_refused(policy):
    with pytest.raises(ValidationError) as refused:
        validate_policy_values([DEFAULT_POLICY])

    assert "non_field_errors" in refused.value.message_dict


def test_every_bad_field_is_reported_at_once(hr_admin):
    values = valid_values(
        filing_window_days=0,
        reminder_thresholds=[75, 50],
        eligible_contract_types=["freelance"],
        rebuttable_ratings=["outstanding"],
    )
    del values["case_target_days"]

    with pytest.raises(ValidationError) as refused:
        services.policy_publish(actor=hr_admin, values=values)

    assert set(refused.value.message_dict) == {
        "filing_window_days",
        "reminder_thresholds",
        "eligible_contract_types",
        "rebuttable_ratings",
        "case_target_days",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filing_window_days", 1),
        ("filing_window_days", 3650),
        ("fixed_term_min_months", 0),
        ("reminder_thresholds", []),
        ("reminder_thresholds", [1, 99]),
        ("eligible_contract_types", []),
        ("rating_scale", scale(*(f"r{i}" for i in range(10)))),
    ],
)
def test_values_at_the_edge_of_their_range_are_accepted(hr_admin, field, value):
    values = valid_values(**{field: value})
    if field == "rating_scale":
        values["rebuttable_ratings"] = ["r9"]

    assert validate_policy_values(values)[field] == value


def test_publishing_a_valid_policy_adds_the_next_version_and_keeps_the_old_one(hr_admin, policy):
    before = Policy.objects.get(pk=policy.pk)

    published = services.policy_publish(
        actor=hr_admin, values=valid_values(filing_window_days=30), note="UNFPA practice"
    )

    assert published.version == policy.version + 1
    assert published.created_by == hr_admin
    assert published.note == "UNFPA practice"
    assert published.filing_window_days == 30
    assert selectors.policy_current() == published
    kept = Policy.objects.get(pk=policy.pk)
    assert (kept.version, kept.filing_window_days, kept.note) == (before.version, 14, before.note)


def test_the_policy_records_metadata_fields_are_tolerated_but_not_taken(hr_admin, policy):
    values = valid_values(version=99, note="ignored", created_at="2020-01-01", created_by=1)

    published = services.policy_publish(actor=hr_admin, values=values)

    assert published.version == policy.version + 1
    assert published.note == ""
    assert published.created_by == hr_admin


# --- a five-level rating scale, end to end ----------------------------------------

FIVE_LEVELS = [
    {"key": "outstanding", "label": "Outstanding"},
    {"key": "exceeds", "label": "Exceeds expectations"},
    {"key": "fully_meets", "label": "Fully meets expectations"},
    {"key": "partially_meets", "label": "Partially meets expectations"},
    {"key": "unsatisfactory", "label": "Unsatisfactory"},
]


@pytest.fixture
def five_levels(hr_admin, policy) -> Policy:
    return services.policy_publish(
        actor=hr_admin,
        values=valid_values(
            rating_scale=FIVE_LEVELS, rebuttable_ratings=["partially_meets", "unsatisfactory"]
        ),
        note="Five-level scale",
    )


def test_a_rating_off_the_default_scale_is_refused_at_intake(requester, policy):
    with pytest.raises(ValidationError) as refused:
        services.case_create(requester=requester, data=intake(original_rating="unsatisfactory"))

    assert "overall_rating" in refused.value.message_dict


def test_a_five_level_scale_accepts_its_fifth_rating_at_intake_and_screens_it_rebuttable(
    requester, hr, five_levels
):
    case = services.case_create(requester=requester, data=intake(original_rating="unsatisfactory"))
    case = advance(case, to=Status.SCREENING, requester=requester, hr=hr)
    assert case.policy == five_levels

    result = receivability.rebuttable_rating(case, five_levels)
    assert result.passed is True
    assert "Unsatisfactory" in result.detail
    case = case_act(case_id=case.pk, name="accept_receivable", actor=hr, version=case.version)

    assert case.status == Status.AWAITING_ASSIGNMENT
    assert case.override_justification == ""


@pytest.mark.parametrize(
    ("rating", "rebuttable"),
    [
        ("outstanding", False),
        ("exceeds", False),
        ("fully_meets", False),
        ("partially_meets", True),
        ("unsatisfactory", True),
    ],
)
def test_each_rating_of_a_five_level_scale_is_rebuttable_as_the_policy_says(
    requester, hr, five_levels, rating, rebuttable
):
    case = services.case_create(requester=requester, data=intake(original_rating=rating))
    case = advance(case, to=Status.SCREENING, requester=requester, hr=hr)

    results = {r.rule: r.passed for r in selectors.case_receivability(case=case)}

    assert results["rebuttable_rating"] is rebuttable


def test_a_rating_dropped_from_the_scale_is_refused_at_intake(requester, five_levels):
    with pytest.raises(ValidationError) as refused:
        services.case_create(requester=requester, data=intake(original_rating="does_not_meet"))

    assert "overall_rating" in refused.value.message_dict


def test_the_api_takes_the_fifth_rating_of_a_published_scale(requester, api_as, five_levels):
    response = api_as(requester).post(
        "/api/v1/cases/", api_intake(original_rating="unsatisfactory"), format="json"
    )

    assert response.status_code == 201, response.data
    assert response.data["overall_rating"] == "unsatisfactory"


# --- append-only -------------------------------------------------------------------


def test_a_stored_policy_cannot_be_saved_again(policy):
    policy.filing_window_days = 60

    with pytest.raises(AppendOnlyError):
        policy.save()

    assert Policy.objects.get(pk=policy.pk).filing_window_days == 14


def test_a_stored_policy_cannot_be_deleted(policy):
    with pytest.raises(AppendOnlyError):
        policy.delete()

    assert Policy.objects.filter(pk=policy.pk).exists()


def test_policies_cannot_be_updated_in_bulk(policy):
    with pytest.raises(AppendOnlyError):
        Policy.objects.filter(pk=policy.pk).update(filing_window_days=60)
    with pytest.raises(AppendOnlyError):
        Policy.objects.bulk_update([policy], ["filing_window_days"])

    assert Policy.objects.get(pk=policy.pk).filing_window_days == 14


def test_policies_cannot_be_deleted_in_bulk(policy):
    with pytest.raises(AppendOnlyError):
        Policy.objects.all().delete()

    assert Policy.objects.filter(pk=policy.pk).exists()


# --- API -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["requester", "hr", "hr_admin", "reviewer", "outsider"])
def test_any_signed_in_user_reads_the_policy_in_force(request, api_as, policy, who):
    response = api_as(request.getfixturevalue(who)).get(POLICY_URL)

    assert response.status_code == 200
    assert response.data["version"] == policy.version
    assert response.data["filing_window_days"] == 14
    assert [item["key"] for item in response.data["rating_scale"]] == policy.rating_keys
    assert set(FIELDS) <= set(response.data)


def test_anonymous_caller_gets_401_on_the_policy(api, policy):
    before = stored()

    read = api.get(POLICY_URL)
    write = api.put(POLICY_URL, valid_values(filing_window_days=30), format="json")

    assert (read.status_code, write.status_code) == (401, 401)
    assert "detail" in read.data
    assert "detail" in write.data
    assert stored() == before


def test_hr_admin_publishes_the_next_version_with_put(api_as, hr_admin, policy):
    client = api_as(hr_admin)
    payload = client.get(POLICY_URL).data
    payload["filing_window_days"] = 30
    payload["note"] = "Align with UNFPA practice"

    response = client.put(POLICY_URL, payload, format="json")

    assert response.status_code == 200, response.data
    assert response.data["version"] == policy.version + 1
    assert response.data["filing_window_days"] == 30
    assert response.data["note"] == "Align with UNFPA practice"
    assert stored() == [(policy.version, policy.note), (policy.version + 1, "Align with UNFPA practice")]
    assert Policy.objects.get(version=policy.version + 1).created_by == hr_admin
    assert client.get(POLICY_URL).data["version"] == policy.version + 1
    assert Policy.objects.get(pk=policy.pk).filing_window_days == 14


def test_hr_admin_publishes_a_five_level_scale_with_put(api_as, hr_admin, policy):
    payload = valid_values(rating_scale=FIVE_LEVELS, rebuttable_ratings=["unsatisfactory"])

    response = api_as(hr_admin).put(POLICY_URL, payload, format="json")

    assert response.status_code == 200, response.data
    assert response.data["rating_scale"] == FIVE_LEVELS
    assert selectors.policy_current().rating_keys == [item["key"] for item in FIVE_LEVELS]


@pytest.mark.parametrize("who", ["hr", "requester", "reviewer"])
def test_only_hr_admin_may_publish_a_policy(request, api_as, policy, who):
    before = stored()

    response = api_as(request.getfixturevalue(who)).put(
        POLICY_URL, valid_values(filing_window_days=30), format="json"
    )

    assert response.status_code == 403
    assert "detail" in response.data
    assert stored() == before


BAD_PAYLOADS = [
    # Refused by the API's serializer.
    pytest.param({"filing_window_days": "two weeks"}, {"filing_window_days"}, id="int-word"),
    pytest.param({"filing_window_days": True}, {"filing_window_days"}, id="int-bool"),
    pytest.param({"eligible_contract_types": ["freelance"]}, {"eligible_contract_types"}, id="contract"),
    pytest.param(
        {"stage_targets": targets(review={"days": 30, "unit": "weeks"})}, {"stage_targets"}, id="unit"
    ),
    pytest.param({"rating_scale": [{"key": "good"}, {"key": "bad"}]}, {"rating_scale"}, id="no-labels"),
    pytest.param({"reminder_thresholds": "50,75"}, {"reminder_thresholds"}, id="thresholds-string"),
    # Refused by the policy's own validation.
    pytest.param({"filing_window_days": 0}, {"filing_window_days"}, id="int-zero"),
    pytest.param({"reminder_thresholds": [75, 50]}, {"reminder_thresholds"}, id="thresholds-unsorted"),
    pytest.param({"rebuttable_ratings": ["outstanding"]}, {"rebuttable_ratings"}, id="rebuttable"),
    pytest.param({"rating_scale": DUPLICATE_KEYS}, {"rating_scale"}, id="duplicate-keys"),
    pytest.param(
        {"stage_targets": {k: v for k, v in targets().items() if k != "decision"}},
        {"stage_targets"},
        id="stage-missing",
    ),
    pytest.param(
        {"filing_window_days": 0, "reminder_thresholds": [75, 50], "rebuttable_ratings": ["x"]},
        {"filing_window_days", "reminder_thresholds", "rebuttable_ratings"},
        id="several",
    ),
]


@pytest.mark.parametrize(("changes", "fields"), BAD_PAYLOADS)
def test_a_bad_policy_payload_is_400_naming_the_fields_and_stores_nothing(
    api_as, hr_admin, policy, changes, fields
):
    before = stored()

    response = api_as(hr_admin).put(POLICY_URL, valid_values(**changes), format="json")

    assert response.status_code == 400
    assert set(response.data["errors"]) == fields
    assert all(field in response.data["detail"] for field in fields)
    assert stored() == before


def test_a_policy_payload_missing_fields_is_400_naming_them(api_as, hr_admin, policy):
    before = stored()

    response = api_as(hr_admin).put(POLICY_URL, {"filing_window_days": 30}, format="json")

    assert response.status_code == 400
    assert set(response.data["errors"]) == set(FIELDS) - {"filing_window_days"}
    assert stored() == before


def test_a_policy_payload_that_is_not_an_object_is_400(api_as, hr_admin, policy):
    before = stored()

    response = api_as(hr_admin).put(POLICY_URL, [valid_values()], format="json")

    assert response.status_code == 400
    assert "detail" in response.data
    assert "errors" in response.data
    assert stored() == before
