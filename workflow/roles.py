"""The role groups and what each may do in the process (kept in step after every migrate)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from rebuttal.permissions import DECISION_MAKER, ENDORSER, HR_ADMIN, HR_SPECIALIST, REVIEWER, ROLE_GROUPS

# Group -> the process permissions its members hold (the inbox and queue need
# ``view_rebuttalprocess``; each kind of human task asks for one ``act_as_*``).
GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    HR_SPECIALIST: ("view_rebuttalprocess", "act_as_hr"),
    HR_ADMIN: ("view_rebuttalprocess",),
    REVIEWER: ("view_rebuttalprocess",),
    ENDORSER: ("view_rebuttalprocess", "act_as_endorser"),
    DECISION_MAKER: ("view_rebuttalprocess", "act_as_decision_maker"),
}


def ensure_role_groups(**kwargs: Any) -> None:
    """Create the role groups and grant their process permissions (idempotent)."""
    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="workflow", content_type__model="rebuttalprocess"
        )
    }
    for name in ROLE_GROUPS:
        group, _created = Group.objects.get_or_create(name=name)
        wanted = [permissions[c] for c in GROUP_PERMISSIONS[name] if c in permissions]
        group.permissions.add(*wanted)
