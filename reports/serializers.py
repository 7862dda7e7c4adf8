"""API shapes of the letter archive."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rebuttal.models import Language


class LetterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    issued_at = serializers.DateTimeField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    template_version = serializers.CharField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    superseded_by = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    def get_superseded_by(self, letter: Any) -> int | None:
        # Annotated by ``reports.selectors.letters_of_case``.
        return getattr(letter, "superseded_by_id", None)

    def get_pdf_url(self, letter: Any) -> str:
        return f"/api/v1/letters/{letter.pk}/pdf/"


class LetterRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    language = serializers.CharField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    reason = serializers.CharField()


class LetterCorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
