"""Authentication of API calls."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions, serializers
from rest_framework.authtoken import serializers as authtoken_serializers


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a key with a NUL character is refused before the query.

    PostgreSQL cannot hold NUL in text, so looking such a key up failed with a 500.
    """

    def authenticate_credentials(self, key: str) -> Any:
        if "\x00" in key:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)


class AuthTokenSerializer(authtoken_serializers.AuthTokenSerializer):
    """DRF's, with lengths bounded before anything is looked up or logged.

    A failed sign-in is recorded by django-axes with its username: a name longer
    than the account table allows would otherwise end in a database error.
    """

    username = serializers.CharField(label="Username", max_length=150, write_only=True)
    password = serializers.CharField(
        label="Password",
        max_length=4096,
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )
