"""Page URLs of the reviewers app: the pool, contracts and fees (HR)."""

from __future__ import annotations

from django.urls import path

from reviewers import views

urlpatterns = [
    path("pool/", views.pool, name="reviewer-pool"),
    path("pool/<int:pk>/", views.reviewer_detail, name="reviewer-detail"),
    path("pool/<int:pk>/release-all/", views.release_all, name="reviewer-release-all"),
    path("contracts/", views.contracts, name="contracts"),
    path("fees/", views.fees, name="fees"),
]
