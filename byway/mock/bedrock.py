"""AWS Bedrock: ``POST /bedrock/model/{id}/converse``, ``/converse-stream`` (the binary event stream),
``/invoke`` (Titan and Cohere embeddings) and the control plane's ``GET /bedrock/foundation-models``.

boto3 works unchanged with ``endpoint_url=URL + "/bedrock"`` for both the ``bedrock-runtime`` and the
``bedrock`` clients.

- Credentials (SigV4 or a bearer API key) and the ``no-such-`` unknown-model rule: ``bedrock_http``;
  the request's checks: ``bedrock_wire``; embeddings (``invoke``): ``bedrock_embeddings``.
- Replies follow ``brain``; usage: ``inputTokens`` is the prompt without cached parts (with a ``cachePoint``
  in the request and a long prompt, ``cacheReadInputTokens`` is the cached prefix and
  ``cacheWriteInputTokens`` half the rest), and ``totalTokens`` adds everything up, as Bedrock counts.
- Stream events carry Bedrock's ``p`` padding field; usage comes only in the final ``metadata`` event.
- ``additionalModelResponseFieldPaths: ["/stop_sequence"]`` is answered with
  ``additionalModelResponseFields: {"stop_sequence": ...}`` (the matched sequence or null), as Claude does.
- Every error has Bedrock's shape (``bedrock_errors``); faults' ``cut_after`` and ``stall_ms`` apply to the
  event stream.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import eventstream
from byway.mock.anthropic_messages import signature
from byway.mock.bedrock_embeddings import invoke as invoke  # the route table names it here, with its siblings
from byway.mock.bedrock_http import bare, check_auth, check_model, headers, json_answer
from byway.mock.bedrock_wire import ConverseRequest, decode_converse
from byway.mock.brain import Reply, respond
from byway.mock.sse import EventStream
from byway.mock.state import fault_of, state_of

EVENT_STREAM = "application/vnd.amazon.eventstream"
STOP_SEQUENCE_PATH = "/stop_sequence"
INPUT_FRAGMENT = 8
_PIECE = re.compile(r"\s*\S+|\s+")
_PADDING = string.ascii_lowercase + string.ascii_uppercase + string.digits
_STOP_REASONS = {"tool_calls": "tool_use", "length": "max_tokens"}
MODELS = (  # (modelId, provider, input modalities, output modalities, inference types)
    ("amazon.nova-micro-v1:0", "Amazon", ["TEXT"], ["TEXT"], ["ON_DEMAND", "INFERENCE_PROFILE"]),
    ("amazon.nova-lite-v1:0", "Amazon", ["TEXT", "IMAGE", "VIDEO"], ["TEXT"], ["ON_DEMAND", "INFERENCE_PROFILE"]),
    ("amazon.nova-pro-v1:0", "Amazon", ["TEXT", "IMAGE", "VIDEO"], ["TEXT"], ["ON_DEMAND", "INFERENCE_PROFILE"]),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "Anthropic", ["TEXT"], ["TEXT"], ["ON_DEMAND", "INFERENCE_PROFILE"]),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", ["TEXT", "IMAGE"], ["TEXT"], ["INFERENCE_PROFILE"]),
    ("anthropic.claude-3-sonnet-20240229-v1:0:28k", "Anthropic", ["TEXT", "IMAGE"], ["TEXT"], ["PROVISIONED"]),
    ("meta.llama3-1-8b-instruct-v1:0", "Meta", ["TEXT"], ["TEXT"], ["ON_DEMAND"]),
    ("amazon.titan-embed-text-v2:0", "Amazon", ["TEXT"], ["EMBEDDING"], ["ON_DEMAND"]),
    ("cohere.embed-english-v3", "Cohere", ["TEXT"], ["EMBEDDING"], ["ON_DEMAND"]),
)


# -- converse ----------------------------------------------------------------------------------------------------


async def converse(request: web.Request) -> web.Response:
    req, reply, call_ids = await _answer(request)
    body = {"output": {"message": {"role": "assistant", "content": blocks(reply, call_ids)}},
            "stopReason": stop_reason(reply), "usage": usage(reply, req), "metrics": {"latencyMs": 12}}
    fields = response_fields(reply, req)
    if fields is not None:
        body["additionalModelResponseFields"] = fields
    return json_answer(request, body)


async def converse_stream(request: web.Request) -> web.StreamResponse:
    req, reply, call_ids = await _answer(request)
    stream = EventStream(request, fault_of(request), {**headers(request), "Content-Type": EVENT_STREAM})
    await stream.open()
    for message in events(reply, req, call_ids):
        await stream.send(message)
    return await stream.close()


async def _answer(request: web.Request) -> tuple[ConverseRequest, Reply, list[str]]:
    check_auth(request)
    model = request.match_info["model"]
    check_model(model)
    req = decode_converse(await request.read(), model)
    reply = respond(req.ask)
    ids = state_of(request).ids
    return req, reply, [ids.make("tooluse_", 22) for _ in reply.tool_calls]


def stop_reason(reply: Reply) -> str:
    if reply.stop_sequence is not None:
        return "stop_sequence"
    return _STOP_REASONS.get(reply.finish, "end_turn")


def response_fields(reply: Reply, req: ConverseRequest) -> dict[str, Any] | None:
    """``additionalModelResponseFields`` for the paths asked: Claude's ``/stop_sequence`` is the one imitated."""
    if STOP_SEQUENCE_PATH not in req.response_paths:
        return None
    return {"stop_sequence": reply.stop_sequence}


