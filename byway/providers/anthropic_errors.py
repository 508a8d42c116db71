"""Anthropic's error envelope ``{"type": "error", "error": {"type", "message"}}`` as typed errors."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from byway.core import ProviderError, UpstreamAuthError
from byway.providers.errors import error_for_status

# The status Anthropic answers each error type with; a stream's ``event: error`` carries only the type.
STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class _Detail(msgspec.Struct):
    type: str = "api_error"
    message: str = ""


class _Envelope(msgspec.Struct):
    error: _Detail | None = None


_DECODER = msgspec.json.Decoder(_Envelope)


def error_detail(body: bytes) -> tuple[str | None, str | None]:
    """``(type, message)`` from an error body; ``(None, None)`` when it is not Anthropic's envelope."""
    try:
        detail = _DECODER.decode(body).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None, None
    if detail is None:
        return None, None
    return detail.type, detail.message


def anthropic_error(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """The typed error for an error answer (or a stream's ``event: error``, with ``status`` from its type)."""
    kind, message = error_detail(body)
    if message is None:
        text = body[:500].decode("utf-8", "replace").strip()
        message = f"HTTP {status}" + (f": {text}" if text else "")
    if kind == "billing_error":  # the stored account cannot pay: a provider-side failure, like a bad key
        return UpstreamAuthError(f"{provider}: {message}" if provider else message, provider=provider,
                                 upstream_status=status, code="provider_billing_error")
    model_missing = kind == "not_found_error" and "model" in message.lower()
    return error_for_status(provider, status, message, headers, model_missing=model_missing, code=kind)


def stream_error(provider: str, data: bytes) -> ProviderError:
    """The error an ``event: error`` in a stream stands for."""
    kind, _ = error_detail(data)
    return anthropic_error(provider, STATUS_BY_TYPE.get(kind or "", 500), {}, data)
