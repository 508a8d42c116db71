"""Cohere: ``POST /cohere/v2/chat`` (JSON, or server-sent events with ``event:`` lines), ``POST
/cohere/v2/embed`` and ``GET /cohere/v1/models``. ``cohere.ClientV2(base_url=URL + "/cohere")`` works unchanged.

- Auth: ``Authorization: Bearer <key>``; no key or a key starting with ``bad`` is a 401 (``invalid api token``).
- A model named ``no-such-…`` is a 404 (``model '…' not found, make sure the correct model ID was used ...``).
- Replies follow ``brain``. Tool calls come with a ``tool_plan`` ("I will use the get_weather tool to answer.")
  and ids of Cohere's shape (``get_weather_9gpb31r7h7mj``); models named ``*reasoning*`` think first.
- Usage: ``billed_units`` are the brain's token counts (the tool plan is billed output too); ``tokens`` add
  Cohere's unbilled preamble (``PREAMBLE_TOKENS`` in, ``SPECIAL_TOKENS`` out); ``cached_tokens`` is the cached
  prefix of that total (``tokens.cached_prefix``: 0 below 1025 tokens).
- Streams: ``message-start``; per content item ``content-start`` / ``content-delta``... / ``content-end``;
  ``tool-plan-delta``...; per call ``tool-call-start`` / ``tool-call-delta``... / ``tool-call-end``;
  ``message-end`` with finish reason and usage; then ``data: [DONE]``.
- Embeddings: deterministic unit vectors (as the OpenAI mock's), 1536 dimensions for ``embed-v4.0`` (or
  ``output_dimension``: 256, 512, 1024 or 1536), 1024 for ``embed-*-v3.0``, 384 for ``*-light-*``; billed
  input is ``ceil(len(text)/4)`` per text. ``input_type`` is required; at most 96 texts.
"""

from __future__ import annotations

import base64
import re
import sys
from array import array
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import tokens
from byway.mock.brain import Reply, respond
from byway.mock.cohere_errors import answer_id
from byway.mock.cohere_wire import CohereChat, decode_chat, decode_json, invalid
from byway.mock.openai_embeddings import vector
from byway.mock.problem import Problem
from byway.mock.sse import EventStream, done_event, named_event
from byway.mock.state import fault_of, request_id_of, state_of

MISSING_MODEL_PREFIX = "no-such-"
PREAMBLE_TOKENS = 500
SPECIAL_TOKENS = 2
ARGUMENT_FRAGMENT = 5
MAX_TEXTS = 96
_PIECE = re.compile(r"\s*\S+|\s+")
_FINISH = {"tool_calls": "TOOL_CALL", "length": "MAX_TOKENS"}
_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
_EMBEDDING_TYPES = ("float", "int8", "uint8", "base64")  # the packed binary kinds are not imitated
_V4_DIMENSIONS = (256, 512, 1024, 1536)
MODELS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("command-a-03-2025", ("chat",), 256000),
    ("command-a-reasoning-08-2025", ("chat",), 256000),
    ("command-r7b-12-2024", ("chat",), 128000),
    ("command-r-plus-08-2024", ("chat",), 128000),
    ("command-r-08-2024", ("chat",), 128000),
    ("embed-v4.0", ("embed",), 128000),
    ("embed-english-v3.0", ("embed",), 512),
    ("embed-multilingual-light-v3.0", ("embed",), 512),
    ("rerank-v3.5", ("rerank",), 4096),
)


def check_bearer(request: web.Request) -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Problem(401, "no api key supplied")
    if key.startswith("bad"):
        raise Problem(401, "invalid api token")


def check_model(model: str) -> None:
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f"model '{model}' not found, make sure the correct model ID was used and that you have "
                           "access to the model.")


def headers(request: web.Request) -> dict[str, str]:
    return {"x-debug-trace-id": request_id_of(request), "num_chars": "0", "num_tokens": "0"}


