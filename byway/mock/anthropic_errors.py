"""Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}, "request_id"}``
with a ``request-id`` header."""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
          403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
          500: "api_error", 504: "timeout_error", 529: "overloaded_error"}
_FAULT_MESSAGES = {429: "Number of requests has exceeded your rate limit.", 500: "Internal server error",
                   529: "Overloaded", 401: "invalid x-api-key"}


def error_type(status: int) -> str:
    return _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"Injected error with status {status}")


def render(problem: Problem, request_id: str) -> web.Response:
    body = {"type": "error", "error": {"type": error_type(problem.status), "message": problem.message},
            "request_id": request_id}
    headers = {"request-id": request_id, **problem.headers}
    return web.Response(status=problem.status, body=msgspec.json.encode(body),
                        content_type="application/json", headers=headers)
