"""Page URLs of the reports app."""

from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    path("letters/<int:pk>/", views.letter_download, name="letter-download"),
]
