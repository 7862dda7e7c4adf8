"""``POST /api/v1/cases/{id}/transitions/{name}/``: every API action on a case."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal import idempotency, selectors
from rebuttal.api import client_ip, error_responses
from rebuttal.exceptions import CaseNotFound
from rebuttal.serializers import CaseSerializer
from reports.serializers import LetterCorrectionSerializer, LetterRequestSerializer
from workflow import letters
from workflow.serializers import API_TRANSITIONS
from workflow.services import case_act


class CaseTransitionView(APIView):
    @extend_schema(
        summary="Perform a transition",
        description="`name` is one of: " + ", ".join(f"`{n}`" for n in API_TRANSITIONS) + ".",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(API_TRANSITIONS)),
            *idempotency.schema_parameters(200, 400, 403, 404),
        ],
        request=PolymorphicProxySerializer(
            component_name="TransitionRequest",
            serializers=list(dict.fromkeys(API_TRANSITIONS.values())),
            resource_type_field_name=None,
        ),
        responses={
            200: CaseSerializer,
            **error_responses(400, 401, 403, 404),
            **idempotency.schema_responses("Not allowed now, or stale version."),
        },
    )
    @idempotency.idempotent
    def post(self, request: Request, pk: str, name: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        serializer_class = API_TRANSITIONS.get(name)
        if serializer_class is None:
            raise CaseNotFound(f"No transition named '{name}' is offered here.")
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        case = case_act(
            case_id=case.pk,
            name=name,
            actor=request.user,
            version=version,
            data=data,
            client_ip=client_ip(request),
        )
        return Response(CaseSerializer(case, context={"request": request}).data)


class LetterCorrectView(APIView):
    @extend_schema(
        summary="Issue a corrected letter that supersedes this one (HR)",
        description="The old letter stays in the archive unchanged; the new one names it in `supersedes`.",
        request=LetterCorrectionSerializer,
        responses={202: LetterRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = LetterCorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        letter_request = letters.letter_correction_request(
            letter_id=pk,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            language=serializer.validated_data.get("language"),
        )
        return Response(LetterRequestSerializer(letter_request).data, status=status.HTTP_202_ACCEPTED)


class LetterRetryView(APIView):
    @extend_schema(
        summary="Try again to issue a letter that failed (HR)",
        request=None,
        responses={202: LetterRequestSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        letter_request = letters.letter_retry_request(request_id=pk, actor=request.user)
        return Response(LetterRequestSerializer(letter_request).data, status=status.HTTP_202_ACCEPTED)
