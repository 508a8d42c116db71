"""OpenAI-family error answers -> typed ``ProviderError``s.

Shapes seen in the family: OpenAI's ``{"error": {"message", "type", "param", "code"}}`` (OpenRouter adds
``metadata.raw`` with the upstream's words), Mistral's ``{"object": "error", "message", ...}`` (``message``
may itself be a validation ``detail`` list), Hugging Face's and xAI's ``{"error": "text"}``, FastAPI's
``{"detail": ...}``, and plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from byway.core import ProviderError
from byway.providers.errors import error_for_status

_MODEL_MISSING = re.compile(
    r"\bmodel\b[^.\n]{0,160}?(?:does not exist|doesn't exist|not exist|not found|is invalid|is not a valid model"
    r"|not supported by any provider)|\b(?:invalid|unknown|no such) model\b",
    re.IGNORECASE,
)
_MAX_MESSAGE = 600

# An error's ``type`` -> the status it stands for, for errors that arrive inside a 200 stream or body.
_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "overloaded_error": 503,
}


def parse_error(provider: str, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
    """The typed error for an HTTP error answer from an OpenAI-compatible API."""
    payload = _decode(body)
    if payload is None:
        message, code = body.decode("utf-8", "replace").strip()[:_MAX_MESSAGE], None
    else:
        message, code = describe(payload)
    return _error(provider, status, message or f"HTTP {status}", code, headers)


def error_in_payload(provider: str, error: Any, headers: Mapping[str, str] | None = None) -> ProviderError:
    """The typed error for an ``{"error": ...}`` found inside a 200 answer or a stream chunk."""
    message, code = describe({"error": error})
    status = 500
    if isinstance(error, dict):
        for candidate in (error.get("status_code"), error.get("status"), error.get("code")):
            if isinstance(candidate, int) and 400 <= candidate < 600:
                status = candidate
                break
        else:
            status = _TYPE_STATUS.get(str(error.get("type") or ""), 500)
    return _error(provider, status, message or "error in stream", code, headers or {})


def describe(payload: Any) -> tuple[str, str | None]:
    """(message, code) out of any of the family's error envelopes."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            message = _text(error.get("message")) or str(error.get("type") or "")
            raw = error.get("metadata", {}).get("raw") if isinstance(error.get("metadata"), dict) else None
            if raw:
                message = f"{message} ({_text(raw)})"
            return message[:_MAX_MESSAGE], _code(error.get("code"))
        if isinstance(error, str):
            return error[:_MAX_MESSAGE], _code(payload.get("code"))
        if "message" in payload:
            return _text(payload["message"])[:_MAX_MESSAGE], _code(payload.get("code"))
        if "detail" in payload:
            return _text(payload["detail"])[:_MAX_MESSAGE], None
    return _text(payload)[:_MAX_MESSAGE], None


def _error(provider: str, status: int, message: str, code: str | None,
           headers: Mapping[str, str]) -> ProviderError:
    missing = code == "model_not_found" or (status in (400, 404) and _MODEL_MISSING.search(message) is not None)
    return error_for_status(provider, status, message, headers, model_missing=missing, code=code)


def _decode(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None


def _code(value: Any) -> str | None:
    """A symbolic error code (``model_not_found``); numeric codes repeat the status and are dropped."""
    if isinstance(value, str) and value and not value.isdigit():
        return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # validation details: [{"loc": [...], "msg": ...}, ...]
        return "; ".join(_detail(item) for item in value)
    if isinstance(value, dict):
        if "detail" in value:
            return _text(value["detail"])
        if "message" in value:
            return _text(value["message"])
    return msgspec.json.encode(value).decode()


def _detail(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        loc = item.get("loc")
        where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
        return f"{where}: {item['msg']}" if where else str(item["msg"])
    return _text(item)
