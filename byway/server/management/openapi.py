"""The OpenAPI 3.1 document of ``/api``, generated from the routing table and the document types
(msgspec writes their JSON Schema, which OpenAPI 3.1 takes as is)."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

import msgspec

from byway.server.management.schemas import ErrorOut

_REF = "#/components/schemas/{name}"
_ERRORS = {400: "Malformed JSON", 401: "Missing, unknown, revoked or expired key",
           403: "Not allowed for this caller", 404: "No such object (or not the caller's)",
           409: "A unique value is taken", 422: "A field is missing or invalid"}


def document(routes: tuple[Any, ...]) -> dict[str, Any]:
    return _build(routes)


@cache
def _build(routes: tuple[Any, ...]) -> dict[str, Any]:
    types = [ErrorOut] + [t for r in routes for t in (r.body, r.answer) if t is not None and _is_struct(t)]
    schemas, components = msgspec.json.schema_components(list(dict.fromkeys(types)), ref_template=_REF)
    refs = dict(zip(dict.fromkeys(types), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for route in routes:
        operation = _operation(route, refs)
        if operation["operationId"] in seen:  # one handler behind several paths: name each by its parameters
            named = [segment[1:-1] for segment in route.segments if segment.startswith("{")]
            operation["operationId"] += "_by_" + "_".join(named) if named else "_" + route.segments[-1]
        seen.add(operation["operationId"])
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Byway management API", "version": "1",
                 "description": "Users, gateway API keys, provider credentials (BYOK) and preferences. "
                                "Authenticate with the master key or a gateway API key as a Bearer token; "
                                "a member sees and changes only their own objects, an admin all."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "the master key or a byw- gateway key"}}},
        "security": [{"bearer": []}],
    }


def _is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _operation(route: Any, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.handler.__name__.lstrip("_"), "summary": route.summary,
                                 "tags": [route.tag]}
    parameters = [{"name": segment[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                  for segment in route.segments if segment.startswith("{")]
    parameters += [{"name": name, "in": "query", "required": False, "description": text,
                    "schema": {"type": "string"}} for name, text in route.query]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": refs[route.body]}}}
    answer: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
    if route.answer is not None:
        schema = refs[route.answer] if route.answer in refs else {"type": "object"}
        answer["content"] = {"application/json": {"schema": schema}}
    responses: dict[str, Any] = {str(route.status): answer}
    if not route.public:
        error = {"content": {"application/json": {"schema": refs[ErrorOut]}}}
        for status, text in _ERRORS.items():
            if status == 400 and route.body is None:
                continue
            responses[str(status)] = {"description": text, **error}
    operation["responses"] = responses
    if route.public:
        operation["security"] = []
    return operation
