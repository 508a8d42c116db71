"""OpenAI-compatible vendors as the mock serves them: ``/{vendor}/v1/chat/completions``, ``/models``,
``/embeddings``, answering like OpenAI plus each vendor's own recorded departures:

- mistral: tool call ids of exactly 9 alphanumerics; streams carry usage in the final chunk unasked;
  errors as ``{"object": "error", "message", "type", "param", "code"}``.
- groq: streams carry usage in the final chunk unasked, also under ``x_groq.usage``.
- deepseek: usage adds ``prompt_cache_hit_tokens`` / ``prompt_cache_miss_tokens``.
- openrouter: streams open with ``: OPENROUTER PROCESSING`` comment lines; usage carries ``cost``.
- together, xai, huggingface, fireworks: OpenAI's behaviour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import openai_chat, openai_common, openai_embeddings, openai_models
from byway.mock.brain import Reply
from byway.mock.openai_wire import decode_chat
from byway.mock.problem import Problem

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPENROUTER_COST_PER_TOKEN = "0.000001"  # what the mock reports as OpenRouter's price, USD per token


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    usage_unasked: bool = False  # streams end with usage in the finish chunk whether asked or not
    short_tool_ids: bool = False  # Mistral: ids of 9 alphanumerics
    x_groq: bool = False
    cache_fields: bool = False  # DeepSeek's prompt_cache_hit/miss_tokens
    priced: bool = False  # OpenRouter's usage.cost
    comments: bool = False  # OpenRouter's keep-alive comments

    def usage_extra(self, reply: Reply, usage: dict[str, Any]) -> dict[str, Any]:
        if self.cache_fields:
            usage["prompt_cache_hit_tokens"] = reply.cached_tokens
            usage["prompt_cache_miss_tokens"] = reply.prompt_tokens - reply.cached_tokens
        if self.priced:
            usage["cost"] = float(Decimal(OPENROUTER_COST_PER_TOKEN) * usage["total_tokens"])
        return usage


VENDORS: dict[str, Vendor] = {v.name: v for v in (
    Vendor("mistral", usage_unasked=True, short_tool_ids=True),
    Vendor("groq", usage_unasked=True, x_groq=True),
    Vendor("deepseek", cache_fields=True),
    Vendor("openrouter", priced=True, comments=True),
    Vendor("together"),
    Vendor("xai"),
    Vendor("huggingface"),
    Vendor("fireworks"),
)}


def _chat(vendor: Vendor) -> Handler:
    async def chat_completions(request: web.Request) -> web.StreamResponse:
        openai_common.check_bearer(request)
        chat = decode_chat(await request.read())
        openai_common.check_model(chat.ask.model)
        return await openai_chat.answer(request, chat, model=chat.ask.model, azure=False, vendor=vendor)

    return chat_completions


def routes() -> tuple[tuple[str, str, Handler], ...]:
    table: list[tuple[str, str, Handler]] = []
    for name, vendor in VENDORS.items():
        table += [("POST", f"/{name}/v1/chat/completions", _chat(vendor)),
                  ("POST", f"/{name}/v1/embeddings", openai_embeddings.embeddings),
                  ("GET", f"/{name}/v1/models", openai_models.list_models)]
    return tuple(table)


def render_mistral(problem: Problem, request_id: str) -> web.Response:
    body = problem.family_body or {"object": "error", "message": problem.message,
                                   "type": "invalid_request_error" if problem.status < 500 else "internal_error",
                                   "param": problem.param, "code": problem.code or str(problem.status)}
    return web.Response(status=problem.status, body=msgspec.json.encode(body), content_type="application/json",
                        headers={"x-request-id": request_id, **problem.headers})
