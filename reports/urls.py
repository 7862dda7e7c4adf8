"""Page URLs of the reports app."""

from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    path("reports/management-report.pdf", views.management_report, name="reports-management-report"),
    path("letters/<int:pk>/", views.letter_download, name="letter-download"),
    path("reports/", views.dashboard, name="reports-dashboard"),
    path("reports/cases.csv", views.cases_csv, name="reports-cases-csv"),
    path("reports/figures.csv", views.figures_csv, name="reports-figures-csv"),
    path("reports/corrected-ratings.csv", views.corrected_ratings_csv, name="reports-corrected-ratings-csv"),
]
