"""Request parsers of the API."""

from __future__ import annotations

from typing import Any

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a document nested too deeply is a 400, not a 500.

    Python's decoder raises ``RecursionError`` (not ``ValueError``, which DRF
    turns into a parse error) on a few thousand nested arrays or objects.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class _NameKeepingParser(DjangoMultiPartParser):
    """Django's multipart parser, remembering each file name as the client sent it.

    Django quietly strips paths and invisible characters from upload names
    (``../x.pdf`` becomes ``x.pdf``); the service refuses such names instead,
    with a message that says why, so it needs the name as sent.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_names: dict[str, str] = {}

    def sanitize_file_name(self, file_name: str) -> str | None:
        cleaned = super().sanitize_file_name(file_name)
        if cleaned is not None:
            self.sent_names[cleaned] = file_name
        return cleaned


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser; each uploaded file also carries ``sent_name``, its name as sent."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _NameKeepingParser(
                meta, stream, request.upload_handlers, parsers.get_encoding(parser_context)
            )
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None
        for upload in files.values():
            upload.sent_name = parser.sent_names.get(upload.name, upload.name)
        return parsers.DataAndFiles(data, files)