# -- chat ------------------------------------------------------------------------------------------------------


async def chat(request: web.Request) -> web.StreamResponse:
    check_bearer(request)
    chat_request = decode_chat(await request.read())
    check_model(chat_request.ask.model)
    reply = respond(chat_request.ask)
    ids = state_of(request).ids
    call_ids = [f"{call.name}_{ids.make('', 12).lower()}" for call in reply.tool_calls]
    message_id = answer_id(request_id_of(request))
    if not chat_request.stream:
        body = answer(reply, chat_request, message_id, call_ids)
        return web.Response(body=msgspec.json.encode(body), content_type="application/json", headers=headers(request))
    stream = EventStream(request, fault_of(request), headers(request))
    await stream.open()
    for event in events(reply, message_id, call_ids):
        await stream.send(event)
    await stream.send(done_event())
    return await stream.close()


def tool_plan(reply: Reply) -> str:
    names = list(dict.fromkeys(call.name for call in reply.tool_calls))
    return f"I will use the {' and '.join(names)} tool{'s' if len(names) > 1 else ''} to answer."


def finish_reason(reply: Reply) -> str:
    if reply.stop_sequence is not None:
        return "STOP_SEQUENCE"
    return _FINISH.get(reply.finish, "COMPLETE")


def usage(reply: Reply) -> dict[str, Any]:
    billed_out = reply.completion_tokens
    if reply.tool_calls:
        billed_out += tokens.text_tokens(len(tool_plan(reply)))
    raw_in = reply.prompt_tokens + PREAMBLE_TOKENS
    return {
        "billed_units": {"input_tokens": reply.prompt_tokens, "output_tokens": billed_out},
        "tokens": {"input_tokens": raw_in, "output_tokens": billed_out + SPECIAL_TOKENS},
        "cached_tokens": tokens.cached_prefix(raw_in),
    }


def _calls(reply: Reply, call_ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call_id, call in zip(call_ids, reply.tool_calls, strict=True)]


