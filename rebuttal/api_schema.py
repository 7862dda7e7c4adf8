"""What the OpenAPI schema says about answers every operation can give, whatever its view.

drf-spectacular documents what each view declares; some refusals come from the
layers around the views, and the contract says the schema lists every status an
operation answers (``python -m verify fuzz`` checks it). A postprocessing hook adds
them where they apply:

- 415: an operation that takes a body refuses one that is not JSON, a form or
  multipart (DRF's parsers).
- 414: an operation with query parameters refuses a request line longer than
  gunicorn's ``limit_request_line`` (4,094 bytes).
- 404: a list paged by cursor refuses a cursor it did not make (DRF's cursor
  pagination), and an operation offering ``?format=`` refuses a format it does not
  have (DRF's content negotiation, before authentication).
"""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
METHODS = ("get", "put", "patch", "post", "delete")


def _error(description: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": ERROR}}, "description": description}


ADDED = {
    "415": "The body is not JSON, a form or multipart.",
    "414": "The request line is too long (more than 4,094 bytes).",
    "404_page": "No such page: the cursor was not made by this list.",
    "404_format": "No such format.",
}


def document_transport_errors(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """drf-spectacular's ``POSTPROCESSING_HOOKS`` entry: add 415, 414 and 404 where they apply."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(
        "Error",
        {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    )
    for operations in result.get("paths", {}).values():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            names = {
                parameter.get("name")
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query"
            }
            if "requestBody" in operation:
                responses.setdefault("415", _error(ADDED["415"]))
            if names:
                responses.setdefault("414", _error(ADDED["414"]))
            if "page" in names:
                responses.setdefault("404", _error(ADDED["404_page"]))
            if "format" in names:
                responses.setdefault("404", _error(ADDED["404_format"]))
    return result
