"""API v1 of the reports app: a case's letters, a letter's PDF (corrections: ``workflow.api``) and the
summary of the report's figures."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal import permissions
from rebuttal.api import ErrorSerializer, client_ip, error_responses
from rebuttal.downloads import DOWNLOAD_RENDERERS, attachment
from rebuttal.selectors import case_get_visible
from rebuttal.services import case_record_access
from reports import exports, selectors
from reports.forms import ReportFilterForm
from reports.serializers import LetterRequestSerializer, LetterSerializer


class CaseLettersView(APIView):
    @extend_schema(
        summary="The case's issued letters (requester and HR)",
        responses={200: LetterSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = case_get_visible(user=request.user, pk=pk)
        letters = selectors.letters_of_case(case=case, user=request.user)
        return Response(LetterSerializer(letters, many=True).data)


class CaseLetterRequestsView(APIView):
    @extend_schema(
        summary="Letters asked for and not issued yet: pending, or failed and waiting for HR",
        responses={200: LetterRequestSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = case_get_visible(user=request.user, pk=pk)
        waiting = selectors.letter_requests_pending(case=case, user=request.user)
        return Response(LetterRequestSerializer(waiting, many=True).data)


class LetterPdfView(APIView):
    """The letter exactly as issued; every download is written to the case's access log."""

    renderer_classes = DOWNLOAD_RENDERERS

    @extend_schema(
        summary="Download a letter's PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(description="The archived PDF/A, as an attachment."),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, pk: int) -> Any:
        letter = selectors.letter_get_visible(user=request.user, pk=pk)
        case_record_access(
            case=letter.case, actor=request.user, what=f"letter:{letter.pk}", client_ip=client_ip(request)
        )
        response = attachment(bytes(letter.pdf), filename=letter.filename, content_type="application/pdf")
        response["X-Content-SHA256"] = letter.sha256
        return response


def summary_audience(user: Any) -> str | None:
    """``"hr"`` (exact numbers), ``"management"`` (small counts suppressed) or ``None`` (no access)."""
    if permissions.is_hr(user):
        return "hr"
    if permissions.group_names(user) & {permissions.ENDORSER, permissions.DECISION_MAKER}:
        return "management"
    return None


_DATE_HELP = "A local calendar day, YYYY-MM-DD, both ends of the period included."


class ReportSummaryView(APIView):
    """The report's figures over a period: exact for HR, small counts suppressed for senior management."""

    @extend_schema(
        summary="The report's figures over a period (small counts suppressed for senior management)",
        description=(
            "Cases received, receivability, withdrawn, outcomes, open cases by state and age, reviewer "
            "workload, fees, trends across cycles, days per stage and end to end. HR gets the exact numbers; "
            "endorsers and decision-makers get every count below the policy's `small_count_threshold` as "
            '`"<5"` and, where counts add up to a shown total, enough others as `"x"` that none can be '
            "worked out (`suppressed` is then true). The period defaults to the last twelve months."
        ),
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description=f"First day. {_DATE_HELP}"),
            OpenApiParameter("to", OpenApiTypes.DATE, description=f"Last day. {_DATE_HELP}"),
            OpenApiParameter("office", OpenApiTypes.STR, description="Only cases of this office."),
            OpenApiParameter("region", OpenApiTypes.STR, description="Only cases of this region."),
            OpenApiParameter("cycle", OpenApiTypes.INT, description="Only cases of this appraisal cycle."),
            OpenApiParameter(
                "contract_type", OpenApiTypes.STR, description="Only cases of this contract type."
            ),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The figures, keyed by name."),
            **error_responses(400, 401),
            403: OpenApiResponse(ErrorSerializer, description="Neither HR nor senior management."),
        },
    )
    def get(self, request: Request) -> Response:
        audience = summary_audience(request.user)
        if audience is None:
            raise PermissionDenied("The report is for HR and senior management.")
        today = timezone.localdate()
        form = ReportFilterForm(request.query_params, today=today)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        data = exports.summary_for(scope=form.scope(), today=today, suppressed=audience != "hr")
        return Response(data)
