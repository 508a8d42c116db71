"""The Anthropic stream decoder on every recorded Messages stream (SDK fixtures and cassettes)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    Accumulator,
    ChatRequest,
    ChatResponse,
    Finish,
    Message,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    UpstreamInvalidRequestError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
    Usage,
    UsageReport,
)
from byway.providers.anthropic import AnthropicAdapter
from byway.providers.anthropic_request import JSON_TOOL
from byway.providers.base import Frame
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import ANTHROPIC_STREAMS, anthropic_fixture, cassettes, stream_capture_paths

ADAPTER = AnthropicAdapter(spec_for(ProviderType.ANTHROPIC))
PROVIDER = ProviderConfig(provider_type=ProviderType.ANTHROPIC, name="an", api_key="k")
REQUEST = ChatRequest(model="claude-sonnet-4-5", messages=[Message(role="user", parts=[TextPart("hi")])], stream=True)
SLICES = (1, 3, 17, 64, 1 << 20)


def decode(data: bytes, size: int = 1 << 20) -> tuple[list[Frame], ChatResponse]:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames: list[Frame] = []
    for start in range(0, len(data), size):
        frames.extend(decoder.feed(data[start:start + size]))
    frames.extend(decoder.close())
    acc = Accumulator()
    for frame in frames:
        for event in frame.events:
            acc.add(event)
    return frames, acc.response()


def sse(*events: tuple[str | None, dict[str, Any]]) -> bytes:
    out = b""
    for name, data in events:
        if name is not None:
            out += f"event: {name}\n".encode()
        out += b"data: " + msgspec.json.encode(data) + b"\n\n"
    return out


def message_start(input_tokens: int = 10, **usage: int) -> tuple[str, dict[str, Any]]:
    return "message_start", {"type": "message_start", "message": {
        "id": "msg_x", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1, **usage}}}


def message_end(reason: str = "end_turn", output_tokens: int = 5) -> list[tuple[str, dict[str, Any]]]:
    return [("message_delta", {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None},
                               "usage": {"output_tokens": output_tokens}}),
            ("message_stop", {"type": "message_stop"})]


# -- the SDK's fixtures, field by field ---------------------------------------------------------------------------

FIXTURES: dict[str, dict[str, Any]] = {
    "basic_response": dict(id="msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK", model="claude-3-opus-latest",
                           parts=[TextPart("Hello there!")], stop="end", usage=(11, 6)),
    "compaction_response": dict(id="msg_01CompactionEncryptedContent01", model="claude-opus-4-7",
                                parts=[TextPart("Hello there!")], stop="end", usage=(30, 8)),
    "fallback_credit_response": dict(id="msg_01FallbackCreditUsage0000001", model="claude-sonnet-4-5",
                                     parts=[TextPart("Hello there!")], stop="end", usage=(25, 8)),
    "fallback_response": dict(id="msg_01FallbackModelRelabel000001", model="claude-opus-4-7",
                              parts=[TextPart("Hello there!")], stop="end", usage=(25, 8)),
    "incomplete_partial_json_response": dict(
        id="msg_01UdjYBBipA9omjYhicnevgq", model="claude-3-7-sonnet-20250219", stop="length", usage=(450, 124),
        parts=[TextPart("I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file "
                        "called taxes.txt. Let me do that for you now."),
               ToolCallPart(id="toolu_01EKqbqmZrGRXy18eN7m9kvY", name="make_file", arguments=(
                   '{"filename": "taxes.txt", "lines_of_text": [\n"# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH '
                   'MULTIPLE W-2s",\n"",\n"## INTRODUCTION",\n"",\n"Filing taxes'))]),
    "refusal_response": dict(id="msg_01RefusalTestMessage123456789", model="claude-opus-4-7", parts=[],
                             stop="refusal", usage=(20, 0)),
    "tool_use_response": dict(
        id="msg_019Q1hrJbZG26Fb9BQhrkHEr", model="claude-sonnet-4-20250514", stop="tool_calls", usage=(377, 65),
        parts=[TextPart("I'll check the current weather in Paris for you."),
               ToolCallPart(id="toolu_01NRLabsLyVHZPKxbKvkfSMn", name="get_weather",
                            arguments='{"location": "Paris"}')]),
}


def test_every_fixture_is_covered() -> None:
    names = {p.stem for p in stream_capture_paths(ANTHROPIC_STREAMS, ".txt")}
    assert names == set(FIXTURES)


@pytest.mark.parametrize("size", SLICES)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_sdk_fixture(name: str, size: int) -> None:
    data = anthropic_fixture(name)
    expected = FIXTURES[name]
    frames, response = decode(data, size)
    assert b"".join(f.raw for f in frames) == data  # raw bytes untouched, nothing lost or doubled
    assert len(frames) == data.count(b"event: ")
    assert (response.id, response.model) == (expected["id"], expected["model"])
    assert response.parts == expected["parts"]
    assert response.stop_reason == expected["stop"]
    assert (response.usage.input_tokens, response.usage.output_tokens) == expected["usage"]
    assert response.usage.cached_tokens == 0 and response.usage.cache_write_tokens == 0


def test_tool_use_fixture_parsed_input() -> None:
    _, response = decode(anthropic_fixture("tool_use_response"), 5)
    [call] = response.tool_calls
    assert call.name == "get_weather"
    assert msgspec.json.decode(call.arguments) == {"location": "Paris"}


def test_tool_use_fixture_event_sequence() -> None:
    frames, _ = decode(anthropic_fixture("tool_use_response"))
    events = [e for f in frames for e in f.events]
    assert events == [
        StreamStart(id="msg_019Q1hrJbZG26Fb9BQhrkHEr", model="claude-sonnet-4-20250514"),
        UsageReport(Usage(input_tokens=377)),
        TextDelta(0, "I"),
        TextDelta(0, "'ll check the current weather in Paris for you."),
        ToolCallStart(1, "toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather"),
        ToolCallDelta(1, '{"locati'), ToolCallDelta(1, 'on": "P'), ToolCallDelta(1, "ar"), ToolCallDelta(1, 'is"}'),
        Finish(stop_reason="tool_calls"),
        UsageReport(Usage(input_tokens=377, output_tokens=65)),
    ]
    # an empty text block start, ping, block stops, the empty first input_json_delta and message_stop: no events
    assert [f.raw.split(b"\n", 1)[0][7:] for f in frames if not f.events] == [
        b"content_block_start", b"ping", b"content_block_stop", b"content_block_delta", b"content_block_stop",
        b"message_stop"]


def test_refusal_fixture_carries_stop_details() -> None:
    frames, _ = decode(anthropic_fixture("refusal_response"))
    [finish] = [e for f in frames for e in f.events if isinstance(e, Finish)]
    assert finish.stop_reason == "refusal"
    assert finish.extra == {"stop_details": {"type": "refusal", "category": "cyber",
                                             "explanation": "This request was refused due to policy."}}


def test_unknown_blocks_keep_anthropic_indices() -> None:
    frames, _ = decode(anthropic_fixture("compaction_response"))
    texts = [e for f in frames for e in f.events if isinstance(e, TextDelta)]
    assert texts == [TextDelta(1, "Hello there!")]


# -- recorded cassette streams ------------------------------------------------------------------------------------


def _stream_interactions() -> list[tuple[str, bytes]]:
    out = []
    for tape in cassettes("test_anthropic"):
        for n, item in enumerate(tape.interactions):
            if "api.anthropic.com/v1/messages" in item.request.uri and item.response.is_stream:
                out.append((f"{tape.name}#{n}", item.response.raw))
    return out


STREAMS = _stream_interactions()


def _expected_from_wire(data: bytes) -> dict[str, Any]:
    """What the stream says, read plainly line by line (independent of the decoder)."""
    blocks: dict[int, dict[str, Any]] = {}
    usage: dict[str, int] = {}
    stop = None
    for line in data.split(b"\n"):
        if not line.startswith(b"data: "):
            continue
        item = msgspec.json.decode(line[6:])
        kind = item["type"]
        if kind == "message_start":
            usage.update({k: v for k, v in item["message"]["usage"].items() if isinstance(v, int)})
        elif kind == "content_block_start":
            blocks[item["index"]] = {"block": item["content_block"], "pieces": []}
        elif kind == "content_block_delta":
            delta = item["delta"]
            piece = delta.get("text") or delta.get("partial_json") or delta.get("thinking")
            if piece and delta["type"] in ("text_delta", "input_json_delta", "thinking_delta"):
                blocks[item["index"]]["pieces"].append(piece)
        elif kind == "message_delta":
            stop = item["delta"]["stop_reason"]
            usage.update({k: v for k, v in item["usage"].items() if isinstance(v, int)})
    return {"blocks": blocks, "usage": usage, "stop": stop}


@pytest.mark.parametrize("size", [29, 1 << 20])
@pytest.mark.parametrize(("name", "data"), STREAMS, ids=[n for n, _ in STREAMS])
def test_cassette_stream(name: str, data: bytes, size: int) -> None:
    frames, response = decode(data, size)
    wire = _expected_from_wire(data)
    assert b"".join(f.raw for f in frames) == data
    texts, thoughts, calls = [], [], []
    for index in sorted(wire["blocks"]):
        block, text = wire["blocks"][index]["block"], "".join(wire["blocks"][index]["pieces"])
        if block["type"] == "text" and text:
            texts.append(text)
        elif block["type"] in ("thinking", "redacted_thinking"):
            thoughts.append(text)
        elif block["type"] == "tool_use":
            calls.append((block["id"], block["name"], msgspec.json.decode(text or "{}")))
    assert [p.text for p in response.parts if isinstance(p, TextPart) and p.text] == texts
    assert [p.text for p in response.parts if isinstance(p, ThinkingPart)] == thoughts
    assert [(c.id, c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == calls
    u = wire["usage"]
    cached, written = u.get("cache_read_input_tokens", 0), u.get("cache_creation_input_tokens", 0)
    assert response.usage.input_tokens == u["input_tokens"] + cached + written
    assert (response.usage.cached_tokens, response.usage.cache_write_tokens) == (cached, written)
    assert response.usage.output_tokens == u["output_tokens"]
    assert response.stop_reason == {"end_turn": "end", "tool_use": "tool_calls", "max_tokens": "length"}[wire["stop"]]


def test_streams_were_found() -> None:
    assert len(STREAMS) >= 12


def _stream(name: str) -> bytes:
    return dict(STREAMS)[name]


def test_redacted_thinking_stream() -> None:
    _, response = decode(_stream("test_anthropic_model_thinking_part_redacted_stream#0"), 11)
    first, second, text = response.parts
    assert isinstance(first, ThinkingPart) and first.redacted and first.text == ""
    assert first.signature is not None and first.signature.startswith("EqkECkYIBxgCKkA8AZ4noDfV5VcOJe")
    assert isinstance(second, ThinkingPart) and second.redacted and second.signature.endswith("GAE=")
    assert isinstance(text, TextPart) and text.text.startswith("I notice that you've sent what appears to be some")
    assert text.text.endswith("How can I assist you today with a legitimate task or question?")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (92, 189)
    assert response.model == "claude-sonnet-4-5-20250929"


def test_thinking_stream_has_text_and_signature() -> None:
    _, response = decode(_stream("test_anthropic_model_thinking_part_stream#0"), 13)
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart) and not thinking.redacted
    assert thinking.text and thinking.signature
    assert isinstance(text, TextPart) and text.text
    assert (response.usage.input_tokens, response.usage.output_tokens) == (43, 282)
    assert response.stop_reason == "end"


def test_server_tool_calls_are_not_client_tool_calls() -> None:
    frames, response = decode(_stream("test_anthropic_code_execution_tool_stream#0"))
    assert response.tool_calls == []
    assert not any(isinstance(e, ToolCallStart | ToolCallDelta) for f in frames for e in f.events)
    assert response.text.startswith("I'll calculate that expression for you right away!Following the standard")
    assert response.usage.input_tokens == 4714  # message_delta's cumulative figure, not message_start's 2293
    [finish] = [e for f in frames for e in f.events if isinstance(e, Finish)]
    assert finish.extra == {"container": {"id": "container_011CaNRFAbjdPf4rmBarZzqQ",
                                          "expires_at": "2026-04-24T11:13:36.730129Z"}}


def test_thinking_token_count_becomes_reasoning_tokens() -> None:
    data = sse(message_start(50), ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
               "usage": {"output_tokens": 145, "output_tokens_details": {"thinking_tokens": 47}}}),
               ("message_stop", {"type": "message_stop"}))
    _, response = decode(data)
    assert (response.usage.output_tokens, response.usage.reasoning_tokens) == (145, 47)


def test_cache_usage_in_stream() -> None:
    data = sse(message_start(3, cache_read_input_tokens=1111, cache_creation_input_tokens=40),
               *message_end(output_tokens=406))
    frames, response = decode(data)
    assert frames[0].events[1] == UsageReport(Usage(input_tokens=1154, cached_tokens=1111, cache_write_tokens=40))
    assert response.usage == Usage(input_tokens=1154, output_tokens=406, cached_tokens=1111, cache_write_tokens=40)


# -- JSON mode, errors and cut streams ----------------------------------------------------------------------------


def test_json_mode_tool_streams_as_text() -> None:
    data = sse(message_start(), ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
        "type": "tool_use", "id": "toolu_1", "name": JSON_TOOL, "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"name": "A'}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": 'da"}'}}),
        *message_end("tool_use"))
    _, response = decode(data, 9)
    assert response.parts == [TextPart('{"name": "Ada"}')]
    assert response.stop_reason == "end"


def test_error_event_alone_raises_the_mapped_error() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    decoder.feed(sse(message_start()))
    with pytest.raises(UpstreamUnavailableError) as info:
        decoder.feed(sse(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})))
    assert info.value.retryable and info.value.upstream_status == 529
    assert info.value.message == "an: Overloaded"


def test_error_after_frames_in_one_chunk_is_raised_next() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    chunk = sse(message_start(), ("error", {"type": "error", "error": {"type": "rate_limit_error",
                                                                       "message": "slow down"}}))
    frames = decoder.feed(chunk)
    assert [type(e) for e in frames[0].events] == [StreamStart, UsageReport]
    assert len(frames) == 1
    with pytest.raises(UpstreamRateLimitError):
        decoder.close()


def test_invalid_request_error_event() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    with pytest.raises(UpstreamInvalidRequestError) as info:
        decoder.feed(sse(("error", {"type": "error", "error": {"type": "invalid_request_error",
                                                               "message": "prompt is too long"}})))
    assert info.value.code == "invalid_request_error"


def test_stream_cut_before_message_stop() -> None:
    data = anthropic_fixture("basic_response")
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    decoder.feed(data[: data.index(b"event: message_delta")])
    with pytest.raises(UpstreamUnavailableError) as info:
        decoder.close()
    assert "message_stop" in info.value.message


def test_malformed_event_is_an_upstream_failure() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    with pytest.raises(UpstreamUnavailableError):
        decoder.feed(b'event: content_block_delta\ndata: {"type":"content_block_delta","index":\n\n')


def test_events_without_a_name_are_ignored() -> None:
    data = sse(message_start(), (None, {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": "ghost"}}), *message_end())
    frames, response = decode(data)
    assert response.text == ""
    assert len(frames) == 4 and frames[1].events == []


@pytest.mark.parametrize(("reason", "expected"), [("stop_sequence", "stop_sequence"), ("pause_turn", "pause"),
                                                  ("max_tokens", "length"), ("refusal", "refusal")])
def test_stop_reasons_in_stream(reason: str, expected: str) -> None:
    sequence = "END" if reason == "stop_sequence" else None
    data = sse(message_start(), ("content_block_start", {"type": "content_block_start", "index": 0,
                                                         "content_block": {"type": "text", "text": "Once upon"}}),
               ("message_delta", {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": sequence},
                                  "usage": {"output_tokens": 3}}),
               ("message_stop", {"type": "message_stop"}))
    _, response = decode(data, 4)
    assert response.text == "Once upon"  # text given in content_block_start itself
    assert (response.stop_reason, response.stop_sequence) == (expected, sequence)
