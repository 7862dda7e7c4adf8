"""Verification of the per-case audit hash chains."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rebuttal.models import CaseEvent, RebuttalCase
from rebuttal.services import event_digest, event_fields


@dataclass(frozen=True)
class ChainProblem:
    reference: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "chain head"
        return f"{self.reference} {where}: {self.problem}"


def verify_case_chain(case: RebuttalCase) -> list[ChainProblem]:
    """Recompute every event hash of ``case`` and check the links and the head."""
    problems: list[ChainProblem] = []
    prev_hash = ""
    expected_seq = 1
    for event in CaseEvent.objects.filter(case=case).order_by("seq").iterator():
        if event.seq != expected_seq:
            problems.append(ChainProblem(case.reference, event.seq, f"expected event #{expected_seq}"))
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(case.reference, event.seq, "does not link to the event before"))
        recomputed = event_digest(prev_hash=event.prev_hash, fields=event_fields(event))
        if recomputed != event.hash:
            problems.append(ChainProblem(case.reference, event.seq, "content altered (hash mismatch)"))
        prev_hash = event.hash
        expected_seq = event.seq + 1
    if case.event_count != expected_seq - 1 or case.last_event_hash != prev_hash:
        problems.append(ChainProblem(case.reference, None, "case's chain head does not match its events"))
    return problems


def verify_all_chains() -> Iterator[tuple[RebuttalCase, list[ChainProblem]]]:
    for case in RebuttalCase.objects.order_by("pk").iterator():
        yield case, verify_case_chain(case)
