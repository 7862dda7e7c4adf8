"""Every write to a case: one business action per function, one transaction each.

A service locks the case row, checks who may act and the ``version`` the caller
saw, calls the model's transition (which only sets fields), saves, and appends
the hash-chained audit event, all in the same transaction. It knows nothing of
reviewers, letters or e-mail: those are scheduled by the layers above.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from rebuttal import clocks, permissions, receivability
from rebuttal.exceptions import ActionForbidden, CaseNotFound, StaleVersion, TransitionRefused
from rebuttal.models import (
    CaseAccess,
    CaseEvent,
    ClockPause,
    EventKind,
    Policy,
    RebuttalCase,
    Recommendation,
    ReferenceCounter,
    Status,
)
from rebuttal.selectors import policy_current

# Intake fields a requester fills in and may change while the case is a draft.
INTAKE_FIELDS = (
    "appraisal_cycle",
    "original_rating",
    "appraisal_signed_on",
    "first_reporting_officer_email",
    "second_reporting_officer_email",
    "office",
    "region",
    "contract_type",
    "appointment_months",
    "language",
    "statement",
)


# --- hooks of higher layers ----------------------------------------------------------


@dataclass(frozen=True)
class TransitionRecord:
    """The transition just recorded, left on the case as ``case.last_transition`` for the hooks:
    its name, the state it left, the state it entered and its audit event's time."""

    name: str
    source: str
    target: str
    at: dt.datetime


# Called after every transition, inside its transaction, as ``hook(case, name, actor)``
# once the case and its event are saved (``case.last_transition`` says what happened).
# The workflow app registers the one that moves the viewflow process along, so that
# whichever path performed the transition, the process and the case can never disagree. (This app may not
# import the workflow app; it offers the hook instead.)
_after_transition: list[Callable[[RebuttalCase, str, Any], None]] = []


def on_transition(hook: Callable[[RebuttalCase, str, Any], None]) -> None:
    if hook not in _after_transition:
        _after_transition.append(hook)


# --- audit chain -------------------------------------------------------------


def event_digest(*, prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the event's fields."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def event_fields(event: CaseEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers (also used by the verifier)."""
    return {
        "case": event.case_id,
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor": event.actor_id,
        "kind": event.kind,
        "transition": event.transition,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "changes": event.changes,
        "policy_version": event.policy_version,
        "client_ip": event.client_ip,
    }


# Each event, once committed, is also logged here without its free text (reason, changes,
# client IP): settings.LOGGING appends these lines to the audit file (AUDIT_LOG_FILE).
audit_log = logging.getLogger("rebuttal.audit")


@receiver(post_save, sender=CaseEvent, dispatch_uid="rebuttal.services.ship_event")
def _ship_event_on_commit(
    sender: Any, instance: CaseEvent, created: bool, raw: bool = False, **kw: Any
) -> None:
    """A signal, not a call at each save: events are append-only, so every new row is one insert."""
    if not created or raw:
        return
    fields = {
        "case": instance.case.reference,
        "case_id": instance.case_id,
        "seq": instance.seq,
        "at": instance.at.astimezone(dt.UTC).isoformat(),
        "actor": instance.actor_id,
        "kind": instance.kind,
        "transition": instance.transition,
        "from_status": instance.from_status,
        "to_status": instance.to_status,
        "policy_version": instance.policy_version,
        "prev_hash": instance.prev_hash,
        "hash": instance.hash,
    }
    what = f"{instance.kind} {instance.transition}".strip()
    transaction.on_commit(
        partial(audit_log.info, "case event %s #%s %s", fields["case"], instance.seq, what, extra=fields)
    )


def _prepare_event(case: RebuttalCase, *, actor: Any, kind: str, **fields: Any) -> CaseEvent:
    """Build the next event of ``case``'s chain and advance the chain head on the case.

    The caller holds the case row (locked) and saves both.
    """
    event = CaseEvent(
        case=case,
        seq=case.event_count + 1,
        at=timezone.now(),
        actor=actor,
        kind=kind,
        prev_hash=case.last_event_hash,
        **fields,
    )
    event.hash = event_digest(prev_hash=event.prev_hash, fields=event_fields(event))
    case.event_count = event.seq
    case.last_event_hash = event.hash
    return event


def _save_with_event(
    case: RebuttalCase, *, actor: Any, kind: str, policy: Policy, **fields: Any
) -> CaseEvent:
    """Save the case (one history row, a new version) and append its audit event.

    The caller holds the case row locked.
    """
    event = _prepare_event(case, actor=actor, kind=kind, policy_version=policy.version, **fields)
    case._history_user = actor
    case.save()
    event.save()
    return event


def case_append_event(
    *,
    case: RebuttalCase,
    actor: Any,
    kind: str,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> CaseEvent:
    """Append an event that changes no field of the case (a document added, a letter issued).

    The caller holds the case row locked (``case_lock``). Only the chain head is
    written: the version stays, so nobody's open form goes stale because a
    letter was filed in the background.
    """
    event = _prepare_event(
        case,
        actor=actor,
        kind=kind,
        policy_version=policy_current().version,
        reason=reason,
        changes=changes or {},
        client_ip=client_ip,
    )
    RebuttalCase.objects.filter(pk=case.pk).update(
        event_count=case.event_count, last_event_hash=case.last_event_hash
    )
    event.save()
    return event


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# --- reading a case ------------------------------------------------------------


def case_record_access(
    *, case: RebuttalCase, actor: Any, what: str = "case", client_ip: str | None = None
) -> None:
    """Log that ``actor`` opened ``case`` (or one of its parts)."""
    CaseAccess.objects.create(case=case, actor=actor, what=what, client_ip=client_ip)


# --- creating and editing a draft ----------------------------------------------


def _next_reference(year: int) -> str:
    """``RB-<year>-<nnnn>``: unique under concurrency (the counter row is locked by UPDATE)."""
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year, last=0)], ignore_conflicts=True)
    ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
    number = ReferenceCounter.objects.values_list("last", flat=True).get(year=year)
    return f"RB-{year}-{number:04d}"


