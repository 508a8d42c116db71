"""Google's error envelope as typed errors.

Gemini and Vertex answer errors as ``{"error": {"code", "message", "status", "details": [...]}}`` (sometimes
wrapped in a one-element list). The parts that decide the mapping:

- ``details[].reason`` of a ``google.rpc.ErrorInfo``: ``API_KEY_INVALID`` arrives with status 400 but means the
  stored key is bad, so it becomes ``UpstreamAuthError`` (our 502 ``provider_auth_failed``), as do the other
  key and token reasons below;
- ``details[].retryDelay`` of a ``google.rpc.RetryInfo`` (``"21s"``, ``"0.5s"``) on a 429 ``RESOURCE_EXHAUSTED``
  becomes ``retry_after`` (a ``retry-after`` header is the fallback);
- a 404 ``NOT_FOUND`` names the model (``models/x is not found for API version v1beta``, Vertex's ``Publisher
  Model ... was not found``) and becomes ``UpstreamModelNotFoundError``;
- everything else follows the status (``error_for_status``), with Google's status name, lower-cased
  (``invalid_argument``, ``failed_precondition``), as the error code.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from byway.core import ProviderError, UpstreamAuthError, UpstreamRateLimitError
from byway.providers.errors import error_for_status

# ErrorInfo reasons that say the credentials, not the request, are at fault.
AUTH_REASONS = frozenset({
    "API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED",
    "API_KEY_IP_ADDRESS_BLOCKED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_TYPE_UNSUPPORTED", "CREDENTIALS_MISSING",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
})
_MAX_MESSAGE = 600


class _Detail(msgspec.Struct):
    type: str = msgspec.field(name="@type", default="")
    reason: str | None = None
    retry_delay: str | None = msgspec.field(name="retryDelay", default=None)


class _Error(msgspec.Struct):
    code: int = 0
    message: str = ""
    status: str = ""
    details: list[_Detail] = msgspec.field(default_factory=list)


class _Envelope(msgspec.Struct):
    error: _Error | str | None = None


_DECODER = msgspec.json.Decoder(_Envelope | list[_Envelope])


def decode_error(body: bytes) -> _Error | None:
    """The ``error`` object of a Google error body, or None when the body is something else."""
    try:
        envelope = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if isinstance(envelope, list):
        if not envelope:
            return None
        envelope = envelope[0]
    error = envelope.error
    if isinstance(error, str):  # OAuth-style {"error": "invalid_grant"} from a proxy or token endpoint
        return _Error(message=error)
    return error


def duration_seconds(value: str | None) -> float | None:
    """A protobuf JSON duration (``"21s"``, ``"0.250s"``) in seconds."""
    if not value or not value.endswith("s"):
        return None
    try:
        return max(0.0, float(value[:-1]))
    except ValueError:
        return None


def gemini_error(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """The typed error for a Gemini or Vertex error answer."""
    error = decode_error(body)
    if error is None:
        text = body[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        return error_for_status(provider, status, f"HTTP {status}" + (f": {text}" if text else ""), headers)
    status = status or error.code or 500
    message = error.message[:_MAX_MESSAGE] or error.status or f"HTTP {status}"
    reasons = [d.reason for d in error.details if d.reason]
    if any(reason in AUTH_REASONS for reason in reasons):
        reason = next(r for r in reasons if r in AUTH_REASONS)
        text = f"{provider}: {message} ({reason})" if provider else f"{message} ({reason})"
        return UpstreamAuthError(text, provider=provider, upstream_status=status)
    if reasons:
        message = f"{message} ({', '.join(reasons)})"
    missing = status == 404 and "model" in message.lower()
    code = error.status.lower() if error.status else None
    result = error_for_status(provider, status, message, headers, model_missing=missing, code=code)
    if isinstance(result, UpstreamRateLimitError):
        delay = next((duration_seconds(d.retry_delay) for d in error.details if d.retry_delay), None)
        if delay is not None:
            result.retry_after = delay
    return result


def error_in_stream(provider: str, error: dict) -> ProviderError:
    """The typed error for an ``{"error": {...}}`` object met inside a 200 stream."""
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return gemini_error(provider, status, {}, msgspec.json.encode({"error": error}))
