"""API v1 for the letter archive: a case's letters and a letter's PDF (corrections: ``workflow.api``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal.api import client_ip, error_responses
from rebuttal.downloads import DOWNLOAD_RENDERERS, attachment
from rebuttal.selectors import case_get_visible
from rebuttal.services import case_record_access
from reports import selectors
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
