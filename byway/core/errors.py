"""Typed errors. Each carries the HTTP status and a stable ``code``; the client
codecs (``byway.api``) turn them into the OpenAI or Anthropic error envelope.

``kind`` is a neutral error category that both envelopes map from:
invalid_request, authentication, permission, not_found, budget, rate_limit,
upstream, timeout, overloaded.
"""

from __future__ import annotations

from typing import Any


class ByWayError(Exception):
    status: int = 500
    kind: str = "upstream"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequestError(ByWayError):
    status = 400
    kind = "invalid_request"


class AuthenticationError(ByWayError):
    status = 401
    kind = "authentication"
    code = "invalid_api_key"


class PermissionDeniedError(ByWayError):
    status = 403
    kind = "permission"
    code = "permission_denied"


class NotFoundError(ByWayError):
    status = 404
    kind = "not_found"
    code = "not_found"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"


class BudgetExceededError(ByWayError):
    status = 402
    kind = "budget"
    code = "budget_exceeded"


class RateLimitError(ByWayError):
    status = 429
    kind = "rate_limit"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"retry-after": str(max(1, int(-(-self.retry_after // 1))))}


class ProviderError(ByWayError):
    """An upstream provider failed or refused. ``upstream_status`` is what it answered
    (None for connection failures); ``retryable`` says whether trying again may help."""

    status = 502
    kind = "upstream"
    code = "upstream_error"

    def __init__(self, message: str, *, provider: str = "", upstream_status: int | None = None,
                 retryable: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.provider = provider
        self.upstream_status = upstream_status
        self.retryable = retryable


class UpstreamInvalidRequestError(ProviderError):
    """The provider refused the request as invalid (its 400/422); passed on as 400."""

    status = 400
    kind = "invalid_request"
    code = "invalid_request"


class UpstreamModelNotFoundError(ProviderError):
    status = 404
    kind = "not_found"
    code = "model_not_found"


class UpstreamAuthError(ProviderError):
    """The provider rejected the stored provider key."""

    status = 502
    code = "provider_auth_failed"


class UpstreamRateLimitError(ProviderError, RateLimitError):
    """The provider rate-limited us; also a ``RateLimitError``, so one ``except`` catches both kinds."""

    status = 429
    kind = "rate_limit"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        kw.setdefault("retryable", True)
        super().__init__(message, **kw)
        self.retry_after = retry_after


class UpstreamTimeoutError(ProviderError):
    status = 504
    kind = "timeout"
    code = "timeout"

    def __init__(self, message: str, **kw: Any) -> None:
        kw.setdefault("retryable", True)
        super().__init__(message, **kw)


class UpstreamUnavailableError(ProviderError):
    """5xx, overload or connection failure."""

    status = 502
    code = "upstream_error"

    def __init__(self, message: str, **kw: Any) -> None:
        kw.setdefault("retryable", True)
        super().__init__(message, **kw)
