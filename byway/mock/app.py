"""The aiohttp application: every family's routes on one port, the fault middleware and ``/_mock``.

Each route is registered twice: as is, and under ``/fault/{spec}/`` so a provider's base URL
can carry a fault. The middleware counts the request, resolves its fault (path prefix and
``x-mock-fault`` header), waits out ``latency_ms``, answers ``status`` faults, and renders any
``Problem`` in the error shape of the family the path belongs to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import (
    anthropic_errors,
    anthropic_messages,
    azure,
    bedrock,
    bedrock_errors,
    cohere,
    cohere_errors,
    gemini,
    gemini_errors,
    ollama,
    ollama_errors,
    openai_chat,
    openai_embeddings,
    openai_errors,
    openai_models,
    vendors,
)
from byway.mock.faults import Fault, combine
from byway.mock.problem import Problem
from byway.mock.sse import StreamCut
from byway.mock.state import STATE, MockState, bind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Renderer = Callable[[Problem, str], web.Response]

ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/openai/v1/chat/completions", openai_chat.chat_completions),
    ("POST", "/openai/v1/embeddings", openai_embeddings.embeddings),
    ("GET", "/openai/v1/models", openai_models.list_models),
    ("GET", "/openai/v1/models/{model}", openai_models.get_model),
    ("POST", "/azure/openai/deployments/{deployment}/chat/completions", azure.chat_completions),
    ("POST", "/azure/openai/deployments/{deployment}/embeddings", azure.embeddings),
    ("POST", "/anthropic/v1/messages", anthropic_messages.messages),
    ("POST", "/anthropic/v1/messages/count_tokens", anthropic_messages.count_tokens),
    ("GET", "/anthropic/v1/models", anthropic_messages.list_models),
    ("GET", "/anthropic/v1/models/{model}", anthropic_messages.get_model),
    ("POST", "/cohere/v2/chat", cohere.chat),
    ("POST", "/cohere/v2/embed", cohere.embed),
    ("GET", "/cohere/v1/models", cohere.list_models),
    ("POST", "/ollama/api/chat", ollama.chat),
    ("POST", "/ollama/api/embed", ollama.embed),
    ("GET", "/ollama/api/tags", ollama.tags),
    ("POST", "/ollama/v1/chat/completions", ollama.openai_chat_completions),
    ("GET", "/ollama/v1/models", ollama.openai_models),
    ("POST", "/bedrock/model/{model}/converse", bedrock.converse),
    ("POST", "/bedrock/model/{model}/converse-stream", bedrock.converse_stream),
    ("POST", "/bedrock/model/{model}/invoke", bedrock.invoke),
    ("GET", "/bedrock/foundation-models", bedrock.foundation_models),
)
ROUTES += vendors.routes()
ROUTES += gemini.ROUTES
# the first path segment names the family whose error shape a Problem takes
RENDERERS: dict[str, Renderer] = {"openai": openai_errors.render, "azure": openai_errors.render,
                                  "anthropic": anthropic_errors.render, "cohere": cohere_errors.render,
                                  "ollama": ollama_errors.render, "bedrock": bedrock_errors.render}
RENDERERS["mistral"] = vendors.render_mistral
RENDERERS["gemini"] = RENDERERS["vertex"] = gemini_errors.render
FAULT_PREFIX = "/fault/"
_RETRY_AFTER_STATUSES = (429, 503)
_FAULT_MESSAGES: dict[str, Callable[[int], str]] = {"anthropic": anthropic_errors.fault_message,
                                                    "cohere": cohere_errors.fault_message,
                                                    "ollama": ollama_errors.fault_message,
                                                    "bedrock": bedrock_errors.fault_message}
_FAULT_MESSAGES["gemini"] = _FAULT_MESSAGES["vertex"] = gemini_errors.fault_message


def create_app() -> web.Application:
    """A fresh mock server application with its own counters."""
    app = web.Application(middlewares=[_mock_middleware], client_max_size=64 * 1024 * 1024)
    app[STATE] = MockState()
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
        app.router.add_route(method, "/fault/{fault}" + path, handler)
    app.router.add_get("/_mock/stats", _stats)
    app.router.add_get("/_mock/requests", _requests)
    app.router.add_post("/_mock/reset", _reset)
    app.router.add_get("/_mock/pixel.png", _pixel)
    return app


def clean_path(path: str) -> str:
    """``path`` without its ``/fault/<spec>`` prefix."""
    if path.startswith(FAULT_PREFIX):
        _, _, rest = path[len(FAULT_PREFIX):].partition("/")
        return "/" + rest
    return path


@web.middleware
async def _mock_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_mock/"):
        return await handler(request)
    state = request.app[STATE]
    path = clean_path(request.path)
    family = path.split("/", 2)[1] if path.count("/") >= 1 else ""
    render = RENDERERS.get(family, openai_errors.render)
    request_id = state.ids.request()
    bind(request, None, request_id)
    await _record(request, state, path)
    try:
        spec = combine(request.match_info.get("fault"), request.headers.get("x-mock-fault"))
        fault = state.faults.take(spec) if spec else None
        bind(request, fault, request_id)
        if fault is not None:
            await _strike(fault, family)
        return await handler(request)
    except Problem as problem:
        return render(problem, request_id)
    except StreamCut as cut:
        return cut.response
    except web.HTTPNotFound:
        return render(Problem(404, f"Invalid URL ({request.method} {path})"), request_id)
    except web.HTTPMethodNotAllowed:
        return render(Problem(405, f"Invalid method for URL ({request.method} {path})"), request_id)


async def _strike(fault: Fault, family: str) -> None:
    if fault.latency_ms > 0:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.status is None:
        return
    headers = {}
    if fault.retry_after is not None and fault.status in _RETRY_AFTER_STATUSES:
        headers["retry-after"] = fault.retry_after
    message = _FAULT_MESSAGES.get(family, openai_errors.fault_message)(fault.status)
    raise Problem(fault.status, message, headers=headers)


async def _record(request: web.Request, state: MockState, path: str) -> None:
    body: Any = None
    if request.can_read_body:
        raw = await request.read()
        try:
            body = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            body = raw.decode(errors="replace")
    state.record(request.method, path, dict(request.headers), body)


def _json(value: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(value), content_type="application/json")


async def _stats(request: web.Request) -> web.Response:
    return _json(request.app[STATE].stats())


async def _requests(request: web.Request) -> web.Response:
    return _json(request.app[STATE].requests())


# a 1x1 PNG served at /_mock/pixel.png, for tests of image URLs that the gateway fetches
PIXEL_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e5b1d10000000049454e44ae426082")


async def _pixel(request: web.Request) -> web.Response:
    return web.Response(body=PIXEL_PNG, content_type="image/png")


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return _json({"ok": True})
