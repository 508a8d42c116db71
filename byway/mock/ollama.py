"""Ollama: ``POST /ollama/api/chat`` (JSON, or an NDJSON stream, the default), ``POST /ollama/api/embed``,
``GET /ollama/api/tags``, and the OpenAI-compatible ``POST /ollama/v1/chat/completions`` (the OpenAI mock's
answers, without its key check, with errors in OpenAI's shape) and ``GET /ollama/v1/models``.

- Auth: none needed, as on a local server; a bearer key starting with ``bad`` is a 401 ``unauthorized``
  (Ollama's cloud). A model named ``no-such-…`` is a 404 ``model "…" not found, try pulling it first``.
- Replies follow ``brain``; ``think`` turns on reasoning (``message.thinking``). Tool calls arrive whole, with
  ``arguments`` as an object and an ``index``, and ``done_reason`` stays ``stop`` (Ollama has no tool-call
  reason). ``options.num_predict`` is the token limit (``done_reason: length``), ``options.stop`` the stops.
- Usage is in the final object only: ``prompt_eval_count`` and ``eval_count`` (the brain's counts), with
  durations in nanoseconds. ``created_at`` is RFC 3339 with nanoseconds.
- Streams: one line per thinking piece, per text piece, one for all tool calls, then the ``done`` line.
  Faults: ``cut_after`` and ``stall_ms`` as everywhere; ``error_after=N`` ends the stream after N lines with
  an ``{"error": "..."}`` line under status 200, as Ollama reports a failure mid-stream.
- Embeddings: deterministic unit vectors (as the OpenAI mock's) of 768 dimensions (384 for ``all-minilm``,
  1024 for ``mxbai-embed-large``) or ``dimensions``; ``prompt_eval_count`` is ``ceil(len(text)/4)`` per input.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import openai_chat, openai_common, openai_errors, openai_wire, tokens
from byway.mock.brain import Reply, respond
from byway.mock.ollama_wire import bad, decode_chat, decode_json
from byway.mock.openai_embeddings import vector
from byway.mock.problem import Problem
from byway.mock.sse import EventStream
from byway.mock.state import fault_of, request_id_of

MISSING_MODEL_PREFIX = "no-such-"
NDJSON = "application/x-ndjson"
STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
NANOS_PER_TOKEN = 20_000_000
LOAD_NANOS = 4_000_000
_PIECE = re.compile(r"\s*\S+|\s+")
MODELS = (
    ("llama3.1:8b", "llama", "8.0B", 4920753328),
    ("qwen2.5:7b", "qwen2", "7.6B", 4683087332),
    ("qwen3:0.6b", "qwen3", "751.63M", 522653767),
    ("gpt-oss:20b", "gptoss", "20.9B", 13780173734),
    ("nomic-embed-text:latest", "nomic-bert", "137M", 274302450),
    ("all-minilm:latest", "bert", "23M", 45960996),
)
MODIFIED = 1748772000  # when the listed models were pulled
MODIFIED_AT = "2025-06-01T10:00:00.000000000Z"
_EMBED_DIMENSIONS = {"all-minilm": 384, "mxbai-embed-large": 1024}


def check_auth(request: web.Request) -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip().startswith("bad"):
        raise Problem(401, "unauthorized")


def check_model(model: str) -> None:
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f'model "{model}" not found, try pulling it first')


def created_at() -> str:
    """Now, as Ollama writes it: RFC 3339 with nanoseconds, UTC."""
    nanos = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(nanos // 1_000_000_000)) + f".{nanos % 1_000_000_000:09d}Z"


# -- chat ------------------------------------------------------------------------------------------------------


async def chat(request: web.Request) -> web.StreamResponse:
    check_auth(request)
    chat_request = decode_chat(await request.read())
    model = chat_request.ask.model
    check_model(model)
    if chat_request.empty:
        body = {"model": model, "created_at": created_at(), "message": {"role": "assistant", "content": ""},
                "done_reason": "load", "done": True}
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")
    reply = respond(chat_request.ask)
    if not chat_request.stream:
        return web.Response(body=msgspec.json.encode(answer(reply, model)), content_type="application/json")
    fault = fault_of(request)
    stream = EventStream(request, fault, {"Content-Type": NDJSON})
    await stream.open()
    error_after = fault.error_after if fault is not None else None
    for sent, line in enumerate(lines(reply, model)):
        if error_after is not None and sent >= error_after:
            await stream.send(msgspec.json.encode({"error": STREAM_ERROR}) + b"\n")
            break
        await stream.send(msgspec.json.encode(line) + b"\n")
    return await stream.close()


def _calls(reply: Reply) -> list[dict[str, Any]]:
    return [{"function": {"index": k, "name": call.name, "arguments": call.input}}
            for k, call in enumerate(reply.tool_calls)]


def metrics(reply: Reply) -> dict[str, Any]:
    prompt_nanos = reply.prompt_tokens * NANOS_PER_TOKEN // 10
    eval_nanos = reply.completion_tokens * NANOS_PER_TOKEN
    return {"total_duration": LOAD_NANOS + prompt_nanos + eval_nanos, "load_duration": LOAD_NANOS,
            "prompt_eval_count": reply.prompt_tokens, "prompt_eval_duration": prompt_nanos,
            "eval_count": reply.completion_tokens, "eval_duration": eval_nanos}


def done_reason(reply: Reply) -> str:
    return "length" if reply.finish == "length" else "stop"


def answer(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning:
        message["thinking"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = _calls(reply)
    return {"model": model, "created_at": created_at(), "message": message, "done_reason": done_reason(reply),
            "done": True, **metrics(reply)}


def lines(reply: Reply, model: str) -> Iterator[dict[str, Any]]:
    """The stream's objects, one per NDJSON line."""

    def line(**message: Any) -> dict[str, Any]:
        return {"model": model, "created_at": created_at(), "message": {"role": "assistant", "content": "",
                                                                         **message}, "done": False}

    for piece in _PIECE.findall(reply.reasoning):
        yield line(thinking=piece)
    for piece in _PIECE.findall(reply.text):
        yield line(content=piece)
    if reply.tool_calls:
        yield line(tool_calls=_calls(reply))
    yield {"model": model, "created_at": created_at(), "message": {"role": "assistant", "content": ""},
           "done_reason": done_reason(reply), "done": True, **metrics(reply)}


