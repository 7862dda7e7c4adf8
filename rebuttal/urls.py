"""Page URLs of the rebuttal app."""

from __future__ import annotations

from django.urls import path

from rebuttal import views

urlpatterns = [
    path("documents/<int:pk>/", views.document_download, name="document-download"),
]
