"""The session engine: Django's database sessions, refusing keys the database cannot hold."""

from __future__ import annotations

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    """A session cookie with a NUL character is no session (PostgreSQL failed on it with a 500)."""

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and "\x00" not in key
