"""Payloads of the transition endpoint, one serializer per transition."""

from __future__ import annotations

from rest_framework import serializers

from rebuttal.models import Recommendation
from rebuttal.serializers import STATEMENT_MAX_CHARS, TEXT_MAX_CHARS


class TransitionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The case version you saw.")


class ReasonRequiredSerializer(TransitionSerializer):
    reason = serializers.CharField(max_length=TEXT_MAX_CHARS)


class ReasonOptionalSerializer(TransitionSerializer):
    reason = serializers.CharField(max_length=TEXT_MAX_CHARS, required=False, allow_blank=True, default="")


class AcceptReceivableSerializer(TransitionSerializer):
    override_justification = serializers.CharField(
        max_length=TEXT_MAX_CHARS,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when any receivability rule failed.",
    )


class InviteReviewerSerializer(TransitionSerializer):
    reviewer = serializers.IntegerField(min_value=1, help_text="Id of an eligible reviewer of the pool.")


class ReviewerAcceptSerializer(TransitionSerializer):
    no_conflict_declaration = serializers.BooleanField(
        help_text="Must be true: you declare that you have no conflict of interest with this case."
    )

    def validate_no_conflict_declaration(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("You must declare that you have no conflict of interest.")
        return value


class CommentOptionalSerializer(TransitionSerializer):
    comment = serializers.CharField(max_length=TEXT_MAX_CHARS, required=False, allow_blank=True, default="")


class SubmitRecommendationSerializer(TransitionSerializer):
    findings = serializers.CharField(max_length=STATEMENT_MAX_CHARS)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    recommended_rating = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="Required when `revise`."
    )
    reasons = serializers.CharField(max_length=STATEMENT_MAX_CHARS)


class DecideSerializer(TransitionSerializer):
    final_rating = serializers.CharField(max_length=40, help_text="A key of the policy's rating scale.")
    follows_recommendation = serializers.BooleanField()
    reasons = serializers.CharField(max_length=STATEMENT_MAX_CHARS)


# Every transition of the lifecycle a person performs (``invitation_expire`` and
# ``issue_outcome`` are the scheduler's and the letter task's).
API_TRANSITIONS: dict[str, type[TransitionSerializer]] = {
    "submit": TransitionSerializer,
    "start_screening": TransitionSerializer,
    "accept_receivable": AcceptReceivableSerializer,
    "reject_not_receivable": ReasonRequiredSerializer,
    "withdraw": ReasonOptionalSerializer,
    "invite_reviewer": InviteReviewerSerializer,
    "reviewer_accept": ReviewerAcceptSerializer,
    "reviewer_decline": ReasonRequiredSerializer,
    "release_reviewer": ReasonRequiredSerializer,
    "submit_recommendation": SubmitRecommendationSerializer,
    "forward_for_endorsement": CommentOptionalSerializer,
    "return_to_reviewer": ReasonRequiredSerializer,
    "endorse": CommentOptionalSerializer,
    "decide": DecideSerializer,
}
