"""``/api/v1/tasks/``: each user's inbox, queue and archive of human tasks; claim and hand back.

Listing goes through ``workflow.selectors`` (viewflow's permission filtering plus
the rulebook's case visibility). Claiming and handing back change only who holds
a task, never the case: they run under the flow's lock (the process row), so of
two people claiming one task at once exactly one wins and the other gets 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from viewflow.workflow.models import Task

from rebuttal.api import error_responses
from rebuttal.api_pagination import CasePagination
from rebuttal.models import Status
from workflow import selectors
from workflow.services import task_claim, task_unclaim
from workflow.task_serializers import TaskSerializer


class TaskPagination(CasePagination):
    """Keyset paging on ``sort_key`` alone (unique, see ``selectors.task_list``): no offsets, no COUNT."""

    ordering = ("sort_key",)


class TaskFilter(filters.FilterSet):
    box = filters.ChoiceFilter(
        choices=[(b, b) for b in selectors.BOXES],
        method="filter_nothing",
        label="inbox (assigned to me, open; the default), queue (mine to take), archive (finished by me)",
    )
    status = filters.MultipleChoiceFilter(
        field_name=f"{selectors.CASE}__status", choices=Status.choices, label="Status of the case"
    )
    office = filters.CharFilter(field_name=f"{selectors.CASE}__office", lookup_expr="iexact", max_length=120)
    region = filters.CharFilter(field_name=f"{selectors.CASE}__region", lookup_expr="iexact", max_length=120)
    overdue = filters.BooleanFilter(field_name="overdue", label="The case's stage is past its due date")
    node = filters.ChoiceFilter(
        choices=[(n, n) for n in selectors.HUMAN_NODES], method="filter_node", label="The flow's step"
    )

    class Meta:
        model = Task
        fields = ["box", "status", "office", "region", "overdue", "node"]

    def filter_nothing(self, qs: QuerySet[Task], name: str, value: Any) -> QuerySet[Task]:
        return qs  # the box chooses the base list (see TaskListView.get_queryset)

    def filter_node(self, qs: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return qs.filter(flow_task=selectors.task_node(value)) if value else qs


class TaskListView(ListAPIView):
    serializer_class = TaskSerializer
    pagination_class = TaskPagination
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = TaskFilter

    def get_queryset(self) -> QuerySet[Task]:
        box = self.request.query_params.get("box") or "inbox"
        if box not in selectors.BOXES:
            box = "inbox"  # the filter set answers 400 for an unknown box
        return selectors.task_list(user=self.request.user, box=box)

    @extend_schema(
        summary="My tasks: inbox, queue or archive",
        description=(
            "`inbox`: tasks assigned to me and open; `queue`: unassigned tasks I may take; "
            "`archive`: tasks I finished. Only tasks of cases I may see, never of my own request. "
            "Overdue first, then by the stage's due date, then oldest first. "
            "Follow the `next` / `previous` links to page."
        ),
        responses={200: TaskSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


TASK_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _answer(request: Request, task: Task) -> Response:
    task = selectors.task_get_for_action(user=request.user, pk=task.pk)
    return Response(TaskSerializer(task, context={"request": request}).data)


class TaskClaimView(APIView):
    @extend_schema(
        summary="Take a task from my queue",
        description="404: not a task you may see or hold; 409: someone else has it, or it is finished.",
        parameters=[TASK_ID],
        request=None,
        responses={200: TaskSerializer, **error_responses(401, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        return _answer(request, task_claim(task_id=pk, user=request.user))


class TaskUnclaimView(APIView):
    @extend_schema(
        summary="Hand a task I hold back to its queue",
        description=(
            "403: a reviewer's task, or held by someone else; 409: nobody holds it, or it is finished."
        ),
        parameters=[TASK_ID],
        request=None,
        responses={200: TaskSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        return _answer(request, task_unclaim(task_id=pk, user=request.user))
