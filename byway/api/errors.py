"""Typed errors as the client's API shows them: OpenAI's and Anthropic's error envelopes.

Each function answers ``(status, extra headers, body)``. Only ``ByWayError`` reaches
here; the server wraps anything else first.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import ByWayError, ProviderError

_OPENAI_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "invalid_request_error",
    "budget": "insufficient_quota",
    "rate_limit": "rate_limit_error",
    "upstream": "upstream_error",
    "timeout": "upstream_error",
    "overloaded": "upstream_error",
}

_ANTHROPIC_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "budget": "billing_error",
    "rate_limit": "rate_limit_error",
    "upstream": "api_error",
    "timeout": "timeout_error",
    "overloaded": "overloaded_error",
}

_OVERLOADED_STATUSES = (503, 529)


def error_message(err: ByWayError) -> str:
    """The message a client sees; an upstream failure names the provider it came from."""
    message = err.message
    if isinstance(err, ProviderError) and err.provider and not message.startswith(err.provider):
        message = f"{err.provider}: {message}"
    return message


def openai_error_object(err: ByWayError) -> dict[str, Any]:
    """``{"error": {...}}`` as OpenAI writes it, for a response body or an in-stream error line."""
    return {"error": {
        "message": error_message(err),
        "type": _OPENAI_TYPES.get(err.kind, "upstream_error"),
        "param": err.param,
        "code": err.code,
    }}


def openai_error(err: ByWayError) -> tuple[int, dict[str, str], bytes]:
    return err.status, err.headers(), msgspec.json.encode(openai_error_object(err))


def _is_overloaded(err: ByWayError) -> bool:
    if err.kind == "overloaded" or err.status in _OVERLOADED_STATUSES:
        return True
    return isinstance(err, ProviderError) and err.kind == "upstream" and err.upstream_status == 529


def anthropic_error_object(err: ByWayError) -> dict[str, Any]:
    kind = "overloaded" if _is_overloaded(err) else err.kind
    return {"type": "error", "error": {"type": _ANTHROPIC_TYPES.get(kind, "api_error"),
                                       "message": error_message(err)}}


def anthropic_error(err: ByWayError) -> tuple[int, dict[str, str], bytes]:
    """Anthropic's envelope. An overloaded upstream (Anthropic's own 529) is answered as 503: 529 is no
    standard status, and 503 is what HTTP clients retry."""
    status = 503 if _is_overloaded(err) else err.status
    return status, err.headers(), msgspec.json.encode(anthropic_error_object(err))
