from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from rebuttal.api import CaseViewSet, DocumentDownloadView, PolicyView
from rebuttal.api_token import TokenLoginView
from reports.api import CaseLetterRequestsView, CaseLettersView, LetterPdfView, ReportSummaryView
from reviewers.api import (
    AssignmentViewSet,
    ExpiringContractsView,
    FeeCertificationView,
    ReviewerSuggestionsView,
    ReviewerViewSet,
)
from workflow import api_review
from workflow.api import CaseTransitionView, LetterCorrectView, LetterRetryView
from workflow.api_tasks import TaskClaimView, TaskListView, TaskUnclaimView

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("reviewers", ReviewerViewSet, basename="reviewer")
router.register("assignments", AssignmentViewSet, basename="assignment")

api_v1 = [
    path("auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("cases/<int:pk>/transitions/<str:name>/", CaseTransitionView.as_view(), name="case-transition"),
    path(
        "cases/<int:pk>/reviewer-suggestions/",
        ReviewerSuggestionsView.as_view(),
        name="case-reviewer-suggestions",
    ),
    path("contracts/expiring/", ExpiringContractsView.as_view(), name="contracts-expiring"),
    path("fees/certification/", FeeCertificationView.as_view(), name="fee-certification"),
    path("cases/<int:pk>/interviews/", api_review.CaseInterviewsView.as_view(), name="case-interviews"),
    path(
        "cases/<int:pk>/document-requests/",
        api_review.CaseDocumentRequestsView.as_view(),
        name="case-document-requests",
    ),
    path(
        "document-requests/<int:pk>/answer/",
        api_review.DocumentRequestAnswerView.as_view(),
        name="document-request-answer",
    ),
    path(
        "cases/<int:pk>/supervisor-invitations/",
        api_review.CaseSupervisorInvitationsView.as_view(),
        name="case-supervisor-invitations",
    ),
    path(
        "supervisor-invitations/<int:pk>/",
        api_review.OfficerInvitationView.as_view(),
        name="supervisor-invitation",
    ),
    path("documents/<int:pk>/download/", DocumentDownloadView.as_view(), name="document-download"),
    path("cases/<int:pk>/letters/", CaseLettersView.as_view(), name="case-letters"),
    path("letters/<int:pk>/pdf/", LetterPdfView.as_view(), name="letter-pdf"),
    path("letters/<int:pk>/correct/", LetterCorrectView.as_view(), name="letter-correct"),
    path("cases/<int:pk>/letter-requests/", CaseLetterRequestsView.as_view(), name="case-letter-requests"),
    path("letter-requests/<int:pk>/retry/", LetterRetryView.as_view(), name="letter-request-retry"),
    path("policy/", PolicyView.as_view(), name="policy"),
    path("reports/summary/", ReportSummaryView.as_view(), name="reports-summary"),
    path("tasks/", TaskListView.as_view(), name="task-list"),
    path("tasks/<int:pk>/claim/", TaskClaimView.as_view(), name="task-claim"),
    path("tasks/<int:pk>/unclaim/", TaskUnclaimView.as_view(), name="task-unclaim"),
    *router.urls,
]

urlpatterns = [
    path("", include("workflow.urls")),
    path("", include("rebuttal.urls")),
    path("", include("reports.urls")),
    path("", include("reviewers.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

# A lost database or broker answers 503 with a clear page (``config.outages``), never 500.
handler500 = "config.outages.server_error"
