"""OpenAI's model list: ``GET /openai/v1/models`` and ``GET /openai/v1/models/{model}``."""

from __future__ import annotations

import msgspec
from aiohttp import web

from byway.mock import openai_common

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "text-embedding-3-small",
          "text-embedding-3-large", "text-embedding-ada-002")
CREATED = 1715367049


def _model(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "system"}


async def list_models(request: web.Request) -> web.Response:
    openai_common.check_bearer(request)
    body = {"object": "list", "data": [_model(m) for m in MODELS]}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json",
                        headers=openai_common.headers(request))


async def get_model(request: web.Request) -> web.Response:
    openai_common.check_bearer(request)
    name = request.match_info["model"]
    openai_common.check_model(name)
    return web.Response(body=msgspec.json.encode(_model(name)), content_type="application/json",
                        headers=openai_common.headers(request))
