"""API of the review stage: interviews, document requests, reporting officers' comments."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rebuttal import consultation, permissions, selectors
from rebuttal.api import client_ip, error_responses
from rebuttal.exceptions import ActionForbidden, CaseNotFound
from rebuttal.models import Addressee, DocumentRequest, SupervisorInvitation
from rebuttal.serializers import STATEMENT_MAX_CHARS, TEXT_MAX_CHARS
from reviewers import services as reviewer_services
from reviewers.models import Interview


class InterviewSerializer(serializers.ModelSerializer):
    interviewee = serializers.CharField(max_length=200)
    notes = serializers.CharField(max_length=STATEMENT_MAX_CHARS)

    class Meta:
        model = Interview
        fields = ["id", "interviewee", "held_on", "notes", "recorded_at"]
        read_only_fields = ["id", "recorded_at"]


class DocumentRequestSerializer(serializers.ModelSerializer):
    what = serializers.CharField(max_length=TEXT_MAX_CHARS)
    addressee = serializers.ChoiceField(choices=Addressee.choices)
    officer_email = serializers.EmailField(write_only=True, required=False, default="")
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = DocumentRequest
        fields = [
            "id",
            "addressee",
            "officer_email",
            "what",
            "requested_at",
            "is_open",
            "answered_at",
            "answer",
        ]
        read_only_fields = ["id", "requested_at", "is_open", "answered_at", "answer"]


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=STATEMENT_MAX_CHARS)


class InvitationSerializer(serializers.ModelSerializer):
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = SupervisorInvitation
        fields = ["id", "role", "invited_at", "closes_on", "is_open", "commented_at", "comment"]
        read_only_fields = fields


class OfficerViewSerializer(serializers.Serializer):
    """What a reporting officer sees: the statement and their own comment, nothing else."""

    id = serializers.IntegerField()
    role = serializers.CharField()
    closes_on = serializers.DateField()
    statement = serializers.CharField(source="case.statement")
    comment = serializers.CharField()


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=STATEMENT_MAX_CHARS)


def _working(case: Any, user: Any) -> bool:
    return bool(permissions.relations(case, user) & {"hr", "reviewer"}) or user.is_superuser


class CaseInterviewsView(APIView):
    @extend_schema(
        summary="Interviews recorded on the case (HR, the reviewer)",
        responses={200: InterviewSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        if not _working(case, request.user):
            raise ActionForbidden("Only HR and the reviewer see the interview notes.")
        return Response(InterviewSerializer(case.interviews.all(), many=True).data)

    @extend_schema(
        summary="Record an interview (the reviewer)",
        request=InterviewSerializer,
        responses={201: InterviewSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        serializer = InterviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interview = reviewer_services.interview_record(
            case_id=case.pk, actor=request.user, **serializer.validated_data
        )
        return Response(InterviewSerializer(interview).data, status=status.HTTP_201_CREATED)


class CaseDocumentRequestsView(APIView):
    @extend_schema(
        summary="Document requests of the case",
        responses={200: DocumentRequestSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        requests = case.document_requests.all()
        if not _working(case, request.user) and not permissions.group_names(request.user) & {
            permissions.HR_ADMIN
        }:
            requests = requests.filter(addressed_to=request.user)
        return Response(DocumentRequestSerializer(requests, many=True).data)

    @extend_schema(
        summary="Ask the requester or a reporting officer for documents (pauses the clock)",
        request=DocumentRequestSerializer,
        responses={201: DocumentRequestSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        serializer = DocumentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = consultation.document_request_create(
            case_id=case.pk, actor=request.user, client_ip=client_ip(request), **serializer.validated_data
        )
        return Response(DocumentRequestSerializer(made).data, status=status.HTTP_201_CREATED)


class DocumentRequestAnswerView(APIView):
    @extend_schema(
        summary="Answer a document request (its addressee, or HR); the clock resumes when none is pending",
        request=AnswerSerializer,
        responses={200: DocumentRequestSerializer, **error_responses(400, 401, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            request_id = int(pk)
        except ValueError:
            raise CaseNotFound("No such request.") from None
        answered = consultation.document_request_answer(
            request_id=request_id,
            actor=request.user,
            answer=serializer.validated_data["answer"],
            client_ip=client_ip(request),
        )
        return Response(DocumentRequestSerializer(answered).data)


class CaseSupervisorInvitationsView(APIView):
    @extend_schema(
        summary="The reporting officers' invitations and comments (HR, the reviewer)",
        responses={200: InvitationSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        if not _working(case, request.user):
            raise ActionForbidden("Only HR and the reviewer see the reporting officers' comments.")
        return Response(InvitationSerializer(case.supervisor_invitations.all(), many=True).data)

    @extend_schema(
        summary="Invite both reporting officers to comment (HR, the reviewer)",
        request=None,
        responses={201: InvitationSerializer(many=True), **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        case = selectors.case_get_visible(user=request.user, pk=pk)
        invitations = consultation.supervisors_invite(case_id=case.pk, actor=request.user)
        return Response(InvitationSerializer(invitations, many=True).data, status=status.HTTP_201_CREATED)


class OfficerInvitationView(APIView):
    @extend_schema(
        summary="Your open invitation: the statement and your comment (the reporting officer)",
        responses={200: OfficerViewSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        invitation = consultation.supervisor_invitation_open_for(invitation_id=pk, user=request.user)
        return Response(OfficerViewSerializer(invitation).data)

    @extend_schema(
        summary="Comment on the statement; the invitation then closes",
        request=CommentSerializer,
        responses={200: OfficerViewSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = consultation.supervisor_comment(
            invitation_id=pk, actor=request.user, comment=serializer.validated_data["comment"]
        )
        return Response(OfficerViewSerializer(invitation).data)
