"""Cohere's error answers, ``{"id": ..., "message": "..."}``, as typed errors.

Statuses as Cohere uses them: 400 and 422 an invalid request, 401 ``invalid api token``, 404 an unknown
model (``model 'x' not found, make sure the correct model ID was used ...``), 429 a rate limit (trial keys
are limited per minute), 498 an invalid token, 499 a request cancelled upstream, 5xx the service failing.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from byway.core import ProviderError, UpstreamAuthError, UpstreamUnavailableError
from byway.providers.errors import error_for_status

_MAX_MESSAGE = 600


class _Envelope(msgspec.Struct):
    message: str | None = None


_DECODER = msgspec.json.Decoder(_Envelope)


def error_message(body: bytes) -> str | None:
    """The ``message`` of an error body; None when the body is not Cohere's envelope."""
    try:
        message = _DECODER.decode(body).message
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return message[:_MAX_MESSAGE] if message else None


def cohere_error(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    message = error_message(body)
    if message is None:
        text = body[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        message = f"HTTP {status}" + (f": {text}" if text else "")
    text = f"{provider}: {message}" if provider else message
    if status == 498:  # Cohere's "invalid token": the stored key is refused
        return UpstreamAuthError(text, provider=provider, upstream_status=status)
    if status == 499:  # cancelled on Cohere's side; another try may go through
        return UpstreamUnavailableError(text, provider=provider, upstream_status=status)
    lowered = message.lower()
    model_missing = status in (400, 404) and "model" in lowered and "not found" in lowered
    return error_for_status(provider, status, message, headers, model_missing=model_missing)