def _validate_intake(case: RebuttalCase, policy: Policy) -> None:
    errors: dict[str, list[str]] = {}
    if case.original_rating not in policy.rating_keys:
        allowed = ", ".join(policy.rating_keys)
        errors["overall_rating"] = [f"Choose one of the rating scale: {allowed}."]
    if case.appraisal_signed_on and case.appraisal_signed_on > timezone.localdate():
        errors["appraisal_signed_on"] = ["The sign-off date cannot be in the future."]
    if len(case.statement or "") > policy.statement_max_chars:
        errors["statement"] = [
            f"The statement is {len(case.statement):,} characters long; the most accepted is "
            f"{policy.statement_max_chars:,}. Shorten it, or upload the longer text as a document."
        ]
    try:
        case.full_clean(exclude=["requester", "reference", "policy", "reviewer_user", "status"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            name = "overall_rating" if field == "original_rating" else field
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def case_create(*, requester: Any, data: dict[str, Any], client_ip: str | None = None) -> RebuttalCase:
    """A requester starts a rebuttal request; it stays a draft until submitted."""
    policy = policy_current()
    case = RebuttalCase(requester=requester, **{k: v for k, v in data.items() if k in INTAKE_FIELDS})
    _validate_intake(case, policy)
    now = timezone.now()
    case.created_at = now
    case.reference = _next_reference(timezone.localtime(now).year)
    case._history_user = requester
    try:
        case.save()
    except IntegrityError as exc:  # pragma: no cover - the counter makes this unreachable
        raise ValidationError({"reference": ["Could not allocate a reference; try again."]}) from exc
    # The first event's hash covers the case id, so it is built once the row exists;
    # the chain head is then stored without a second history row or version bump.
    event = _prepare_event(
        case,
        actor=requester,
        kind=EventKind.CREATED,
        to_status=Status.DRAFT,
        policy_version=policy.version,
        client_ip=client_ip,
    )
    event.save()
    RebuttalCase.objects.filter(pk=case.pk).update(
        event_count=case.event_count, last_event_hash=case.last_event_hash
    )
    return case


def case_lock(case_id: int) -> RebuttalCase:
    case = RebuttalCase.objects.select_for_update().filter(pk=case_id, deleted_at__isnull=True).first()
    if case is None:
        raise CaseNotFound("No such case.")
    return case


def _check_version(case: RebuttalCase, version: int | None) -> None:
    if version is not None and case.version != version:
        raise StaleVersion(
            f"The case changed since you opened it (you saw version {version}, "
            f"it is now version {case.version}). Reload it and try again."
        )


@transaction.atomic
def case_update_draft(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    data: dict[str, Any],
    client_ip: str | None = None,
) -> RebuttalCase:
    """The requester edits their draft; the event records each field's old and new value."""
    case = case_lock(case_id)
    if case.requester_id != actor.pk:
        raise ActionForbidden("Only the requester may edit this request.")
    _check_version(case, version)
    if case.status != Status.DRAFT:
        raise TransitionRefused("Only a draft can be edited; this request was already submitted.")
    changes: dict[str, list[Any]] = {}
    for field, value in data.items():
        if field not in INTAKE_FIELDS:
            continue
        old = getattr(case, field)
        if old != value:
            changes[field] = [_json_value(old), _json_value(value)]
            setattr(case, field, value)
    if not changes:
        return case
    policy = policy_current()
    _validate_intake(case, policy)
    _save_with_event(
        case, actor=actor, kind=EventKind.UPDATED, policy=policy, changes=changes, client_ip=client_ip
    )
    return case


@transaction.atomic
def case_delete_draft(
    *, case_id: int, actor: Any, version: int | None = None, client_ip: str | None = None
) -> None:
    """The requester discards a draft. The record is kept (soft delete) for the audit trail."""
    case = case_lock(case_id)
    if case.requester_id != actor.pk:
        raise ActionForbidden("Only the requester may delete this request.")
    _check_version(case, version)
    if case.status != Status.DRAFT:
        raise TransitionRefused("Only a draft can be deleted; a filed request can be withdrawn.")
    policy = policy_current()
    case.deleted_at = timezone.now()
    _save_with_event(case, actor=actor, kind=EventKind.DELETED, policy=policy, client_ip=client_ip)


# --- transitions ---------------------------------------------------------------


def case_lock_for_transition(*, case_id: int, name: str, actor: Any, version: int | None) -> RebuttalCase:
    """Lock the case and check that ``actor`` may perform ``name`` on it now.

    Refusals come in the contract's order: not a party to this action (403),
    stale version (409), not allowed in this state (409), not yours in this
    state (403). Services of higher apps call it first when they must check
    more (e.g. reviewer eligibility) under the same lock.
    """
    case = case_lock(case_id)
    if not permissions.may_attempt(case, actor, name):
        raise ActionForbidden(f"You may not {name.replace('_', ' ')} on this case.")
    _check_version(case, version)
    method = getattr(case, name)
    if not can_proceed(method):
        raise TransitionRefused(
            f"'{name}' is not allowed while the case is {case.get_status_display().lower()} ({case.status})."
        )
    if not has_transition_perm(method, actor):
        raise ActionForbidden(f"You may not {name.replace('_', ' ')} at this stage.")
    return case


def _transition(
    *,
    case_id: int,
    name: str,
    actor: Any,
    version: int | None,
    reason: str = "",
    client_ip: str | None = None,
    changes: dict[str, Any] | None = None,
    prepare: Any = None,
    args: dict[str, Any] | None = None,
) -> RebuttalCase:
    """Perform transition ``name``: lock, check actor, version and state, apply, record.

    ``args`` are the transition method's own arguments; ``prepare(case, policy)``
    may validate input against the locked case and return more of them.
    Must run inside ``transaction.atomic`` (every public service below is).
    """
    case = case_lock_for_transition(case_id=case_id, name=name, actor=actor, version=version)
    method = getattr(case, name)
    policy = policy_current()
    kwargs = dict(args or {})
    if prepare is not None:
        kwargs.update(prepare(case, policy))
    from_status = case.status
    was_paused = case.paused_at is not None
    method(policy=policy, **kwargs)
    if case.stage_started_at is not None and case.stage_due_on is None:
        # A new stage: its due date counts on the office's calendar.
        case.stage_due_on = clocks.stage_due_on(
            policy, case.status, case.stage_started_at, clocks.calendar_for(case.office, timezone.localdate())
        )
    if was_paused and case.paused_at is None:
        _end_open_pause(case, actor=actor, reason=f"The case moved on ({name}).")
    case._change_reason = name
    event = _save_with_event(
        case,
        actor=actor,
        kind=EventKind.TRANSITION,
        policy=policy,
        transition=name,
        from_status=from_status,
        to_status=case.status,
        reason=reason,
        changes=changes or {},
        client_ip=client_ip,
    )
    case.last_transition = TransitionRecord(name=name, source=from_status, target=case.status, at=event.at)
    for hook in _after_transition:
        hook(case, name, actor)
    return case


def require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    return value


@transaction.atomic
def case_submit(
    *, case_id: int, actor: Any, version: int | None, client_ip: str | None = None
) -> RebuttalCase:
    return _transition(case_id=case_id, name="submit", actor=actor, version=version, client_ip=client_ip)


@transaction.atomic
def case_start_screening(
    *, case_id: int, actor: Any, version: int | None, client_ip: str | None = None
) -> RebuttalCase:
    return _transition(
        case_id=case_id, name="start_screening", actor=actor, version=version, client_ip=client_ip
    )


def _screen(case: RebuttalCase) -> list[dict[str, Any]]:
    """The receivability checklist under the policy the case is screened under."""
    return [result.as_dict() for result in receivability.evaluate(case, case.policy)]


@transaction.atomic
def case_accept_receivable(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    override_justification: str = "",
    client_ip: str | None = None,
) -> RebuttalCase:
    """HR finds the request receivable; overriding a failed rule needs a justification."""
    justification = (override_justification or "").strip()

    def prepare(case: RebuttalCase, policy: Policy) -> dict[str, Any]:
        result = _screen(case)
        failed = [item["rule"] for item in result if not item["passed"]]
        if failed and not justification:
            raise ValidationError(
                {
                    "override_justification": [
                        "These rules failed: " + ", ".join(failed) + ". Accepting the request "
                        "anyway needs a written justification."
                    ]
                }
            )
        return {"result": result, "override_justification": justification if failed else ""}

    return _transition(
        case_id=case_id,
        name="accept_receivable",
        actor=actor,
        version=version,
        reason=justification,
        client_ip=client_ip,
        prepare=prepare,
    )


@transaction.atomic
def case_reject_not_receivable(
    *, case_id: int, actor: Any, version: int | None, reason: str, client_ip: str | None = None
) -> RebuttalCase:
    """HR closes the request at intake; the event names the rules that failed."""
    reason = require_text(reason, "reason", "Say why the request is not receivable.")

    def prepare(case: RebuttalCase, policy: Policy) -> dict[str, Any]:
        return {"result": _screen(case), "reason": reason}

    case = _transition(
        case_id=case_id,
        name="reject_not_receivable",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
        prepare=prepare,
    )
    return case


@transaction.atomic
def case_withdraw(
    *, case_id: int, actor: Any, version: int | None, reason: str = "", client_ip: str | None = None
) -> RebuttalCase:
    """The requester withdraws before a decision; the reason is optional."""
    reason = (reason or "").strip()
    return _transition(
        case_id=case_id,
        name="withdraw",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
        args={"reason": reason},
    )


@transaction.atomic
def case_invite_reviewer(
    *, case_id: int, actor: Any, version: int | None, reviewer_user: Any, client_ip: str | None = None
) -> RebuttalCase:
    """The case's side of an invitation; eligibility is checked by ``reviewers`` first."""
    return _transition(
        case_id=case_id,
        name="invite_reviewer",
        actor=actor,
        version=version,
        client_ip=client_ip,
        changes={"reviewer_user": [None, reviewer_user.pk]},
        args={"reviewer_user": reviewer_user},
    )


@transaction.atomic
def case_reviewer_accept(
    *, case_id: int, actor: Any, version: int | None, client_ip: str | None = None
) -> RebuttalCase:
    return _transition(
        case_id=case_id, name="reviewer_accept", actor=actor, version=version, client_ip=client_ip
    )


@transaction.atomic
def case_reviewer_decline(
    *, case_id: int, actor: Any, version: int | None, reason: str, client_ip: str | None = None
) -> RebuttalCase:
    reason = require_text(reason, "reason", "Say why you decline the invitation.")
    return _transition(
        case_id=case_id,
        name="reviewer_decline",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
    )


@transaction.atomic
def case_invitation_expire(
    *,
    case_id: int,
    actor: Any = None,
    version: int | None = None,
    reason: str = "The invitation expired without an answer.",
    client_ip: str | None = None,
) -> RebuttalCase:
    """The invitation lapses: unanswered (the scheduler, ``actor=None``) or withdrawn by HR."""
    return _transition(
        case_id=case_id,
        name="invitation_expire",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
    )


@transaction.atomic
def case_release_reviewer(
    *, case_id: int, actor: Any, version: int | None, reason: str, client_ip: str | None = None
) -> RebuttalCase:
    reason = require_text(reason, "reason", "Say why the reviewer is released.")
    return _transition(
        case_id=case_id,
        name="release_reviewer",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
    )


@transaction.atomic
def case_submit_recommendation(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    findings: str,
    recommendation: str,
    recommended_rating: str = "",
    reasons: str,
    client_ip: str | None = None,
) -> RebuttalCase:
    """The reviewer's report: findings and a recommendation to maintain or revise."""
    findings = require_text(findings, "findings", "The findings are required.")
    reasons = require_text(reasons, "reasons", "The reasons are required.")
    if recommendation not in Recommendation.values:
        raise ValidationError({"recommendation": ["Choose 'maintain' or 'revise'."]})

    def prepare(case: RebuttalCase, policy: Policy) -> dict[str, Any]:
        rating = (recommended_rating or "").strip()
        if recommendation == Recommendation.REVISE:
            if rating not in policy.rating_keys:
                raise ValidationError(
                    {"recommended_rating": ["Name the rating to revise to, from the rating scale."]}
                )
            if rating == case.original_rating:
                raise ValidationError(
                    {"recommended_rating": ["A revision must name a rating other than the original."]}
                )
        else:
            rating = ""
        return {"recommended_rating": rating}

    return _transition(
        case_id=case_id,
        name="submit_recommendation",
        actor=actor,
        version=version,
        client_ip=client_ip,
        prepare=prepare,
        args={"findings": findings, "recommendation": recommendation, "reasons": reasons},
    )


@transaction.atomic
def case_forward_for_endorsement(
    *, case_id: int, actor: Any, version: int | None, comment: str = "", client_ip: str | None = None
) -> RebuttalCase:
    return _transition(
        case_id=case_id,
        name="forward_for_endorsement",
        actor=actor,
        version=version,
        reason=(comment or "").strip(),
        client_ip=client_ip,
    )


@transaction.atomic
def case_return_to_reviewer(
    *, case_id: int, actor: Any, version: int | None, reason: str, client_ip: str | None = None
) -> RebuttalCase:
    reason = require_text(reason, "reason", "Say what the reviewer should clarify.")
    return _transition(
        case_id=case_id,
        name="return_to_reviewer",
        actor=actor,
        version=version,
        reason=reason,
        client_ip=client_ip,
    )


@transaction.atomic
def case_endorse(
    *, case_id: int, actor: Any, version: int | None, comment: str = "", client_ip: str | None = None
) -> RebuttalCase:
    comment = (comment or "").strip()
    return _transition(
        case_id=case_id,
        name="endorse",
        actor=actor,
        version=version,
        reason=comment,
        client_ip=client_ip,
        args={"comment": comment},
    )


@transaction.atomic
def case_decide(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    final_rating: str,
    follows_recommendation: bool,
    reasons: str,
    client_ip: str | None = None,
) -> RebuttalCase:
    """The decision-maker's decision; the final rating replaces the original one."""
    reasons = require_text(reasons, "reasons", "The reasons for the decision are required.")

    def prepare(case: RebuttalCase, policy: Policy) -> dict[str, Any]:
        if final_rating not in policy.rating_keys:
            raise ValidationError({"final_rating": ["Choose a rating from the rating scale."]})
        return {}

    return _transition(
        case_id=case_id,
        name="decide",
        actor=actor,
        version=version,
        reason=reasons,
        client_ip=client_ip,
        prepare=prepare,
        changes={"final_rating": [None, final_rating]},
        args={
            "final_rating": final_rating,
            "follows_recommendation": bool(follows_recommendation),
            "reasons": reasons,
        },
    )


@transaction.atomic
def case_issue_outcome(
    *, case_id: int, actor: Any = None, version: int | None = None, client_ip: str | None = None
) -> RebuttalCase:
    """Close a decided case once its outcome letter is stored."""
    return _transition(
        case_id=case_id, name="issue_outcome", actor=actor, version=version, client_ip=client_ip
    )


# --- the stage clock -------------------------------------------------------------

# Who may stop the clock: the people working the case (the reviewer's document
# requests and supervisor invitations use it).
_CLOCK_KEEPERS = frozenset({"hr", "reviewer", "system"})


def _end_open_pause(case: RebuttalCase, *, actor: Any, reason: str, days_added: int = 0) -> None:
    pause = ClockPause.objects.filter(case=case, ended_at__isnull=True).first()
    if pause is not None:
        pause.ended_at = timezone.now()
        pause.ended_by = actor
        pause.resume_reason = reason
        pause.days_added = days_added
        pause._history_user = actor
        pause.save()


@transaction.atomic
def case_pause_clock(*, case_id: int, actor: Any, reason: str, client_ip: str | None = None) -> RebuttalCase:
    """Stop the stage clock while waiting on the requester or a supervisor."""
    reason = require_text(reason, "reason", "Say what the case is waiting for.")
    case = case_lock(case_id)
    if not permissions.relations(case, actor) & _CLOCK_KEEPERS:
        raise ActionForbidden("Only the people working the case may pause its clock.")
    if case.stage_due_on is None:
        raise TransitionRefused("This case has no running stage clock to pause.")
    if case.paused_at is not None:
        raise TransitionRefused("The clock of this case is already paused.")
    policy = policy_current()
    case.paused_at = timezone.now()
    pause = ClockPause(
        case=case,
        stage=clocks.STAGE_OF_STATUS.get(case.status, ""),
        started_at=case.paused_at,
        started_by=actor,
        reason=reason,
    )
    pause._history_user = actor
    _save_with_event(
        case, actor=actor, kind=EventKind.PAUSED, policy=policy, reason=reason, client_ip=client_ip
    )
    pause.save()
    return case


@transaction.atomic
def case_resume_clock(*, case_id: int, actor: Any, reason: str, client_ip: str | None = None) -> RebuttalCase:
    """Restart the stage clock; the due date moves by the days it stood still."""
    reason = require_text(reason, "reason", "Say why the clock resumes (e.g. the documents arrived).")
    case = case_lock(case_id)
    if not permissions.relations(case, actor) & _CLOCK_KEEPERS:
        raise ActionForbidden("Only the people working the case may resume its clock.")
    if case.paused_at is None:
        raise TransitionRefused("The clock of this case is not paused.")
    policy = policy_current()
    today = timezone.localdate()
    paused_days = (today - timezone.localtime(case.paused_at).date()).days
    target = clocks.target_of(policy, case.status) or {"unit": clocks.CALENDAR}
    old_due = case.stage_due_on
    case.stage_due_on = clocks.pushed_due_on(
        old_due, paused_days, str(target["unit"]), clocks.calendar_for(case.office, today)
    )
    case.paused_at = None
    _end_open_pause(case, actor=actor, reason=reason, days_added=paused_days)
    _save_with_event(
        case,
        actor=actor,
        kind=EventKind.RESUMED,
        policy=policy,
        reason=reason,
        changes={
            "stage_due_on": [_json_value(old_due), _json_value(case.stage_due_on)],
            "paused_days": paused_days,
        },
        client_ip=client_ip,
    )
    return case


# --- policy ------------------------------------------------------------------------


@transaction.atomic
def policy_publish(*, actor: Any, values: dict[str, Any], note: str = "") -> Policy:
    """Publish a new policy version; earlier versions (and cases screened under them) stay."""
    from rebuttal.policy_validation import validate_policy_values

    cleaned = validate_policy_values(values)
    latest = Policy.objects.select_for_update().order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    return Policy.objects.create(version=version, created_by=actor, note=note, **cleaned)
