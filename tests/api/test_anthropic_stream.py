"""StreamEncoder: canonical events as Anthropic Messages events (read back with the official SDK's stream
accumulator), and Anthropic streams passed through byte for byte."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import msgspec
import pytest

from byway.api.anthropic_messages import StreamEncoder
from byway.core import (
    Accumulator,
    ChatRequest,
    Finish,
    RateLimitError,
    RefusalDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UpstreamUnavailableError,
    Usage,
    UsageReport,
)
from byway.providers.anthropic import AnthropicAdapter
from byway.providers.base import Frame
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.openai_stream import OpenAIStreamDecoder
from tests.api._sdk import anthropic_client
from tests.vectors import ANTHROPIC_STREAMS, anthropic_fixture, stream_capture, stream_capture_paths

REQUEST = ChatRequest(model="gpt-4o-mini", messages=[], stream=True)


def run(events: list[StreamEvent], *, per_frame: int = 1, end_usage: Usage | None = None) -> bytes:
    encoder = StreamEncoder(REQUEST, passthrough=False)
    out = b"".join(encoder.frame(Frame(raw=b"ignored", events=events[i:i + per_frame]))
                   for i in range(0, len(events), per_frame))
    return out + encoder.end(end_usage)


def parsed(stream: bytes) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` per event; every event has exactly one ``event:`` and one ``data:`` line."""
    assert stream.endswith(b"\n\n")
    out = []
    for block in stream[:-2].split(b"\n\n"):
        name, data = block.split(b"\n")
        assert name.startswith(b"event: ") and data.startswith(b"data: ")
        payload = msgspec.json.decode(data[len(b"data: "):])
        assert payload["type"] == name[len(b"event: "):].decode()
        out.append((payload["type"], payload))
    return out


def names(stream: bytes) -> list[str]:
    return [n for n, _ in parsed(stream)]


def final_message(body: bytes) -> anthropic.types.Message:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    with anthropic_client(handler).messages.stream(model="m", max_tokens=10,
                                                   messages=[{"role": "user", "content": "hi"}]) as stream:
        return stream.get_final_message()


USAGE = Usage(input_tokens=1500, output_tokens=7, cached_tokens=1024, cache_write_tokens=100)
TEXT: list[StreamEvent] = [
    StreamStart(id="chatcmpl-xyz", model="gpt-4o-mini-2024-07-18", created=1727346168),
    TextDelta(index=0, text="Hel"),
    TextDelta(index=0, text="lo"),
    Finish(stop_reason="end"),
    UsageReport(usage=USAGE),
]


