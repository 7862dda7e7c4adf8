"""Project-wide middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from config import log_context

request_log = logging.getLogger("config.request")

# A request id taken from the caller: a short token that cannot forge or split a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestId:
    """Give each request an id: the caller's ``X-Request-ID`` if it is a sane token, else a new one.

    Every log line written while the request is handled (and by a task it queues) carries
    the id and the signed-in user's id; the response returns it in ``X-Request-ID``. One
    line per request records method, URL pattern, status and duration: the pattern, not
    the path, so no query string, token or name typed into a URL reaches the log, and no
    IP address (personal data; the reverse proxy's log has it if operations need it).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.monotonic()
        with log_context.bind(request_id=request_id, request=request):
            response = self.get_response(request)
            match = request.resolver_match
            route = f"/{match.route}" if match else None
            request_log.info(
                "%s %s %s",
                request.method,
                route or "(no route)",
                response.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        response["X-Request-ID"] = request_id
        return response


class NoStoreWhenSignedIn:
    """Pages shown to a signed-in person are never stored by a browser or proxy.

    Case pages, documents and letters are confidential: a shared computer's cache
    or a proxy must not keep them. (Static files are answered before this runs.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
