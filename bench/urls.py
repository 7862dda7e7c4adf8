"""The bench's URLconf: a bare view in front of the project's own URLs.

The bare view is the floor of the queue page benchmark: the same middleware,
session and signed-in user, and a view that does nothing but answer. It comes
first so that resolving it costs as little as it can.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BARE_URL = "/bench/bare/"


def bare(request: HttpRequest) -> HttpResponse:
    """A tiny page: what any request through the stack costs at least."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path(BARE_URL.strip("/") + "/", bare, name="bench-bare"),
    path("", include("config.urls")),
]
