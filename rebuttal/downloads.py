"""File downloads (documents, letters): always attachments, never rendered or sniffed by the browser."""

from __future__ import annotations

import io
import json
from typing import IO, Any

from django.http import FileResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer


def attachment(content: bytes | IO[bytes], *, filename: str, content_type: str) -> FileResponse:
    """A download response: ``Content-Disposition: attachment``, nosniff, no caching, sandboxed."""
    body = io.BytesIO(content) if isinstance(content, bytes | bytearray | memoryview) else content
    response = FileResponse(body, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    # Should a browser open it anyway, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


class AnyMediaRenderer(BaseRenderer):
    """Lets a download endpoint answer whatever the client accepts (its errors are JSON)."""

    media_type = "*/*"
    format = "download"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


DOWNLOAD_RENDERERS = [JSONRenderer, AnyMediaRenderer]
