"""The main navigation, by the roles of the person signed in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from rebuttal import permissions
from rebuttal.models import SupervisorInvitation


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    groups = permissions.group_names(user)
    items: list[tuple[str, str]] = []
    if user.is_superuser or groups & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}:
        items += [
            (reverse("queue"), _("Case queue")),
            (reverse("reviewer-pool"), _("Reviewer pool")),
            (reverse("contracts"), _("Contracts")),
            (reverse("fees"), _("Fees")),
            (reverse("reports-dashboard"), _("Reports")),
        ]
    if permissions.REVIEWER in groups:
        items.append((reverse("assignments"), _("My assignments")))
    if groups & {permissions.ENDORSER, permissions.DECISION_MAKER}:
        items.append((reverse("inbox"), _("My inbox")))
    # Only reporting officers who were invited to comment see the link.
    if SupervisorInvitation.objects.filter(officer=user).exists():
        items.append((reverse("invitations"), _("Invitations to comment")))
    items.append((reverse("my-cases"), _("My cases")))
    if not items[:-1]:
        # Someone who only files requests: filing is one click away.
        items.append((reverse("case-new"), _("File a rebuttal")))
    path = request.path
    return {"nav_items": [{"url": url, "label": label, "current": path == url} for url, label in items]}
