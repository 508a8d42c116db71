"""encode_response: canonical answers as Anthropic ``message`` bodies, read back by the official SDK."""

from __future__ import annotations

from typing import Any

import httpx2
import msgspec
import pytest
from anthropic.types import Message as SDKMessage

from byway.api.anthropic_messages import INVALID_ARGUMENTS, encode_response
from byway.core import ChatResponse, StopReason, TextPart, ThinkingPart, ToolCallPart, Usage
from byway.providers.anthropic_response import parse_message
from tests.api._sdk import anthropic_client
from tests.vectors import cassettes


def encoded(response: ChatResponse) -> dict[str, Any]:
    body = encode_response(response)
    SDKMessage.model_validate_json(body)  # the SDK's own model accepts it
    return msgspec.json.decode(body)


def answer(**fields: Any) -> ChatResponse:
    fields.setdefault("id", "chatcmpl-abc")
    fields.setdefault("model", "gpt-4o-mini-2024-07-18")
    return ChatResponse(**fields)


def test_text_answer() -> None:
    body = encoded(answer(parts=[TextPart("Hello"), TextPart(" there")], stop_reason="end",
                          usage=Usage(input_tokens=12, output_tokens=3)))
    assert body == {
        "id": "msg_chatcmpl-abc", "type": "message", "role": "assistant", "model": "gpt-4o-mini-2024-07-18",
        "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 3}}


@pytest.mark.parametrize(("reason", "expected"), [
    ("end", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal"),
    ("refusal", "refusal"), ("pause", "pause_turn"), ("error", "end_turn"), (None, "end_turn"),
    ("stop_sequence", "stop_sequence"),
])
def test_stop_reasons(reason: StopReason | None, expected: str) -> None:
    body = encoded(answer(parts=[TextPart("x")], stop_reason=reason, stop_sequence="###"))
    assert body["stop_reason"] == expected
    assert body["stop_sequence"] == ("###" if expected == "stop_sequence" else None)


def test_unnamed_stop_sequence_is_the_only_one_asked_for() -> None:
    unnamed = answer(parts=[TextPart("Echo: Hello ")], stop_reason="stop_sequence")
    assert msgspec.json.decode(encode_response(unnamed, ["there"]))["stop_sequence"] == "there"
    assert msgspec.json.decode(encode_response(unnamed, ["there", "here"]))["stop_sequence"] is None
    assert msgspec.json.decode(encode_response(unnamed))["stop_sequence"] is None
    named = answer(parts=[TextPart("x")], stop_reason="stop_sequence", stop_sequence="here")
    assert msgspec.json.decode(encode_response(named, ["there", "here"]))["stop_sequence"] == "here"
    ended = answer(parts=[TextPart("x")], stop_reason="end")
    assert msgspec.json.decode(encode_response(ended, ["there"]))["stop_sequence"] is None


def test_tool_calls_stop_with_tool_use_even_when_the_provider_said_end() -> None:
    call = ToolCallPart(id="call_1", name="get_weather", arguments='{"city": "Paris", "days": [1, 2]}')
    for reason in ("tool_calls", "end", None):
        body = encoded(answer(parts=[TextPart("Let me check."), call], stop_reason=reason))  # type: ignore[arg-type]
        assert body["stop_reason"] == "tool_use"
        assert body["content"] == [{"type": "text", "text": "Let me check."}, {
            "type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris", "days": [1, 2]}}]
    truncated = encoded(answer(parts=[call], stop_reason="length"))
    assert truncated["stop_reason"] == "max_tokens"  # never end_turn, never hidden


@pytest.mark.parametrize(("arguments", "expected"), [
    ("", {}), ("  ", {}), ("{}", {}), ('{"a": null}', {"a": None}),
    ('{"city": "Par', {INVALID_ARGUMENTS: '{"city": "Par'}),
    ("[1, 2]", {INVALID_ARGUMENTS: "[1, 2]"}),
    ('"Paris"', {INVALID_ARGUMENTS: '"Paris"'}),
])
def test_tool_input_from_arguments(arguments: str, expected: dict[str, Any]) -> None:
    body = encoded(answer(parts=[ToolCallPart(id="t", name="f", arguments=arguments)], stop_reason="tool_calls"))
    assert body["content"][0]["input"] == expected


def test_usage_input_tokens_leave_out_cache_reads_and_writes() -> None:
    usage = Usage(input_tokens=2000, output_tokens=40, cached_tokens=1024, cache_write_tokens=500, reasoning_tokens=7)
    body = encoded(answer(parts=[TextPart("x")], usage=usage))
    assert body["usage"] == {"input_tokens": 476, "cache_creation_input_tokens": 500,
                             "cache_read_input_tokens": 1024, "output_tokens": 40}


def test_thinking_blocks_and_refusal() -> None:
    body = encoded(answer(parts=[ThinkingPart(text="Hmm.", signature="sig"), ThinkingPart(text="unsigned"),
                                 ThinkingPart(signature="opaque", redacted=True), ThinkingPart(), TextPart("")],
                          refusal="I can't help with that.", stop_reason="refusal"))
    assert body["content"] == [
        {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
        {"type": "thinking", "thinking": "unsigned", "signature": ""},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "I can't help with that."}]
    assert body["stop_reason"] == "refusal"


def test_ids() -> None:
    assert encoded(answer(id="msg_01abc"))["id"] == "msg_01abc"
    generated = encoded(answer(id=""))["id"]
    assert generated.startswith("msg_") and len(generated) == 28 and generated != encoded(answer(id=""))["id"]


ANTHROPIC_ANSWERS = [(f"{t.name}#{n}", i.response.body_bytes()) for t in cassettes("test_anthropic")
                     for n, i in enumerate(t.interactions)
                     if "/v1/messages" in i.request.uri and "count_tokens" not in i.request.uri
                     and i.response.status == 200 and i.response.json is not None]


def test_enough_recorded_answers() -> None:
    assert len(ANTHROPIC_ANSWERS) >= 80


def _without_caller(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks without ``caller`` (how a tool call was invoked, always ``direct`` here): the canonical tool call
    has no place for it, so the answer's content comes back without it unless other blocks kept it native."""
    return [{k: v for k, v in block.items() if k != "caller"} for block in content]


@pytest.mark.parametrize(("name", "raw"), ANTHROPIC_ANSWERS, ids=[n for n, _ in ANTHROPIC_ANSWERS])
def test_recorded_anthropic_answers_come_back_as_they_were(name: str, raw: bytes) -> None:
    recorded = msgspec.json.decode(raw)
    body = msgspec.json.decode(encode_response(parse_message("an", raw)))
    assert all(b.get("caller", {"type": "direct"}) == {"type": "direct"} for b in recorded["content"])
    if body["content"] != recorded["content"]:
        recorded["content"] = _without_caller(recorded["content"])
    for field in ("id", "type", "role", "model", "stop_reason", "stop_sequence", "usage", "content",
                  "stop_details", "container", "context_management"):
        assert body.get(field) == recorded.get(field), field


def test_sdk_reads_the_answer() -> None:
    response = answer(parts=[TextPart("Checking."), ToolCallPart(id="toolu_9", name="lookup", arguments='{"q":1}')],
                      stop_reason="tool_calls", usage=Usage(input_tokens=30, output_tokens=9, cached_tokens=10))

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=encode_response(response), headers={"content-type": "application/json"})

    message = anthropic_client(handler).messages.create(model="m", max_tokens=10,
                                                        messages=[{"role": "user", "content": "hi"}])
    assert message.stop_reason == "tool_use"
    text, call = message.content
    assert text.type == "text" and text.text == "Checking."
    assert call.type == "tool_use" and (call.id, call.name, call.input) == ("toolu_9", "lookup", {"q": 1})
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens, message.usage.output_tokens) == (
        20, 10, 9)
