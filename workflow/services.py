"""The one entry point for every action on a case.

The API's transition endpoint, the pages' forms and (from the workflow issue
on) the viewflow tasks call ``case_act``; it calls the service that performs the
transition. Later it also completes the matching viewflow task and schedules
letters and notifications on commit, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from rebuttal import services as case_services
from rebuttal.models import RebuttalCase

# Transition name -> the service that performs it. Each service takes
# ``case_id``, ``actor``, ``version`` and ``client_ip`` plus its own fields.
ACTIONS: dict[str, Callable[..., RebuttalCase]] = {
    "submit": case_services.case_submit,
    "start_screening": case_services.case_start_screening,
    "accept_receivable": case_services.case_accept_receivable,
    "reject_not_receivable": case_services.case_reject_not_receivable,
    "withdraw": case_services.case_withdraw,
    "invite_reviewer": case_services.case_invite_reviewer,
    "reviewer_accept": case_services.case_reviewer_accept,
    "reviewer_decline": case_services.case_reviewer_decline,
    "invitation_expire": case_services.case_invitation_expire,
    "release_reviewer": case_services.case_release_reviewer,
    "submit_recommendation": case_services.case_submit_recommendation,
    "forward_for_endorsement": case_services.case_forward_for_endorsement,
    "return_to_reviewer": case_services.case_return_to_reviewer,
    "endorse": case_services.case_endorse,
    "decide": case_services.case_decide,
    "issue_outcome": case_services.case_issue_outcome,
}


@transaction.atomic
def case_act(
    *,
    case_id: int,
    name: str,
    actor: Any,
    version: int | None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> RebuttalCase:
    """Perform transition ``name`` on a case, with the transition's own fields in ``data``."""
    service = ACTIONS[name]
    return service(case_id=case_id, actor=actor, version=version, client_ip=client_ip, **(data or {}))