def test_text_stream_event_sequence() -> None:
    events = parsed(run(TEXT))
    assert [n for n, _ in events] == ["message_start", "content_block_start", "ping", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert (start["id"], start["model"], start["role"], start["content"], start["stop_reason"]) == (
        "msg_chatcmpl-xyz", "gpt-4o-mini-2024-07-18", "assistant", [], None)
    assert start["usage"]["input_tokens"] == 0  # not known yet: OpenAI reports usage at the end
    assert events[1][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert [e["delta"] for _, e in events[3:5]] == [{"type": "text_delta", "text": "Hel"},
                                                    {"type": "text_delta", "text": "lo"}]
    assert events[5][1] == {"type": "content_block_stop", "index": 0}
    assert events[6][1] == {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                            "usage": {"input_tokens": 376, "cache_creation_input_tokens": 100,
                                      "cache_read_input_tokens": 1024, "output_tokens": 7}}


def test_the_sdk_accumulates_the_text_stream() -> None:
    message = final_message(run(TEXT))
    assert [(b.type, b.text) for b in message.content] == [("text", "Hello")]  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.id == "msg_chatcmpl-xyz"
    assert (message.usage.input_tokens, message.usage.output_tokens, message.usage.cache_read_input_tokens,
            message.usage.cache_creation_input_tokens) == (376, 7, 1024, 100)


def test_input_tokens_known_at_the_start_go_in_message_start() -> None:
    events: list[StreamEvent] = [StreamStart(id="msg_1", model="claude"), UsageReport(Usage(input_tokens=42)),
                                 TextDelta(index=0, text="x"), Finish(stop_reason="end"),
                                 UsageReport(Usage(input_tokens=42, output_tokens=3))]
    stream = parsed(run(events, per_frame=2))
    assert stream[0][1]["message"]["id"] == "msg_1"
    assert stream[0][1]["message"]["usage"] == {"input_tokens": 42, "cache_creation_input_tokens": 0,
                                                "cache_read_input_tokens": 0, "output_tokens": 0}
    assert stream[-2][1]["usage"]["output_tokens"] == 3


def test_frames_with_many_events_give_the_same_bytes() -> None:
    assert run(TEXT, per_frame=5) == run(TEXT)


def test_usage_given_to_end_overrides() -> None:
    stream = parsed(run(TEXT[:-1], end_usage=Usage(input_tokens=9, output_tokens=4)))
    assert stream[-2][1]["usage"] == {"input_tokens": 9, "cache_creation_input_tokens": 0,
                                      "cache_read_input_tokens": 0, "output_tokens": 4}
    assert parsed(run(TEXT[:-1]))[-2][1]["usage"] == {"output_tokens": 0}  # nothing known: no made-up figures


@pytest.mark.parametrize(("reason", "sequence", "expected"), [
    ("end", None, ("end_turn", None)), ("length", None, ("max_tokens", None)),
    ("stop_sequence", "END", ("stop_sequence", "END")), ("content_filter", None, ("refusal", None)),
    ("pause", None, ("pause_turn", None)), ("tool_calls", None, ("tool_use", None)),
])
def test_stop_reasons(reason: Any, sequence: str | None, expected: tuple[str, str | None]) -> None:
    stream = parsed(run([TextDelta(index=0, text="x"), Finish(stop_reason=reason, stop_sequence=sequence)]))
    delta = stream[-2][1]["delta"]
    assert (delta["stop_reason"], delta["stop_sequence"]) == expected


def test_unnamed_stop_sequence_is_the_only_one_asked_for() -> None:
    for stop, expected in ((["END"], "END"), (["END", "STOP"], None)):
        encoder = StreamEncoder(ChatRequest(model="m", messages=[], stream=True, stop=stop), passthrough=False)
        body = encoder.frame(Frame(raw=b"", events=[TextDelta(index=0, text="x"),
                                                    Finish(stop_reason="stop_sequence")])) + encoder.end()
        assert parsed(body)[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": expected}


def test_stop_details_ride_on_message_delta() -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "no"}
    stream = parsed(run([Finish(stop_reason="refusal", extra={"stop_details": details, "other": 1})]))
    assert stream[-2][1]["delta"] == {"stop_reason": "refusal", "stop_sequence": None, "stop_details": details}


TOOLS: list[StreamEvent] = [
    StreamStart(id="msg_01", model="claude-3-5-haiku"),
    TextDelta(index=0, text="Checking both."),
    ToolCallStart(index=1, id="toolu_a", name="get_weather"),
    ToolCallDelta(index=1, arguments='{"ci'),
    ToolCallDelta(index=1, arguments='ty": "Par'),
    ToolCallDelta(index=1, arguments='is"}'),
    ToolCallStart(index=2, id="toolu_b", name="get_time"),
    ToolCallDelta(index=2, arguments='{"tz": "CET"}'),
    Finish(stop_reason="tool_calls"),
    UsageReport(usage=Usage(input_tokens=50, output_tokens=30)),
]


def test_tool_calls_with_streamed_arguments() -> None:
    stream = parsed(run(TOOLS))
    assert [n for n, _ in stream] == [
        "message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
        "message_stop"]
    assert stream[5][1] == {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {}}}
    assert [e["delta"]["partial_json"] for _, e in stream[6:9]] == ['{"ci', 'ty": "Par', 'is"}']
    assert all(e["index"] == 1 for _, e in stream[5:10]) and stream[10][1]["index"] == 2
    message = final_message(run(TOOLS))
    assert message.stop_reason == "tool_use"
    text, first, second = message.content
    assert text.type == "text" and text.text == "Checking both."
    assert first.type == "tool_use" and (first.id, first.name, first.input) == (
        "toolu_a", "get_weather", {"city": "Paris"})
    assert second.type == "tool_use" and (second.name, second.input) == ("get_time", {"tz": "CET"})


def test_openai_style_interleaving_opens_and_closes_blocks() -> None:
    events: list[StreamEvent] = [
        TextDelta(index=0, text="Let me "),
        ToolCallStart(index=1, id="call_1", name="lookup"),
        TextDelta(index=0, text="look."),  # text resumes after a tool call started
        ToolCallDelta(index=1, arguments='{"q": '),  # arguments of a call whose block was closed
        ToolCallStart(index=2, id="call_2", name="lookup"),
        ToolCallDelta(index=2, arguments='{"q": 2}'),
        ToolCallDelta(index=1, arguments="1}"),
        Finish(stop_reason="end"),  # some providers say "stop" after tool calls
    ]
    stream = parsed(run(events))
    starts = [(e["index"], e["content_block"]["type"]) for n, e in stream if n == "content_block_start"]
    assert starts == [(0, "text"), (1, "tool_use"), (2, "text"), (3, "tool_use")]
    open_blocks: set[int] = set()
    for name, event in stream:  # never two blocks open at once
        if name == "content_block_start":
            assert not open_blocks
            open_blocks.add(event["index"])
        elif name == "content_block_stop":
            assert open_blocks == {event["index"]}
            open_blocks.clear()
    assert not open_blocks
    message = final_message(run(events))
    assert [b.type for b in message.content] == ["text", "tool_use", "text", "tool_use"]
    assert message.content[0].text + message.content[2].text == "Let me look."  # type: ignore[union-attr]
    assert message.content[1].input == {"q": 1} and message.content[3].input == {"q": 2}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"


def test_thinking_signature_and_redacted_thinking() -> None:
    events: list[StreamEvent] = [
        ThinkingDelta(index=0, text="Let me "),
        ThinkingDelta(index=0, text="think."),
        ThinkingDelta(index=0, signature="EqQBCgIYAh=="),
        ThinkingDelta(index=1, signature="opaque-data", redacted=True),
        TextDelta(index=2, text="Answer."),
        Finish(stop_reason="end"),
    ]
    stream = parsed(run(events))
    assert stream[1][1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert [e["delta"] for n, e in stream if n == "content_block_delta"][:3] == [
        {"type": "thinking_delta", "thinking": "Let me "}, {"type": "thinking_delta", "thinking": "think."},
        {"type": "signature_delta", "signature": "EqQBCgIYAh=="}]
    assert [e["content_block"] for n, e in stream if n == "content_block_start"][1] == {
        "type": "redacted_thinking", "data": "opaque-data"}
    message = final_message(run(events))
    thinking, redacted, text = message.content
    assert thinking.type == "thinking" and (thinking.thinking, thinking.signature) == ("Let me think.", "EqQBCgIYAh==")
    assert redacted.type == "redacted_thinking" and redacted.data == "opaque-data"
    assert text.type == "text" and text.text == "Answer."


def test_refusal_text_becomes_a_text_block() -> None:
    message = final_message(run([StreamStart(id="c", model="gpt-4o"), RefusalDelta(text="I can't "),
                                 RefusalDelta(text="help."), Finish(stop_reason="refusal")]))
    assert [(b.type, b.text) for b in message.content] == [("text", "I can't help.")]  # type: ignore[union-attr]
    assert message.stop_reason == "refusal"


def test_an_empty_stream_is_still_a_whole_message() -> None:
    stream = parsed(run([Finish(stop_reason="end")]))
    assert [n for n, _ in stream] == ["message_start", "ping", "message_delta", "message_stop"]
    assert stream[0][1]["message"]["model"] == "gpt-4o-mini"  # the requested model, nothing better being known
    assert final_message(run([])).content == []


def test_error_mid_stream_ends_it() -> None:
    encoder = StreamEncoder(REQUEST, passthrough=False)
    body = encoder.frame(Frame(raw=b"", events=TEXT[:2]))
    line = encoder.error(UpstreamUnavailableError("connection reset", provider="oa"))
    assert line == (b'event: error\ndata: {"type":"error","error":{"type":"api_error",'
                    b'"message":"oa: connection reset"}}\n\n')
    assert encoder.end() == b"" and encoder.error(RateLimitError("late")) == b""
    assert encoder.frame(Frame(raw=b"", events=[TextDelta(index=0, text="late")])) == b""
    with pytest.raises(anthropic.APIStatusError, match="oa: connection reset"):
        final_message(body + line)


def test_end_is_idempotent() -> None:
    encoder = StreamEncoder(REQUEST, passthrough=False)
    encoder.frame(Frame(raw=b"", events=TEXT))
    assert encoder.end().endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert encoder.end() == b""


# -- recorded streams: the provider decoder, then this encoder ----------------------------------------------------

ADAPTER = AnthropicAdapter(spec_for(ProviderType.ANTHROPIC))
PROVIDER = ProviderConfig(provider_type=ProviderType.ANTHROPIC, name="an", api_key="k")
FIXTURES = [p.stem for p in stream_capture_paths(ANTHROPIC_STREAMS, ".txt")]


def anthropic_frames(data: bytes, size: int) -> list[Frame]:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames: list[Frame] = []
    for at in range(0, len(data), size):
        frames.extend(decoder.feed(data[at:at + size]))
    return frames + decoder.close()


def encode_frames(frames: list[Frame], passthrough: bool) -> bytes:
    encoder = StreamEncoder(REQUEST, passthrough=passthrough)
    return b"".join(encoder.frame(f) for f in frames) + encoder.end()


def summary(message: anthropic.types.Message, *, portable_only: bool = False) -> dict[str, Any]:
    """What a client reads from a final message; ``portable_only`` keeps the blocks the canonical model holds
    (and drops empty text blocks, which carry nothing)."""
    blocks = []
    for block in message.content:
        data = block.model_dump(exclude={"caller", "citations", "parsed_output"})
        if portable_only and (block.type not in ("text", "tool_use", "thinking", "redacted_thinking")
                              or (block.type == "text" and not block.text)):
            continue
        blocks.append(data)
    usage = message.usage
    return {"id": message.id, "model": message.model, "content": blocks, "stop_reason": message.stop_reason,
            "stop_sequence": message.stop_sequence, "stop_details": message.stop_details,
            "usage": (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens or 0,
                      usage.cache_creation_input_tokens or 0)}


def test_every_fixture_is_covered() -> None:
    assert set(FIXTURES) == {"basic_response", "tool_use_response", "refusal_response", "compaction_response",
                             "incomplete_partial_json_response", "fallback_response", "fallback_credit_response"}


@pytest.mark.parametrize("size", [1, 7, 1 << 20])
@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_passes_through_byte_for_byte(name: str, size: int) -> None:
    data = anthropic_fixture(name)
    assert encode_frames(anthropic_frames(data, size), passthrough=True) == data


@pytest.mark.parametrize("size", [1, 1 << 20])
@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_re_encoded_reads_the_same_in_the_sdk(name: str, size: int) -> None:
    data = anthropic_fixture(name)
    re_encoded = encode_frames(anthropic_frames(data, size), passthrough=False)
    original = summary(final_message(data), portable_only=True)
    assert summary(final_message(re_encoded)) == original
    assert original["content"] or name == "refusal_response"  # which refuses with one empty text block
    acc = Accumulator()
    for frame in anthropic_frames(data, size):
        for event in frame.events:
            acc.add(event)
    assert names(re_encoded).count("content_block_start") == len(acc.parts())


def test_tool_use_fixture_in_detail() -> None:
    message = final_message(encode_frames(anthropic_frames(anthropic_fixture("tool_use_response"), 1), False))
    text, call = message.content
    assert text.type == "text" and text.text == "I'll check the current weather in Paris for you."
    assert call.type == "tool_use" and (call.id, call.name, call.input) == (
        "toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", {"location": "Paris"})
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (377, 65)


def test_refusal_fixture_keeps_its_stop_details() -> None:
    message = final_message(encode_frames(anthropic_frames(anthropic_fixture("refusal_response"), 1), False))
    assert message.stop_reason == "refusal"
    assert message.stop_details is not None and message.stop_details.model_dump() == {
        "type": "refusal", "category": "cyber", "explanation": "This request was refused due to policy."}


def openai_frames(data: bytes, size: int) -> list[Frame]:
    decoder = OpenAIStreamDecoder("oa")
    frames: list[Frame] = []
    for at in range(0, len(data), size):
        frames.extend(decoder.feed(data[at:at + size]))
    return frames + decoder.close()


OPENAI_CAPTURES = [p.name for p in stream_capture_paths()]


@pytest.mark.parametrize("size", [1, 1 << 20])
@pytest.mark.parametrize("name", OPENAI_CAPTURES)
def test_openai_streams_read_in_the_sdk_as_they_accumulate(name: str, size: int) -> None:
    frames = openai_frames(stream_capture(name), size)
    acc = Accumulator()
    for frame in frames:
        for event in frame.events:
            acc.add(event)
    expected = acc.response()
    message = final_message(encode_frames(frames, passthrough=False))
    assert "".join(b.text for b in message.content if b.type == "text") == expected.text + (expected.refusal or "")
    assert [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"] == [
        (c.id, c.name, msgspec.json.decode(c.arguments)) for c in expected.tool_calls]
    assert message.stop_reason == {"end": "end_turn", "tool_calls": "tool_use", "length": "max_tokens",
                                   "refusal": "refusal"}[expected.stop_reason or "end"]
    assert message.usage.output_tokens == expected.usage.output_tokens
    assert message.usage.input_tokens == expected.usage.input_tokens - expected.usage.cached_tokens


def test_parallel_tool_calls_capture_in_detail() -> None:
    captures = [n for n in OPENAI_CAPTURES if b'"index":1' in stream_capture(n) and b"tool_calls" in
                stream_capture(n)]
    assert captures, "a capture with parallel tool calls"
    message = final_message(encode_frames(openai_frames(stream_capture(captures[0]), 1), passthrough=False))
    calls = [b for b in message.content if b.type == "tool_use"]
    assert len(calls) >= 2 and len({c.id for c in calls}) == len(calls)
    assert all(isinstance(c.input, dict) and c.input for c in calls)