def answer(reply: Reply, chat_request: CohereChat, message_id: str, call_ids: list[str]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if reply.tool_calls:
        message["tool_plan"] = tool_plan(reply)
        message["tool_calls"] = _calls(reply, call_ids)
    else:
        content: list[dict[str, Any]] = []
        if reply.reasoning:
            content.append({"type": "thinking", "thinking": reply.reasoning})
        content.append({"type": "text", "text": reply.text})
        message["content"] = content
    return {"id": message_id, "message": message, "finish_reason": finish_reason(reply), "usage": usage(reply)}


def _event(name: str, payload: dict[str, Any]) -> bytes:
    return named_event(name, {"type": name, **payload})


def events(reply: Reply, message_id: str, call_ids: list[str]) -> Iterator[bytes]:
    """The streamed event sequence, each event already encoded."""
    yield _event("message-start", {"id": message_id, "delta": {"message": {
        "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}})
    if reply.tool_calls:
        for piece in _PIECE.findall(tool_plan(reply)):
            yield _event("tool-plan-delta", {"delta": {"message": {"tool_plan": piece}}})
        for index, call in enumerate(_calls(reply, call_ids)):
            arguments = call["function"]["arguments"]
            opening = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            yield _event("tool-call-start", {"index": index, "delta": {"message": {"tool_calls": opening}}})
            for at in range(0, len(arguments), ARGUMENT_FRAGMENT):
                fragment = {"function": {"arguments": arguments[at:at + ARGUMENT_FRAGMENT]}}
                yield _event("tool-call-delta", {"index": index, "delta": {"message": {"tool_calls": fragment}}})
            yield _event("tool-call-end", {"index": index})
    else:
        items = [("thinking", reply.reasoning)] if reply.reasoning else []
        items.append(("text", reply.text))
        for index, (kind, text) in enumerate(items):
            yield _event("content-start", {"index": index, "delta": {"message": {"content": {"type": kind, kind: ""}}}})
            for piece in _PIECE.findall(text):
                yield _event("content-delta", {"index": index, "delta": {"message": {"content": {kind: piece}}}})
            yield _event("content-end", {"index": index})
    yield _event("message-end", {"delta": {"finish_reason": finish_reason(reply), "usage": usage(reply)}})


# -- embeddings ------------------------------------------------------------------------------------------------


def default_dimensions(model: str) -> int:
    if "light" in model:
        return 384
    if model.startswith("embed-v4"):
        return 1536
    return 1024


async def embed(request: web.Request) -> web.Response:
    check_bearer(request)
    body = decode_json(await request.read())
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model must be a non-empty string")
    check_model(model)
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or len(texts) > MAX_TEXTS or not all(
            isinstance(t, str) for t in texts):
        raise invalid(f"texts must be a list of 1 to {MAX_TEXTS} strings")
    if body.get("input_type") not in _INPUT_TYPES:
        raise invalid("valid input_type must be provided with the provided model")
    kinds = body.get("embedding_types") or ["float"]
    if not isinstance(kinds, list) or not all(k in _EMBEDDING_TYPES for k in kinds):
        raise invalid(f"embedding_types must be a list of {', '.join(_EMBEDDING_TYPES)}")
    dimensions = _dimensions(body.get("output_dimension"), model)
    vectors = [vector(model, text, dimensions) for text in texts]
    billed = sum(tokens.text_tokens(len(text)) for text in texts)
    answer_body = {"id": answer_id(request_id_of(request)), "embeddings": {k: _as(k, vectors) for k in kinds},
                   "texts": texts, "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": billed}},
                   "response_type": "embeddings_by_type"}
    return web.Response(body=msgspec.json.encode(answer_body), content_type="application/json",
                        headers=headers(request))


def _dimensions(value: Any, model: str) -> int:
    if value is None:
        return default_dimensions(model)
    if not model.startswith("embed-v4"):
        raise invalid("output_dimension is only supported by embed-v4.0 and newer models")
    if value not in _V4_DIMENSIONS:
        raise invalid(f"output_dimension must be one of {', '.join(map(str, _V4_DIMENSIONS))}")
    return int(value)


def _as(kind: str, vectors: list[array]) -> list[Any]:
    """``float`` lists; int8 scaled to -128..127, uint8 to 0..255; base64 of the little-endian float32 bytes."""
    if kind == "float":
        return [vec.tolist() for vec in vectors]
    if kind == "int8":
        return [[max(-128, min(127, round(x * 127))) for x in vec] for vec in vectors]
    if kind == "uint8":
        return [[max(0, min(255, round((x + 1) * 127.5))) for x in vec] for vec in vectors]
    return [base64.b64encode(_little_endian(vec).tobytes()).decode() for vec in vectors]


def _little_endian(vec: array) -> array:
    if sys.byteorder == "little":
        return vec
    swapped = array("f", vec)
    swapped.byteswap()
    return swapped


# -- models ----------------------------------------------------------------------------------------------------


async def list_models(request: web.Request) -> web.Response:
    check_bearer(request)
    endpoint = request.query.get("endpoint")
    try:
        page_size = int(request.query.get("page_size", "20"))
    except ValueError:
        raise invalid("page_size must be an integer") from None
    chosen = [m for m in MODELS if endpoint is None or endpoint in m[1]]
    models = [{"name": name, "endpoints": list(endpoints), "finetuned": False, "context_length": context,
               "tokenizer_url": f"https://storage.googleapis.com/cohere-public/tokenizers/{name}.json",
               "default_endpoints": [], "features": ["tools", "strict_tools", "json_mode", "json_schema"],
               "is_deprecated": False}
              for name, endpoints, context in chosen[:max(1, page_size)]]
    body = {"models": models, "next_page_token": "page-2" if len(chosen) > page_size else ""}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", headers=headers(request))
