"""What every OpenAI-family endpoint shares: bearer auth, the unknown-model rule, response headers."""

from __future__ import annotations

from aiohttp import web

from byway.mock.problem import Problem
from byway.mock.state import request_id_of

MISSING_MODEL_PREFIX = "no-such-"


def check_bearer(request: web.Request) -> None:
    """401 unless ``Authorization: Bearer <key>`` is present and the key does not start with ``bad``."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Problem(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                           "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", code=None)
    if key.startswith("bad"):
        raise Problem(401, f"Incorrect API key provided: {key[:3]}***{key[-4:]}. You can find your API key at "
                           "https://platform.openai.com/account/api-keys.", code="invalid_api_key")


def check_model(model: str) -> None:
    """Every model exists except those named ``no-such-…``."""
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f"The model `{model}` does not exist or you do not have access to it.",
                      code="model_not_found")


def headers(request: web.Request) -> dict[str, str]:
    return {
        "x-request-id": request_id_of(request),
        "openai-version": "2020-10-01",
        "openai-processing-ms": "1",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-tokens": "29999000",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-reset-tokens": "0s",
    }
