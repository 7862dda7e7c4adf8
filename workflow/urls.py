"""Page URLs of the workflow app (the case page, work lists, actions)."""

from __future__ import annotations

from django.urls import path

from workflow import views
from workflow.pages import case, requester, work

urlpatterns = [
    path("", work.home, name="home"),
    path("cases/", requester.my_cases, name="my-cases"),
    path("cases/new/", requester.case_new, name="case-new"),
    path("cases/<int:pk>/", case.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", requester.case_edit, name="case-edit"),
    path("cases/<int:pk>/delete/", requester.case_delete, name="case-delete"),
    path("cases/<int:pk>/actions/<str:name>/", case.case_action, name="case-action"),
    path("cases/<int:pk>/documents/", case.document_upload, name="document-upload"),
    path("cases/<int:pk>/interviews/", case.interview_add, name="interview-add"),
    path("cases/<int:pk>/document-requests/", case.document_request_add, name="document-request-add"),
    path("cases/<int:pk>/invite-supervisors/", case.supervisors_invite, name="supervisors-invite"),
    path("document-requests/<int:pk>/answer/", work.document_request_answer, name="document-request-answer"),
    path("queue/", work.queue, name="queue"),
    path("inbox/", work.inbox, name="inbox"),
    path("assignments/", work.assignments, name="assignments"),
    path("invitations/", work.invitations, name="invitations"),
    path("invitations/<int:pk>/", work.invitation, name="invitation"),
    path("workflow/diagram/", views.diagram, name="workflow-diagram"),
]
