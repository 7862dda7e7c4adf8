"""API v1 for the reviewer pool, contracts, conflicts, suggestions and fees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal import permissions
from rebuttal import selectors as case_selectors
from rebuttal.api import client_ip, error_responses, is_hr
from rebuttal.api_pagination import CasePagination
from rebuttal.csvsafe import csv_text
from rebuttal.exceptions import ActionForbidden, CaseNotFound
from reviewers import selectors, services
from reviewers.eligibility import Verdict
from reviewers.models import Assignment, Reviewer
from reviewers.serializers import (
    AssignmentSerializer,
    CertificationSerializer,
    ConflictSerializer,
    ContractSerializer,
    ExpiringContractSerializer,
    ReleaseAllSerializer,
    ReportSerializer,
    ReviewerSerializer,
    SuggestionsSerializer,
)

RANKING = (
    "Eligible reviewers, fewest open cases first, then longest since their last assignment, then by name."
)


def _is_hr_admin(user: Any) -> bool:
    return user.is_superuser or permissions.HR_ADMIN in permissions.group_names(user)


def _require_hr(user: Any) -> None:
    if not is_hr(user):
        raise ActionForbidden("Only HR may see the reviewer pool.")


@extend_schema_view(
    list=extend_schema(
        summary="The reviewer pool (HR)",
        responses={200: ReviewerSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One reviewer (HR)", responses={200: ReviewerSerializer, **error_responses(401, 403, 404)}
    ),
    create=extend_schema(
        summary="Add a reviewer (HR administrator)",
        responses={201: ReviewerSerializer, **error_responses(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="Edit a reviewer (HR administrator)",
        responses={200: ReviewerSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class ReviewerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReviewerSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = None

    def get_queryset(self):  # noqa: ANN201
        return selectors.reviewer_list()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action == "conflicts":
            return  # a reviewer may declare their own conflicts (checked in the action)
        _require_hr(request.user)
        writes = self.action in ("create", "partial_update", "update") or (
            self.action == "contracts" and request.method == "POST"
        )
        if writes and not _is_hr_admin(request.user):
            raise ActionForbidden("Only HR administrators manage the reviewer pool.")

    def _reviewer(self) -> Reviewer:
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (Reviewer.DoesNotExist, ValueError):
            raise CaseNotFound("No such reviewer.") from None

    def get_object(self) -> Reviewer:
        return self._reviewer()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReviewerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reviewer = services.reviewer_create(actor=request.user, data=dict(serializer.validated_data))
        return Response(ReviewerSerializer(selectors.reviewer_list().get(pk=reviewer.pk)).data, status=201)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reviewer = self._reviewer()
        serializer = ReviewerSerializer(reviewer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.reviewer_update(
            reviewer_id=reviewer.pk, actor=request.user, data=dict(serializer.validated_data)
        )
        return Response(ReviewerSerializer(self._reviewer()).data)

    @extend_schema(
        methods=["GET"],
        summary="A reviewer's retainer contracts (HR)",
        responses={200: ContractSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a retainer contract (HR administrator)",
        request=ContractSerializer,
        responses={201: ContractSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get", "post"])
    def contracts(self, request: Request, pk: str | None = None) -> Response:
        reviewer = self._reviewer()
        if request.method == "GET":
            return Response(ContractSerializer(reviewer.contracts.order_by("-ends_on"), many=True).data)
        serializer = ContractSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_create(
            reviewer_id=reviewer.pk, actor=request.user, data=dict(serializer.validated_data)
        )
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a declared conflict (HR, or the reviewer)",
        request=ConflictSerializer,
        responses={201: ConflictSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def conflicts(self, request: Request, pk: str | None = None) -> Response:
        own = Reviewer.objects.filter(pk=pk if str(pk).isdigit() else 0, user_id=request.user.pk).exists()
        if not own:
            _require_hr(request.user)
        reviewer = self._reviewer()
        serializer = ConflictSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.conflict_declare(reviewer_id=reviewer.pk, actor=request.user, **serializer.validated_data)
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Release every open case of the reviewer (HR)",
        request=ReleaseAllSerializer,
        responses={
            200: OpenApiResponse(
                description='`{"released": [references]}`: the cases sent back to assignment.'
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    @action(detail=True, methods=["post"], url_path="release-all")
    def release_all(self, request: Request, pk: str | None = None) -> Response:
        reviewer = self._reviewer()
        serializer = ReleaseAllSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cases = services.reviewer_release_all(
            reviewer_id=reviewer.pk,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            client_ip=client_ip(request),
        )
        return Response({"released": [case.reference for case in cases]})


class ReviewerSuggestionsView(APIView):
    @extend_schema(
        summary="Eligible reviewers for a case, ranked, with the reasons; ineligible ones with why (HR)",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: SuggestionsSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        case = case_selectors.case_get_visible(user=request.user, pk=pk)
        if not is_hr(request.user) or "requester" in permissions.relations(case, request.user):
            raise ActionForbidden("Only HR specialists see reviewer suggestions.")
        eligible, ineligible = selectors.reviewer_suggestions(case=case)
        # Plain dicts rather than nested serializers: for a pool of 1,000 the
        # serializer machinery cost more than judging the reviewers.
        return Response(
            {
                "ranking": RANKING,
                "eligible": [_suggestion(v, rank) for rank, v in enumerate(eligible, start=1)],
                "ineligible": [_suggestion(v, None) for v in ineligible],
            }
        )


def _suggestion(verdict: Verdict, rank: int | None) -> dict[str, Any]:
    """One reviewer: eligible ones with every reason, ineligible ones with what failed."""
    last = verdict.reviewer.last_assigned_at
    checks = verdict.checks if rank is not None else verdict.failed
    return {
        "rank": rank,
        "reviewer": verdict.reviewer.pk,
        "name": verdict.reviewer.name,
        "eligible": rank is not None,
        "open_cases": verdict.open_cases,
        "last_assigned_at": last.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if last else None,
        "contract": verdict.contract.number if verdict.contract else None,
        "reasons": [{"rule": c.rule, "passed": c.passed, "detail": c.detail} for c in checks],
    }


class ExpiringContractsView(APIView):
    @extend_schema(
        summary="Active contracts ending soon that still carry open cases (HR)",
        parameters=[
            OpenApiParameter("days", OpenApiTypes.INT, description="Window in days (default 30, 1-365).")
        ],
        responses={200: ExpiringContractSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        _require_hr(request.user)
        raw = request.query_params.get("days", "30")
        if not raw.isdigit() or not 1 <= int(raw) <= 365:
            raise ValidationError({"days": ["A whole number of days from 1 to 365."]})
        contracts = selectors.contracts_expiring(within_days=int(raw))
        return Response(ExpiringContractSerializer(contracts, many=True).data)


class CSVRenderer(renderers.BaseRenderer):
    """Announces CSV for content negotiation (``?format=csv`` or ``Accept: text/csv``);
    the view itself writes the CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        # Only reached for errors (the view returns its own response for CSV).
        return str(data.get("detail", "") if isinstance(data, dict) else data).encode()


