"""Cohere's error envelope: ``{"id": "<uuid>", "message": "..."}`` with an ``x-debug-trace-id`` header.

Cohere's SDK raises by status: 400 ``BadRequestError``, 401 ``UnauthorizedError``, 404 ``NotFoundError``,
422 ``UnprocessableEntityError``, 429 ``TooManyRequestsError``, 500 ``InternalServerError``, 503
``ServiceUnavailableError``.
"""

from __future__ import annotations

import uuid

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

_FAULT_MESSAGES = {
    401: "invalid api token",
    404: "model not found, make sure the correct model ID was used and that you have access to the model.",
    429: "You are past the per-minute request limit, please wait and try again later.",
    500: "internal server error, this has been reported to our developers",
    503: "service unavailable, please try again later",
}


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"injected error with status {status}")


def answer_id(request_id: str) -> str:
    """A UUID, the form Cohere's ids take, derived from the mock's request id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, request_id))


def render(problem: Problem, request_id: str) -> web.Response:
    body = problem.family_body
    if body is None:
        body = {"id": answer_id(request_id), "message": problem.message}
    headers = {"x-debug-trace-id": request_id, **problem.headers}
    return web.Response(status=problem.status, body=msgspec.json.encode(body), content_type="application/json",
                        headers=headers)
