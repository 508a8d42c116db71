"""OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

_TYPES = {401: "invalid_request_error", 403: "invalid_request_error", 429: "requests"}
_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
_FAULT_MESSAGES = {
    401: "Incorrect API key provided.",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


def error_type(status: int) -> str:
    if status >= 500:
        return "server_error"
    return _TYPES.get(status, "invalid_request_error")


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"Injected error with status {status}.")


def render(problem: Problem, request_id: str) -> web.Response:
    body = problem.family_body
    if body is None:
        code = problem.code if problem.code is not None else _CODES.get(problem.status)
        body = {"error": {"message": problem.message, "type": error_type(problem.status),
                          "param": problem.param, "code": code}}
    headers = {"x-request-id": request_id, **problem.headers}
    return web.Response(status=problem.status, body=msgspec.json.encode(body),
                        content_type="application/json", headers=headers)