class FeeCertificationView(APIView):
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Monthly fee certification: lines and totals per currency, per reviewer (HR)",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: this month)."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={200: CertificationSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        _require_hr(request.user)
        raw = request.query_params.get("month") or timezone_month()
        try:
            month = dt.datetime.strptime(raw, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
        except ValueError:
            raise ValidationError({"month": ["A month as YYYY-MM."]}) from None
        if not 2000 <= month.year <= 2100:
            raise ValidationError({"month": ["A month from 2000-01 to 2100-12."]})
        listing = selectors.fee_certification(month=month)
        if request.accepted_renderer.format == "csv":
            return _certification_csv(listing, month)
        return Response(CertificationSerializer(listing, many=True).data)


def timezone_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def _certification_csv(listing: list[dict[str, Any]], month: dt.date) -> HttpResponse:
    rows = []
    for entry in listing:
        for line in entry["lines"]:
            rows.append(
                [
                    entry["reviewer"],
                    line["contract"],
                    line["case"],
                    line["earned_on"],
                    line["amount"],
                    line["currency"],
                ]
            )
        for total in entry["totals"]:
            rows.append(
                [
                    entry["reviewer"],
                    "",
                    f"TOTAL ({total['reviews']} reviews)",
                    "",
                    total["total"],
                    total["currency"],
                ]
            )
    text = csv_text(["reviewer", "contract", "case", "earned_on", "amount", "currency"], rows)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fee-certification-{month:%Y-%m}.csv"'
    return response


class AssignmentPagination(CasePagination):
    """Keyset paging like the case list, on the assignment's own ordering."""

    ordering = ("-invited_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="Assignments: your own as a reviewer, every one for HR",
        responses={200: AssignmentSerializer(many=True), **error_responses(401)},
    ),
    retrieve=extend_schema(
        summary="One assignment", responses={200: AssignmentSerializer, **error_responses(401, 404)}
    ),
)
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssignmentSerializer
    pagination_class = AssignmentPagination

    def get_queryset(self):  # noqa: ANN201
        qs = Assignment.objects.select_related("case", "reviewer", "contract").order_by("-invited_at", "-id")
        if is_hr(self.request.user):
            return qs
        return qs.filter(reviewer__user_id=self.request.user.pk)

    def get_object(self) -> Assignment:
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (Assignment.DoesNotExist, ValueError):
            raise CaseNotFound("No such assignment.") from None

    @extend_schema(
        summary="The report submitted under this assignment (read-only; stays readable by its author)",
        responses={200: ReportSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        assignment = self.get_object()
        if assignment.report is None:
            raise CaseNotFound("No report was submitted under this assignment.")
        return Response(ReportSerializer(assignment).data)
