"""API v1 for cases (list, create, read, edit a draft) and the policy.

Transitions are in ``workflow/api.py``: every action that moves a case goes
through the workflow layer.
"""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal import documents, idempotency, permissions, selectors, services, web
from rebuttal.downloads import DOWNLOAD_RENDERERS, attachment
from rebuttal.exceptions import ActionForbidden, UploadTooLarge
from rebuttal.filters import CaseFilter
from rebuttal.serializers import (
    CaseIntakeSerializer,
    CaseListSerializer,
    CasePatchSerializer,
    CaseSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    PolicySerializer,
    RuleResultSerializer,
    TimelineEntrySerializer,
)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: OpenApiResponse(ValidationErrorSerializer, description="Invalid input; each bad field named."),
        401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
        403: OpenApiResponse(ErrorSerializer, description="You may see the case but not do this."),
        404: OpenApiResponse(ErrorSerializer, description="No such case, or not yours to see."),
        409: OpenApiResponse(ErrorSerializer, description="Not allowed now, or stale version."),
        413: OpenApiResponse(
            ErrorSerializer, description="The file, or the case's files together, too large."
        ),
    }
    return {code: described[code] for code in codes}


client_ip = web.client_ip
is_hr = permissions.is_hr


@extend_schema_view(
    list=extend_schema(
        summary="Cases you may see, newest first",
        responses={200: CaseListSerializer, **error_responses(400, 401, 404)},
    ),
    retrieve=extend_schema(summary="One case", responses={200: CaseSerializer, **error_responses(401, 404)}),
    create=extend_schema(
        summary="File a new request (as a draft)",
        request=CaseIntakeSerializer,
        parameters=idempotency.schema_parameters(201, 400),
        responses={201: CaseSerializer, **error_responses(400, 401), **idempotency.schema_responses()},
    ),
    partial_update=extend_schema(
        summary="Edit your draft",
        request=CasePatchSerializer,
        responses={200: CaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Discard your draft",
        responses={204: None, **error_responses(401, 403, 404, 409)},
    ),
)
class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):  # noqa: ANN201
        return selectors.case_visible_qs(self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):  # noqa: ANN201
        if self.action == "list":
            return CaseListSerializer
        return CaseSerializer

    def get_object(self):  # noqa: ANN201
        return selectors.case_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def _detail(self, case: Any, status_code: int = status.HTTP_200_OK) -> Response:
        case = selectors.case_get_visible(user=self.request.user, pk=case.pk)
        return Response(CaseSerializer(case, context={"request": self.request}).data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        services.case_record_access(case=case, actor=request.user, client_ip=client_ip(request))
        return Response(CaseSerializer(case, context={"request": request}).data)

    @idempotency.idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CaseIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_create(
            requester=request.user, data=dict(serializer.validated_data), client_ip=client_ip(request)
        )
        return self._detail(case, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        serializer = CasePatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": ["The version you saw is required."]})
        version = data.pop("version")
        case = services.case_update_draft(
            case_id=case.pk, actor=request.user, version=version, data=data, client_ip=client_ip(request)
        )
        return self._detail(case)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        services.case_delete_draft(case_id=case.pk, actor=request.user, client_ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Receivability checklist (HR)",
        responses={200: RuleResultSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def receivability(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if not is_hr(request.user) or "requester" in permissions.relations(case, request.user):
            raise ActionForbidden("Only HR specialists see the receivability checklist.")
        services.case_record_access(
            case=case, actor=request.user, what="receivability", client_ip=client_ip(request)
        )
        results = [r.as_dict() for r in selectors.case_receivability(case=case)]
        return Response(RuleResultSerializer(results, many=True).data)

    @extend_schema(
        summary="Everything that happened to the case, oldest first",
        responses={200: TimelineEntrySerializer(many=True), **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        services.case_record_access(
            case=case, actor=request.user, what="timeline", client_ip=client_ip(request)
        )
        entries = selectors.case_timeline(case=case, user=request.user)
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The case's documents you may see",
        responses={200: DocumentSerializer(many=True), **error_responses(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload a document (PDF, DOCX, PNG or JPEG) to the case",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["get", "post"])
    def documents(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if request.method == "GET":
            services.case_record_access(
                case=case, actor=request.user, what="documents", client_ip=client_ip(request)
            )
            listed = documents.documents_visible(case=case, user=request.user)
            return Response(DocumentSerializer(listed, many=True).data)
        # Refuse an oversize body before reading it (multipart adds a little to the file).
        limit = documents.max_document_bytes()
        if _content_length(request) > limit + 64 * 1024:
            raise UploadTooLarge(f"The file is larger than the limit of {limit // documents.MB} MB.")
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        document = documents.document_add(
            case_id=case.pk,
            actor=request.user,
            kind=serializer.validated_data["kind"],
            name=getattr(upload, "sent_name", upload.name),
            fileobj=upload,
            client_ip=client_ip(request),
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class DocumentDownloadView(APIView):
    """One document, as an attachment; every download is written to the case's access log."""

    renderer_classes = DOWNLOAD_RENDERERS

    @extend_schema(
        summary="Download a document",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file, as an attachment."),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, pk: int) -> Any:
        document = documents.document_get_visible(user=request.user, pk=pk)
        services.case_record_access(
            case=document.case,
            actor=request.user,
            what=f"document:{document.pk}",
            client_ip=client_ip(request),
        )
        return attachment(
            document.file.open("rb"), filename=document.display_name, content_type=document.content_type
        )


class PolicyView(APIView):
    """The policy version in force; HR administrators publish a new version with PUT."""

    @extend_schema(summary="The policy in force", responses={200: PolicySerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(PolicySerializer(selectors.policy_current()).data)

    @extend_schema(
        summary="Publish a new policy version (hr_admin)",
        request=PolicySerializer,
        responses={200: PolicySerializer, **error_responses(400, 401, 403)},
    )
    def put(self, request: Request) -> Response:
        if not (request.user.is_superuser or permissions.HR_ADMIN in permissions.group_names(request.user)):
            raise ActionForbidden("Only HR administrators may change the policy.")
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = {k: v for k, v in serializer.validated_data.items() if k != "note"}
        values["rating_scale"] = [dict(item) for item in values.get("rating_scale", [])]
        values["stage_targets"] = {k: dict(v) for k, v in values.get("stage_targets", {}).items()}
        policy = services.policy_publish(
            actor=request.user, values=values, note=serializer.validated_data.get("note", "")
        )
        return Response(PolicySerializer(policy).data)
