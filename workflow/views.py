"""Pages of the workflow app: the process diagram (HR)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from rebuttal import permissions
from workflow.diagrams import flow_svg, fsm_transitions


@login_required
def diagram(request: HttpRequest) -> HttpResponse:
    """The flow graph and the table of the case's transitions, for HR."""
    groups = permissions.group_names(request.user)
    if not (request.user.is_superuser or groups & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}):
        raise PermissionDenied
    return render(request, "workflow/diagram.html", {"svg": flow_svg(), "transitions": fsm_transitions()})
