"""OpenAI Chat Completions: ``POST /openai/v1/chat/completions``, as JSON or as an SSE stream.

Also used by the Azure routes (``azure=True``): Azure adds content-filter results and opens its
streams with a chunk whose ``choices`` is empty.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from byway.mock import openai_common
from byway.mock.brain import Reply, respond
from byway.mock.openai_wire import ChatRequest, decode_chat
from byway.mock.sse import EventStream, data_event, done_event
from byway.mock.state import fault_of, state_of

if TYPE_CHECKING:
    from byway.mock.vendors import Vendor

_PIECE = re.compile(r"\s*\S+|\s+")
ARGUMENT_FRAGMENT = 5
_PADDING = "Zq3vR8tLw1XbN6kP"
_SAFE = {"filtered": False, "severity": "safe"}
CONTENT_FILTER = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
PROMPT_FILTER = [{"prompt_index": 0, "content_filter_results": CONTENT_FILTER}]


async def chat_completions(request: web.Request) -> web.StreamResponse:
    openai_common.check_bearer(request)
    chat = decode_chat(await request.read())
    openai_common.check_model(chat.ask.model)
    return await answer(request, chat, model=chat.ask.model, azure=False)


async def answer(request: web.Request, chat: ChatRequest, *, model: str, azure: bool,
                 vendor: Vendor | None = None) -> web.StreamResponse:
    """The completion for a checked request, JSON or streamed; ``vendor`` adds an OpenAI-compatible
    vendor's departures (see ``vendors``)."""
    reply = respond(chat.ask)
    ids = state_of(request).ids
    new_id = (lambda: ids.make("", 9)) if vendor and vendor.short_tool_ids else ids.openai_call
    call_ids = [[new_id() for _ in reply.tool_calls] for _ in range(chat.n)]
    base: dict[str, Any] = {"id": ids.chat_completion(), "created": int(time.time()), "model": model}
    headers = openai_common.headers(request)
    if not chat.stream:
        body = completion(reply, base, call_ids, azure=azure)
        if vendor:
            vendor.usage_extra(reply, body["usage"])
        return web.Response(body=msgspec.json.encode(body), content_type="application/json", headers=headers)
    stream = EventStream(request, fault_of(request), headers)
    await stream.open()
    if vendor and vendor.comments:
        await stream.send(b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n")
    if azure:
        await stream.send(data_event({"choices": [], "created": 0, "id": "", "model": "", "object": "",
                                      "prompt_filter_results": PROMPT_FILTER}))
    for k, chunk in enumerate(chunks(reply, base, call_ids, include_usage=chat.include_usage, azure=azure,
                                     vendor=vendor)):
        if chat.obfuscate and not azure:
            chunk["obfuscation"] = _PADDING[:1 + (k * 7) % 15]
        await stream.send(data_event(chunk))
    await stream.send(done_event())
    return await stream.close()


def usage(reply: Reply, n: int = 1) -> dict[str, Any]:
    completion_tokens = reply.completion_tokens * n
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": reply.prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens * n, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def completion(reply: Reply, base: dict[str, Any], call_ids: list[list[str]], *, azure: bool) -> dict[str, Any]:
    choices = []
    for index, ids in enumerate(call_ids):
        message: dict[str, Any] = {"role": "assistant", "content": None if reply.tool_calls else reply.text,
                                   "refusal": None, "annotations": []}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call_id, call in zip(ids, reply.tool_calls, strict=True)]
        choice: dict[str, Any] = {"index": index, "message": message, "logprobs": None,
                                  "finish_reason": reply.finish}
        if azure:
            choice["content_filter_results"] = CONTENT_FILTER
        choices.append(choice)
    body = {**base, "object": "chat.completion", "choices": choices, "usage": usage(reply, len(call_ids)),
            "service_tier": "default", "system_fingerprint": "fp_mock"}
    if azure:
        body["prompt_filter_results"] = PROMPT_FILTER
    return body


def chunks(reply: Reply, base: dict[str, Any], call_ids: list[list[str]], *, include_usage: bool,
           azure: bool, vendor: Vendor | None = None) -> Iterator[dict[str, Any]]:
    """The stream's chunks: per choice a role chunk, content or tool-call fragments, a finish chunk;
    then the usage chunk (empty ``choices``) when asked for. A vendor that reports usage unasked puts
    it in the last finish chunk instead."""
    unasked = vendor is not None and vendor.usage_unasked and not include_usage
    head = {**base, "object": "chat.completion.chunk", "service_tier": "default", "system_fingerprint": "fp_mock"}
    tail = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        if azure:
            choice["content_filter_results"] = {} if finish else CONTENT_FILTER
        return {**head, "choices": [choice], **tail}

    for index, ids in enumerate(call_ids):
        if not reply.tool_calls:
            yield chunk(index, {"role": "assistant", "content": "", "refusal": None})
            for piece in _PIECE.findall(reply.text):
                yield chunk(index, {"content": piece})
        for k, (call_id, call) in enumerate(zip(ids, reply.tool_calls, strict=True)):
            opening: dict[str, Any] = {"tool_calls": [{"index": k, "id": call_id, "type": "function",
                                                        "function": {"name": call.name, "arguments": ""}}]}
            if k == 0:
                opening = {"role": "assistant", "content": None, **opening, "refusal": None}
            yield chunk(index, opening)
            args = call.arguments
            for at in range(0, len(args), ARGUMENT_FRAGMENT):
                fragment = args[at:at + ARGUMENT_FRAGMENT]
                yield chunk(index, {"tool_calls": [{"index": k, "function": {"arguments": fragment}}]})
        last = chunk(index, {}, reply.finish)
        if unasked and index == len(call_ids) - 1:
            last["usage"] = usage(reply, len(call_ids))
            if vendor is not None and vendor.x_groq:
                last["x_groq"] = {"id": "req_" + base["id"][-20:], "usage": last["usage"]}
        yield last
    if include_usage:
        tally = usage(reply, len(call_ids))
        yield {**head, "choices": [], "usage": vendor.usage_extra(reply, tally) if vendor else tally}
