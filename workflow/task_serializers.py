"""Shapes of the task list (inbox, queue, archive) and of a claimed or handed-back task."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from viewflow.workflow import STATUS

from rebuttal.models import Status


class TaskCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    office = serializers.CharField()
    region = serializers.CharField()
    stage_due_on = serializers.DateField(allow_null=True)
    is_paused = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_paused(self, case: Any) -> bool:
        return case.paused_at is not None


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    node = serializers.SerializerMethodField(help_text="The flow's step, e.g. `screening`.")
    title = serializers.SerializerMethodField(help_text="The step's title, e.g. `Receivability check`.")
    status = serializers.ChoiceField(choices=STATUS.choices)
    is_overdue = serializers.SerializerMethodField(help_text="The case's stage is past its due date.")
    case = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()
    created = serializers.DateTimeField()
    assigned = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_node(self, task: Any) -> str:
        return task.flow_task.name

    @extend_schema_field(OpenApiTypes.STR)
    def get_title(self, task: Any) -> str:
        return str(task.flow_task.task_title)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_overdue(self, task: Any) -> bool:
        overdue = getattr(task, "overdue", None)
        return bool(overdue) if overdue is not None else task.process.rebuttalprocess.case.is_overdue

    @extend_schema_field(TaskCaseSerializer)
    def get_case(self, task: Any) -> dict[str, Any]:
        return TaskCaseSerializer(task.process.rebuttalprocess.case).data

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of the holder."))
    def get_assigned_to(self, task: Any) -> str | None:
        return task.owner.get_username() if task.owner_id else None
