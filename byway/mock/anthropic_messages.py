"""Anthropic Messages: ``POST /anthropic/v1/messages`` (JSON or the SSE event sequence),
``POST /anthropic/v1/messages/count_tokens`` and ``GET /anthropic/v1/models[/{model}]``.

Requests need ``x-api-key`` (or a bearer token) and ``anthropic-version``. Usage follows
``tokens``; when the request marks blocks with ``cache_control`` and the prompt is long, the
cached prefix is reported as ``cache_read_input_tokens``, half of the remaining prompt (rounded
down) as ``cache_creation_input_tokens``, and ``input_tokens`` is what is left, as Anthropic
counts it (the three add up to the whole prompt).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import web

from byway.mock.anthropic_wire import MessagesRequest, decode_messages
from byway.mock.brain import Reply, prompt_tokens, respond
from byway.mock.problem import Problem
from byway.mock.sse import EventStream, named_event
from byway.mock.state import fault_of, request_id_of, state_of

MISSING_MODEL_PREFIX = "no-such-"
INPUT_FRAGMENT = 5
_PIECE = re.compile(r"\s*\S+|\s+")
_STOP_REASONS = {"tool_calls": "tool_use", "length": "max_tokens"}
_PING = b'event: ping\ndata: {"type": "ping"}\n\n'
MODELS = (
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-14T00:00:00Z"),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
)


def check_request(request: web.Request) -> None:
    """Auth (``x-api-key`` or bearer; keys starting with ``bad`` are refused), then ``anthropic-version``."""
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
        if not key:
            raise Problem(401, "x-api-key header is required")
    if key.startswith("bad"):
        raise Problem(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        raise Problem(400, "anthropic-version: header is required")


def check_model(model: str) -> None:
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f"model: {model}")


def headers(request: web.Request) -> dict[str, str]:
    return {"request-id": request_id_of(request), "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "3999", "anthropic-ratelimit-tokens-limit": "400000",
            "anthropic-ratelimit-tokens-remaining": "399000"}


async def messages(request: web.Request) -> web.StreamResponse:
    check_request(request)
    req = decode_messages(await request.read())
    check_model(req.ask.model)
    reply = respond(req.ask)
    ids = state_of(request).ids
    message_id = ids.anthropic_message()
    call_ids = [ids.anthropic_tool_use() for _ in reply.tool_calls]
    if not req.stream:
        body = message(reply, req, message_id, call_ids)
        return web.Response(body=msgspec.json.encode(body), content_type="application/json", headers=headers(request))
    stream = EventStream(request, fault_of(request), headers(request))
    await stream.open()
    for event in events(reply, req, message_id, call_ids):
        await stream.send(event)
    return await stream.close()


async def count_tokens(request: web.Request) -> web.Response:
    check_request(request)
    req = decode_messages(await request.read(), count_only=True)
    check_model(req.ask.model)
    return web.Response(body=msgspec.json.encode({"input_tokens": prompt_tokens(req.ask)}),
                        content_type="application/json", headers=headers(request))


def _model(entry: tuple[str, str, str]) -> dict[str, str]:
    return {"type": "model", "id": entry[0], "display_name": entry[1], "created_at": entry[2]}


async def list_models(request: web.Request) -> web.Response:
    check_request(request)
    data = [_model(m) for m in MODELS]
    body = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", headers=headers(request))


async def get_model(request: web.Request) -> web.Response:
    check_request(request)
    name = request.match_info["model"]
    check_model(name)
    entry = next((m for m in MODELS if m[0] == name), (name, name, "2025-01-01T00:00:00Z"))
    return web.Response(body=msgspec.json.encode(_model(entry)), content_type="application/json",
                        headers=headers(request))


def usage(reply: Reply, uses_cache: bool) -> dict[str, Any]:
    read = reply.cached_tokens if uses_cache else 0
    written = (reply.prompt_tokens - read) // 2 if read else 0
    return {"input_tokens": reply.prompt_tokens - read - written, "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
            "output_tokens": reply.completion_tokens, "service_tier": "standard"}


def signature(thinking: str) -> str:
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest() * 2).decode()


def stop_reason(reply: Reply) -> str:
    if reply.stop_sequence is not None:
        return "stop_sequence"
    return _STOP_REASONS.get(reply.finish, "end_turn")


def blocks(reply: Reply, call_ids: list[str]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": signature(reply.reasoning)})
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    for call_id, call in zip(call_ids, reply.tool_calls, strict=True):
        content.append({"type": "tool_use", "id": call_id, "name": call.name, "input": call.input})
    return content


def message(reply: Reply, req: MessagesRequest, message_id: str, call_ids: list[str]) -> dict[str, Any]:
    return {"id": message_id, "type": "message", "role": "assistant", "model": req.ask.model,
            "content": blocks(reply, call_ids), "stop_reason": stop_reason(reply),
            "stop_sequence": reply.stop_sequence, "usage": usage(reply, req.uses_cache)}


def events(reply: Reply, req: MessagesRequest, message_id: str, call_ids: list[str]) -> Iterator[bytes]:
    """The streamed event sequence, each event already encoded."""
    full = usage(reply, req.uses_cache)
    start_usage = {**full, "output_tokens": 1}
    yield named_event("message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": req.ask.model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
    content = blocks(reply, call_ids)
    if not content:
        yield _PING
    for index, block in enumerate(content):
        yield from _block_events(index, block)
    final_usage = {key: full[key] for key in ("input_tokens", "cache_creation_input_tokens",
                                              "cache_read_input_tokens", "output_tokens")}
    yield named_event("message_delta", {"type": "message_delta", "delta": {
        "stop_reason": stop_reason(reply), "stop_sequence": reply.stop_sequence}, "usage": final_usage})
    yield named_event("message_stop", {"type": "message_stop"})


def _block_events(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    kind = block["type"]
    if kind == "thinking":
        opening: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _PIECE.findall(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _PIECE.findall(block["text"])]
    else:
        opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        args = msgspec.json.encode(block["input"]).decode()
        fragments = [""] + [args[at:at + INPUT_FRAGMENT] for at in range(0, len(args), INPUT_FRAGMENT)]
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in fragments]
    yield named_event("content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": opening})
    if index == 0:
        yield _PING
    for delta in deltas:
        yield named_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
    yield named_event("content_block_stop", {"type": "content_block_stop", "index": index})
