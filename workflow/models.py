"""The viewflow process of a case. It routes work; it stores no business state."""

from __future__ import annotations

from django.db import models
from viewflow.workflow.models import Process


class RebuttalProcess(Process):
    """One process per case (the database enforces it)."""

    case = models.OneToOneField("rebuttal.RebuttalCase", on_delete=models.PROTECT, related_name="process")

    class Meta:
        verbose_name = "rebuttal process"
        permissions = [
            ("act_as_hr", "Takes HR specialists' tasks (screening, assignment, quality check, outcome)"),
            ("act_as_endorser", "Takes endorsement tasks"),
            ("act_as_decision_maker", "Takes decision tasks"),
        ]

    def __str__(self) -> str:
        return f"Process of case {self.case_id}"