def usage(reply: Reply, req: ConverseRequest) -> dict[str, int]:
    """Bedrock's usage: the cache fields come with a ``cachePoint`` in the request, and always from Claude."""
    read = reply.cached_tokens if req.uses_cache else 0
    written = (reply.prompt_tokens - read) // 2 if read else 0
    out: dict[str, int] = {"inputTokens": reply.prompt_tokens - read - written, "outputTokens": reply.completion_tokens,
                           "totalTokens": reply.prompt_tokens + reply.completion_tokens}
    if req.uses_cache or bare(req.ask.model).startswith("anthropic."):
        out["cacheReadInputTokens"] = read
        out["cacheWriteInputTokens"] = written
    return out


def blocks(reply: Reply, call_ids: list[str]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"reasoningContent": {"reasoningText": {"text": reply.reasoning,
                                                               "signature": signature(reply.reasoning)}}})
    if reply.text:
        content.append({"text": reply.text})
    for call_id, call in zip(call_ids, reply.tool_calls, strict=True):
        content.append({"toolUse": {"toolUseId": call_id, "name": call.name, "input": call.input}})
    return content


def _padded(payload: dict[str, Any], seq: int) -> dict[str, Any]:
    """``payload`` with Bedrock's ``p`` padding, a run of the alphabet whose length varies event to event."""
    payload["p"] = _PADDING[:1 + (seq * 37 + 11) % len(_PADDING)]
    return payload


def events(reply: Reply, req: ConverseRequest, call_ids: list[str]) -> Iterator[bytes]:
    """The streamed event messages, each already encoded."""
    seq = 0

    def emit(kind: str, payload: dict[str, Any]) -> bytes:
        nonlocal seq
        seq += 1
        return eventstream.event(kind, _padded(payload, seq))

    yield emit("messageStart", {"role": "assistant"})
    for index, block in enumerate(blocks(reply, call_ids)):
        for delta in _deltas(block):
            if "start" in delta:
                yield emit("contentBlockStart", {"contentBlockIndex": index, "start": delta["start"]})
            else:
                yield emit("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})
        yield emit("contentBlockStop", {"contentBlockIndex": index})
    stop: dict[str, Any] = {"stopReason": stop_reason(reply)}
    fields = response_fields(reply, req)
    if fields is not None:
        stop["additionalModelResponseFields"] = fields
    yield emit("messageStop", stop)
    yield emit("metadata", {"usage": usage(reply, req), "metrics": {"latencyMs": 12}})


def _deltas(block: dict[str, Any]) -> list[dict[str, Any]]:
    if "text" in block:
        return [{"text": piece} for piece in _PIECE.findall(block["text"])]
    if "reasoningContent" in block:
        text = block["reasoningContent"]["reasoningText"]
        out: list[dict[str, Any]] = [{"reasoningContent": {"text": p}} for p in _PIECE.findall(text["text"])]
        return [*out, {"reasoningContent": {"signature": text["signature"]}}]
    use = block["toolUse"]
    args = msgspec.json.encode(use["input"]).decode()
    fragments = [args[at:at + INPUT_FRAGMENT] for at in range(0, len(args), INPUT_FRAGMENT)]
    return [{"start": {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}},
            *({"toolUse": {"input": f}} for f in fragments)]


# -- control plane -----------------------------------------------------------------------------------------------


def _summary(entry: tuple[str, str, list[str], list[str], list[str]]) -> dict[str, Any]:
    model_id, provider, inputs, outputs, kinds = entry
    return {"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}", "modelId": model_id,
            "modelName": model_id.split(".", 1)[1].split(":", 1)[0], "providerName": provider,
            "inputModalities": inputs, "outputModalities": outputs, "responseStreamingSupported": "TEXT" in outputs,
            "customizationsSupported": [], "inferenceTypesSupported": kinds,
            "modelLifecycle": {"status": "ACTIVE"}}


async def foundation_models(request: web.Request) -> web.Response:
    check_auth(request)
    provider = request.query.get("byProvider", "").lower()
    modality = request.query.get("byOutputModality", "")
    kind = request.query.get("byInferenceType", "")
    summaries = [_summary(m) for m in MODELS
                 if (not provider or m[1].lower() == provider) and (not modality or modality in m[3])
                 and (not kind or kind in m[4])]
    return json_answer(request, {"modelSummaries": summaries})