# -- the OpenAI-compatible API ---------------------------------------------------------------------------------


async def openai_chat_completions(request: web.Request) -> web.StreamResponse:
    """Ollama's ``/v1/chat/completions``: the OpenAI mock's answer; no key is needed, errors are OpenAI's, and
    the tool calls of a whole answer carry their ``index`` (as Ollama's do)."""
    try:
        chat_request = openai_wire.decode_chat(await request.read())
        openai_common.check_model(chat_request.ask.model)
        response = await openai_chat.answer(request, chat_request, model=chat_request.ask.model, azure=False)
    except Problem as problem:
        return openai_errors.render(problem, request_id_of(request))
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        body = msgspec.json.decode(response.body)
        for choice in body["choices"]:
            for index, call in enumerate(choice["message"].get("tool_calls") or ()):
                call["index"] = index
        response.body = msgspec.json.encode(body)
    return response


async def openai_models(request: web.Request) -> web.Response:
    """Ollama's ``/v1/models``: the local models in OpenAI's list shape."""
    data = [{"id": name, "object": "model", "created": MODIFIED, "owned_by": "library"} for name, *_ in MODELS]
    return web.Response(body=msgspec.json.encode({"object": "list", "data": data}), content_type="application/json")


# -- embeddings and models -------------------------------------------------------------------------------------


def embed_dimensions(model: str) -> int:
    return _EMBED_DIMENSIONS.get(model.split(":", 1)[0], 768)


async def embed(request: web.Request) -> web.Response:
    check_auth(request)
    body = decode_json(await request.read())
    if not isinstance(body, dict):
        raise bad("json: cannot unmarshal non-object into Go value of type api.EmbedRequest")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model is required")
    check_model(model)
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(text, str) for text in inputs):
        raise bad("invalid input type")
    dimensions = body.get("dimensions")
    size = embed_dimensions(model)
    if dimensions is not None:
        if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= size:
            raise bad(f"invalid dimensions: {dimensions!r}, the model has {size}")
        size = dimensions
    vectors = [vector(model, text, size).tolist() for text in inputs]
    counted = sum(tokens.text_tokens(len(text)) for text in inputs)
    answer_body = {"model": model, "embeddings": vectors, "total_duration": LOAD_NANOS + counted * 1000,
                   "load_duration": LOAD_NANOS, "prompt_eval_count": counted}
    return web.Response(body=msgspec.json.encode(answer_body), content_type="application/json")


async def tags(request: web.Request) -> web.Response:
    check_auth(request)
    models = [{"name": name, "model": name, "modified_at": MODIFIED_AT, "size": size,
               "digest": hashlib.sha256(name.encode()).hexdigest(),
               "details": {"parent_model": "", "format": "gguf", "family": family, "families": [family],
                           "parameter_size": params, "quantization_level": "Q4_K_M"}}
              for name, family, params, size in MODELS]
    return web.Response(body=msgspec.json.encode({"models": models}), content_type="application/json")
