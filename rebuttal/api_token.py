"""The token sign-in view (apart from ``api_auth``, which DRF's settings import while its views load)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from rebuttal.api_auth import AuthTokenSerializer


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


@extend_schema_view(
    post=extend_schema(
        summary="Sign in for a token",
        request=AuthTokenSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(TokenErrorSerializer, description="Wrong or missing username or password."),
        },
    )
)
class TokenLoginView(ObtainAuthToken):
    """DRF's token sign-in, with the project's parsers (a body nested too deeply is a 400 here too)
    and bounded fields; its refusals are documented."""

    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    serializer_class = AuthTokenSerializer
