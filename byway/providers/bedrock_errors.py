"""Bedrock's errors as typed errors.

An error answer names its kind in the ``x-amzn-ErrorType`` header (``ValidationException:http://...``), or
in the body's ``__type`` (``com.amazon.coral.service#UnrecognizedClientException``) or ``code``; the
message is the body's ``message`` (``Message`` from some front ends). Inside a ConverseStream the same
kinds arrive as exception events whose ``:exception-type`` header is spelled in lower camel case
(``throttlingException``); generic stream errors carry ``:error-code`` / ``:error-message`` headers.

Bedrock answers an unknown model with a 400 ``ValidationException`` ("The provided model identifier is
invalid."): that message, and "model ... not found / does not exist", become ``UpstreamModelNotFoundError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from byway.core import (
    ProviderError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.providers.errors import error_for_status, retry_after_seconds

_AUTH = frozenset({
    "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException",
    "IncompleteSignatureException", "MissingAuthenticationTokenException", "SignatureDoesNotMatch",
    "InvalidClientTokenId", "ExpiredToken",
})
_UNAVAILABLE = frozenset({
    "ServiceUnavailableException", "ModelNotReadyException", "InternalServerException", "ModelErrorException",
    "ModelStreamErrorException", "InternalFailure", "ServiceUnavailable",
})
_RATE_LIMITED = frozenset({"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"})

# The status each kind is answered with; a stream exception event carries only its kind.
STATUS_BY_TYPE = {
    "ValidationException": 400, "AccessDeniedException": 403, "UnrecognizedClientException": 403,
    "ExpiredTokenException": 403, "InvalidSignatureException": 403, "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408, "ModelErrorException": 424, "ModelStreamErrorException": 424,
    "ModelNotReadyException": 429, "ThrottlingException": 429, "ServiceQuotaExceededException": 400,
    "InternalServerException": 500, "ServiceUnavailableException": 503,
}
_MODEL_MISSING = re.compile(r"model identifier is invalid|model.*(not found|does not exist|doesn't exist)",
                            re.IGNORECASE | re.DOTALL)


class _Body(msgspec.Struct):
    message: str | None = None
    Message: str | None = None
    type_: str | None = msgspec.field(default=None, name="__type")
    code: str | None = None


_DECODER = msgspec.json.Decoder(_Body)


def error_kind(headers: Mapping[str, str], body: _Body | None) -> str | None:
    """The exception name (``ThrottlingException``) from the header, else from the body."""
    header = headers.get("x-amzn-ErrorType") or headers.get("x-amzn-errortype")
    raw = header or ((body.type_ or body.code) if body is not None else None)
    if not raw:
        return None
    name = raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    return name or None


def _decode(body: bytes) -> _Body | None:
    try:
        return _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def bedrock_error(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """The typed error for an error answer of Bedrock's runtime or control plane."""
    parsed = _decode(body)
    message = (parsed.message or parsed.Message) if parsed is not None else None
    if not message:
        text = body[:500].decode("utf-8", "replace").strip()
        message = f"HTTP {status}" + (f": {text}" if text else "")
    return error_for_kind(provider, error_kind(headers, parsed), status, message, headers)


def error_for_kind(provider: str, kind: str | None, status: int, message: str,
                   headers: Mapping[str, str] | None = None) -> ProviderError:
    text = f"{provider}: {kind}: {message}" if kind else f"{provider}: {message}"
    kw = {"provider": provider, "upstream_status": status}
    if kind == "ResourceNotFoundException" or (status in (400, 404) and _MODEL_MISSING.search(message)):
        return UpstreamModelNotFoundError(text, **kw)
    if kind in _RATE_LIMITED:
        return UpstreamRateLimitError(text, retry_after=retry_after_seconds(headers or {}), **kw)
    if kind in _AUTH:
        return UpstreamAuthError(text, **kw)
    if kind == "ModelTimeoutException":
        return UpstreamTimeoutError(text, **kw)
    if kind in _UNAVAILABLE:
        return UpstreamUnavailableError(text, **kw)
    if kind == "ValidationException":
        return UpstreamInvalidRequestError(text, code=kind, **kw)
    return error_for_status(provider, status, f"{kind}: {message}" if kind else message, headers, code=kind)


def stream_exception(provider: str, headers: Mapping[str, object], payload: bytes) -> ProviderError:
    """The error an event-stream ``exception`` (or ``error``) message stands for."""
    if headers.get(":message-type") == "error":
        kind = str(headers.get(":error-code") or "") or None
        message = str(headers.get(":error-message") or "") or "stream error"
    else:
        raw = str(headers.get(":exception-type") or "")
        kind = (raw[:1].upper() + raw[1:]) or None
        parsed = _decode(payload)
        message = ((parsed.message or parsed.Message) if parsed is not None else None) or "stream exception"
    return error_for_kind(provider, kind, STATUS_BY_TYPE.get(kind or "", 500), message)
