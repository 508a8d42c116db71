"""Google's error envelope, as Gemini and Vertex answer it:
``{"error": {"code", "message", "status", "details"}}`` with ``application/json; charset=UTF-8``.

``Problem.code``, when set, is a ``google.rpc.ErrorInfo`` reason (``API_KEY_INVALID``) and becomes a detail;
a ``retry-after`` header (429 faults) also becomes a ``google.rpc.RetryInfo`` ``retryDelay``, which is where the
SDKs and Byway look for it.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock.problem import Problem

GEMINI_SERVICE = "generativelanguage.googleapis.com"
VERTEX_SERVICE = "aiplatform.googleapis.com"
_RPC = "type.googleapis.com/google.rpc."
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_FAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
         "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"Injected error with status {status}.")


def error_info(reason: str, service: str = GEMINI_SERVICE) -> dict[str, object]:
    return {"@type": _RPC + "ErrorInfo", "reason": reason, "domain": "googleapis.com",
            "metadata": {"service": service}}


def api_key_invalid() -> Problem:
    """The answer to a bad API key: a 400, as Gemini gives it (not a 401)."""
    message = "API key not valid. Please pass a valid API key."
    body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [
        error_info("API_KEY_INVALID"),
        {"@type": _RPC + "LocalizedMessage", "locale": "en-US", "message": message}]}}
    return Problem(400, message, family_body=body)


def render(problem: Problem, request_id: str) -> web.Response:
    body = problem.family_body
    if body is None:
        error: dict[str, object] = {"code": problem.status, "message": problem.message,
                                    "status": status_name(problem.status)}
        details: list[dict[str, object]] = []
        if problem.code:
            details.append(error_info(problem.code))
        retry = problem.headers.get("retry-after")
        if problem.status == 429:
            details.append({"@type": _RPC + "QuotaFailure", "violations": [{
                "quotaMetric": f"{GEMINI_SERVICE}/generate_content_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel", "quotaValue": "10"}]})
            if retry is not None:
                details.append({"@type": _RPC + "RetryInfo", "retryDelay": f"{retry}s"})
        if details:
            error["details"] = details
        body = {"error": error}
    return web.Response(status=problem.status, body=msgspec.json.encode(body), content_type="application/json",
                        charset="UTF-8", headers=problem.headers)
