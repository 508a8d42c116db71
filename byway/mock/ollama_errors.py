"""Ollama's error body: ``{"error": "..."}``, the status saying what went wrong (404 for an unknown model)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

_FAULT_MESSAGES = {
    401: "unauthorized",
    404: "model not found, try pulling it first",
    429: "too many requests, please retry later",
    500: "an error was encountered while running the model: unexpected EOF",
    503: "server busy, please try again.  maximum pending requests exceeded",
}


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"injected error with status {status}")


def render(problem: Problem, request_id: str) -> web.Response:
    body = problem.family_body if problem.family_body is not None else {"error": problem.message}
    return web.Response(status=problem.status, body=msgspec.json.encode(body), content_type="application/json",
                        headers=problem.headers)
