"""Payloads of the transition endpoint, one serializer per transition."""

from __future__ import annotations

from rest_framework import serializers

from rebuttal.serializers import TEXT_MAX_CHARS


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


# The transitions the API offers now; reviewer, review and decision transitions
# join with their issues (their services exist already).
API_TRANSITIONS: dict[str, type[TransitionSerializer]] = {
    "submit": TransitionSerializer,
    "start_screening": TransitionSerializer,
    "accept_receivable": AcceptReceivableSerializer,
    "reject_not_receivable": ReasonRequiredSerializer,
    "withdraw": ReasonOptionalSerializer,
}
