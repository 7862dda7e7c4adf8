"""User accounts matched by e-mail (reviewers, reporting officers)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def account_for_email(email: str) -> Any:
    """The user with this e-mail; created without a usable password when there is none."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        user = User(username=free_username(email), email=email)
        user.set_unusable_password()
        user.save()
    return user


def free_username(email: str) -> str:
    """The e-mail as username, with a suffix when another account holds that name
    (another user may be called by this e-mail, or two long e-mails share 150 characters)."""
    User = get_user_model()
    base = candidate = email.lower()[:150]
    n = 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base[: 150 - len(str(n)) - 1]}-{n}"
    return candidate
