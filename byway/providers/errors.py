"""Turning a provider's error answer into the right typed error. Shared by every adapter:
each extracts the provider's message from its own envelope, then calls ``error_for_status``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from byway.core import (
    ProviderError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date), as seconds."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def error_for_status(provider: str, status: int, message: str, headers: Mapping[str, str] | None = None,
                     *, model_missing: bool = False, code: str | None = None) -> ProviderError:
    """The typed error for an upstream answer with ``status``.

    ``model_missing`` says the provider reported an unknown model (its own 404 or
    a 400 whose code says so); that becomes our 404 ``model_not_found``.
    """
    headers = headers or {}
    text = f"{provider}: {message}" if provider else message
    kw = {"provider": provider, "upstream_status": status}
    if model_missing:
        return UpstreamModelNotFoundError(text, **kw)
    if status == 429:
        return UpstreamRateLimitError(text, retry_after=retry_after_seconds(headers), **kw)
    if status in (401, 403):
        return UpstreamAuthError(text, **kw)
    if status in (408, 504):
        return UpstreamTimeoutError(text, **kw)
    if status == 404:
        return UpstreamModelNotFoundError(text, **kw)
    if 400 <= status < 500:
        return UpstreamInvalidRequestError(text, code=code, **kw)
    return UpstreamUnavailableError(text, **kw)
