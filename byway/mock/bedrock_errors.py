"""Bedrock's error answers: ``{"message": ...}`` with the exception's name in the ``x-amzn-ErrorType`` header
(which boto3 reads to raise the right class) and an ``x-amzn-RequestId``.

A ``Problem`` raised by the Bedrock mock carries the exception name as its ``code``; any other (faults,
shared parsers) gets the name Bedrock uses for its status.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

_TYPES = {400: "ValidationException", 401: "UnrecognizedClientException", 403: "AccessDeniedException",
          404: "ResourceNotFoundException", 408: "ModelTimeoutException", 409: "ConflictException",
          424: "ModelErrorException", 429: "ThrottlingException", 500: "InternalServerException",
          503: "ServiceUnavailableException"}
_FAULT_MESSAGES = {
    400: "Malformed input request, please reformat your input and try again.",
    403: "You don't have access to the model with the specified model ID.",
    408: "Model has timed out in processing the request. Try your request again.",
    429: "Too many requests, please wait before trying again.",
    500: "The server encountered an internal error while processing the request.",
    503: "Bedrock is unable to process your request.",
}
_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def error_type(status: int) -> str:
    return _TYPES.get(status, "InternalServerException" if status >= 500 else "ValidationException")


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"Injected error with status {status}.")


def problem(status: int, kind: str, message: str) -> Problem:
    """A Bedrock error answer of exception ``kind``."""
    return Problem(status, message, code=kind)


def render(problem: Problem, request_id: str) -> web.Response:
    kind = problem.code or error_type(problem.status)
    headers = {"x-amzn-ErrorType": kind + _NAMESPACE, "x-amzn-RequestId": request_id, **problem.headers}
    return web.Response(status=problem.status, body=msgspec.json.encode({"message": problem.message}),
                        content_type="application/json", headers=headers)
