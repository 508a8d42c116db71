"""The Bedrock stream decoder on every recorded ConverseStream answer (binary AWS event streams), whole and
fed in small slices, and on hand-made streams for exceptions, JSON mode and damaged bytes."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import msgspec
import pytest
from botocore.eventstream import EventStreamBuffer

from byway.core import (
    Accumulator,
    ChatRequest,
    ChatResponse,
    Finish,
    Message,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UpstreamInvalidRequestError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    UsageReport,
)
from byway.providers.anthropic_request import JSON_TOOL
from byway.providers.base import Frame
from byway.providers.bedrock import BedrockAdapter
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import Interaction, cassettes

ADAPTER = BedrockAdapter(spec_for(ProviderType.BEDROCK))
PROVIDER = ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", aws_access_key_id="AKID",
                          aws_secret_access_key="secret")
REQUEST = ChatRequest(model="amazon.nova-micro-v1:0", messages=[Message(role="user", parts=[TextPart("hi")])],
                      stream=True)
SLICES = (1, 3, 17, 64, 1 << 20)
STREAMS = [(f"{t.name}#{n}", i) for t in cassettes("test_bedrock") for n, i in enumerate(t.interactions)
           if i.response.is_stream and "bedrock-runtime" in i.request.uri]


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


def messages(data: bytes) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(headers, payload) of each message, read with botocore alone."""
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(m.headers, msgspec.json.decode(m.payload)) for m in buffer]


def expected(data: bytes) -> dict[str, Any]:
    """What the recorded stream says, straight from its payloads: per block index, its text, tool call or
    reasoning; the stop reason; the usage."""
    texts: dict[int, str] = {}
    tools: dict[int, list[str]] = {}
    reasoning: dict[int, list[str]] = {}
    signatures: dict[int, str] = {}
    server: set[int] = set()
    out: dict[str, Any] = {}
    for headers, payload in messages(data):
        kind = headers[":event-type"]
        index = payload.get("contentBlockIndex")
        if kind == "contentBlockStart" and "toolUse" in payload["start"]:
            use = payload["start"]["toolUse"]
            if use.get("type") == "server_tool_use":
                server.add(index)
            else:
                tools[index] = [use["toolUseId"], use["name"], ""]
        elif kind == "contentBlockStart":
            server.add(index)
        elif kind == "contentBlockDelta":
            delta = payload["delta"]
            if "text" in delta:
                texts[index] = texts.get(index, "") + delta["text"]
            elif "toolUse" in delta and index in tools:
                tools[index][2] += delta["toolUse"]["input"]
            elif "reasoningContent" in delta:
                part = delta["reasoningContent"]
                entry = reasoning.setdefault(index, ["", "", False])
                entry[0] += part.get("text", "")
                if "signature" in part:
                    signatures[index] = signatures.get(index, "") + part["signature"]
                if "redactedContent" in part:
                    entry[1] += part["redactedContent"]
                    entry[2] = True
        elif kind == "messageStop":
            out["stop"] = payload["stopReason"]
        elif kind == "metadata":
            out["usage"] = payload["usage"]
    out["texts"] = [t for i, t in sorted(texts.items()) if t]
    out["tools"] = [(tid, name, msgspec.json.decode(args or "{}")) for _, (tid, name, args) in sorted(tools.items())]
    out["reasoning"] = [(text, signatures.get(i) or redacted or None, red)
                        for i, (text, redacted, red) in sorted(reasoning.items())]
    return out


def test_enough_recorded_streams() -> None:
    assert len(STREAMS) >= 8


@pytest.mark.parametrize("size", SLICES)
@pytest.mark.parametrize(("name", "item"), STREAMS, ids=[n for n, _ in STREAMS])
def test_recorded_stream(name: str, item: Interaction, size: int) -> None:
    data = item.response.raw
    frames, response = decode(data, size)
    want = expected(data)
    # one frame per event-stream message, its bytes exactly as received
    assert b"".join(f.raw for f in frames) == data
    assert len(frames) == len(messages(data))
    assert all(len(messages(f.raw)) == 1 for f in frames)
    assert [p.text for p in response.parts if isinstance(p, TextPart)] == want["texts"]
    assert [(c.id, c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == want["tools"]
    thinking = [(p.text, p.signature, p.redacted) for p in response.parts if p.__class__.__name__ == "ThinkingPart"]
    assert thinking == want["reasoning"]
    stop = {"end_turn": "end", "tool_use": "tool_calls" if want["tools"] else "end", "max_tokens": "length"}
    assert response.stop_reason == stop[want["stop"]]
    usage = want["usage"]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (usage["inputTokens"], usage["outputTokens"])
    assert response.usage.total_tokens == usage["totalTokens"]
    # the events come in Bedrock's order: a start first, usage last (it only arrives in the metadata event)
    events = [e for f in frames for e in f.events]
    assert isinstance(events[0], StreamStart) and isinstance(events[-1], UsageReport)
    assert isinstance(events[-2], Finish)


def test_text_stream_events_in_detail() -> None:
    (item,) = [i for n, i in STREAMS if n == "test_bedrock_model_stream#0"]
    frames, response = decode(item.response.raw)
    events = [e for f in frames for e in f.events]
    assert events[0] == StreamStart(id="", model="")
    assert events[1:3] == [TextDelta(0, "The"), TextDelta(0, " capital of France is Paris.")]
    assert response.text.startswith("The capital of France is Paris. Paris is not only the capital city")
    assert events[-2:] == [Finish(stop_reason="end"), UsageReport(events[-1].usage)]
    assert (events[-1].usage.input_tokens, events[-1].usage.output_tokens) == (13, 82)
    # contentBlockStop and messageStop frames still pass through (contentBlockStop with no events)
    assert [f.events for f in frames[-3:-1]] == [[], [Finish(stop_reason="end")]]


def test_tool_call_stream_in_detail() -> None:
    item = next(i for n, i in STREAMS if n == "test_bedrock_model_iter_stream#0")
    frames, response = decode(item.response.raw, 5)
    events = [e for f in frames for e in f.events]
    assert ToolCallStart(1, "tooluse_lAG_zP8QRHmSYOwZzzaCqA", "get_temperature") in events
    assert ToolCallDelta(1, '{"city":"Paris"}') in events
    assert response.tool_calls[0].arguments == '{"city":"Paris"}'
    assert response.stop_reason == "tool_calls"
    assert response.text.startswith("<thinking> To find the temperature")


def test_server_tool_blocks_make_no_events_but_pass_through() -> None:
    (item,) = [i for n, i in STREAMS if n == "test_bedrock_model_code_execution_tool_stream#0"]
    frames, response = decode(item.response.raw, 7)
    starts = [e for f in frames for e in f.events if isinstance(e, ToolCallStart)]
    assert starts == [ToolCallStart(2, "tooluse_ptgCcZ0uQu-UUMz0abqoWw", "final_result")]
    assert [p.__class__.__name__ for p in response.parts] == ["ToolCallPart"]
    assert len(frames) == 12  # the server tool's start, delta, result and stop frames are all there


def test_reasoning_stream_with_signature_and_redacted_blocks() -> None:
    (plain,) = [i for n, i in STREAMS if n == "test_bedrock_model_thinking_part_stream#0"]
    _, response = decode(plain.response.raw, 3)
    thinking = response.parts[0]
    assert thinking.text.startswith("The user has greeted me with a simple \"Hello\".")
    assert thinking.signature.startswith("Eu0CCkgIBxABGAIqQJDccbDQkr81n7QjZ0Fi43umSvw0")
    assert response.text.startswith("Hello! It's nice to meet you.")
    (redacted,) = [i for n, i in STREAMS if n == "test_bedrock_model_thinking_part_redacted_stream#0"]
    frames, response = decode(redacted.response.raw)
    deltas = [e for f in frames for e in f.events if isinstance(e, ThinkingDelta)]
    assert [(d.index, d.redacted, d.text) for d in deltas] == [(0, True, ""), (1, True, "")]
    assert [p.redacted for p in response.parts[:2]] == [True, True]
    assert response.parts[0].signature.startswith("RXRrRUNrZ0lCeEFCR0FJcVFKVGZxUy9QWXVBRlpl")


def test_empty_text_delta_makes_no_part() -> None:
    (item,) = [i for n, i in STREAMS if n == "test_bedrock_model_stream_empty_text_delta#0"]
    frames, response = decode(item.response.raw, 1)
    assert not any(isinstance(e, TextDelta) and not e.text for f in frames for e in f.events)
    assert [type(p).__name__ for p in response.parts] == ["ThinkingPart", "TextPart"]
    assert response.text == "Hello! How can I help you today?"


# -- hand-made streams ----------------------------------------------------------------------------------------


def message(headers: dict[str, str], payload: object) -> bytes:
    """An event-stream message, encoded here from the format's definition (not with the mock's encoder)."""
    head = b""
    for name, value in headers.items():
        head += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value.encode())) + value.encode()
    body = msgspec.json.encode(payload)
    prelude = struct.pack(">II", 16 + len(head) + len(body), len(head))
    data = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + body
    return data + struct.pack(">I", zlib.crc32(data))


def event(kind: str, payload: dict[str, Any]) -> bytes:
    return message({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                   {**payload, "p": "abcdef"})


START = event("messageStart", {"role": "assistant"})
STOP_END = event("messageStop", {"stopReason": "end_turn"})
METADATA = event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}})


def test_json_mode_tool_streams_as_text() -> None:
    data = (START + event("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {
        "toolUseId": "tooluse_1", "name": JSON_TOOL}}})
            + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"city":'}}})
            + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '"Paris"}'}}})
            + event("contentBlockStop", {"contentBlockIndex": 0})
            + event("messageStop", {"stopReason": "tool_use"}) + METADATA)
    frames, response = decode(data, 2)
    assert not any(isinstance(e, ToolCallStart) for f in frames for e in f.events)
    assert response.text == '{"city":"Paris"}'
    assert response.stop_reason == "end"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 2)


@pytest.mark.parametrize(("kind", "error", "status"), [
    ("throttlingException", UpstreamRateLimitError, 429),
    ("validationException", UpstreamInvalidRequestError, 400),
    ("modelStreamErrorException", UpstreamUnavailableError, 424),
    ("internalServerException", UpstreamUnavailableError, 500),
    ("serviceUnavailableException", UpstreamUnavailableError, 503),
    ("modelTimeoutException", UpstreamTimeoutError, 408),
])
def test_exception_event_raises_after_the_frames_before_it(kind: str, error: type, status: int) -> None:
    exception = message({":exception-type": kind, ":content-type": "application/json",
                         ":message-type": "exception"}, {"message": "Something went wrong upstream."})
    data = START + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}) + exception
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames = decoder.feed(data)
    assert [e for f in frames for e in f.events] == [StreamStart(id="", model=""), TextDelta(0, "Hel")]
    with pytest.raises(error) as raised:
        decoder.feed(b"")
    assert raised.value.upstream_status == status
    assert raised.value.provider == "aws"
    assert "Something went wrong upstream." in raised.value.message
    with pytest.raises(error):
        decoder.close()


def test_exception_as_the_first_message_raises_at_once() -> None:
    exception = message({":exception-type": "throttlingException", ":content-type": "application/json",
                         ":message-type": "exception"}, {"message": "Too many tokens, please wait."})
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    with pytest.raises(UpstreamRateLimitError) as raised:
        decoder.feed(exception)
    assert raised.value.status == 429 and raised.value.retryable


def test_generic_error_message_type() -> None:
    error = message({":message-type": "error", ":error-code": "InternalFailure",
                     ":error-message": "An internal error occurred."}, {})
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    assert len(decoder.feed(START + error)) == 1
    with pytest.raises(UpstreamUnavailableError) as raised:
        decoder.close()
    assert "InternalFailure: An internal error occurred." in raised.value.message


def test_stream_cut_before_message_stop_is_an_error() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    decoder.feed(START + event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}))
    with pytest.raises(UpstreamUnavailableError, match="before messageStop"):
        decoder.close()


def test_stream_cut_inside_a_message_is_an_error() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    data = START + STOP_END + METADATA
    assert len(decoder.feed(data[:-5])) == 2
    with pytest.raises(UpstreamUnavailableError, match="inside an event"):
        decoder.close()


def test_damaged_bytes_are_refused() -> None:
    data = bytearray(START + STOP_END)
    data[len(START) + 20] ^= 0xFF  # inside the second message's headers: its CRC no longer matches
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames = decoder.feed(bytes(data))
    assert [e for f in frames for e in f.events] == [StreamStart(id="", model="")]
    with pytest.raises(UpstreamUnavailableError, match="corrupt event stream"):
        decoder.feed(b"")


def test_stop_reasons_map() -> None:
    for reason, canonical in (("end_turn", "end"), ("max_tokens", "length"), ("stop_sequence", "end"),
                              ("guardrail_intervened", "content_filter"), ("content_filtered", "content_filter"),
                              ("tool_use", "end")):
        _, response = decode(START + event("messageStop", {"stopReason": reason}) + METADATA)
        assert response.stop_reason == canonical, reason


def test_stop_sequence_named_by_claude() -> None:
    stop = event("messageStop", {"stopReason": "stop_sequence",
                                 "additionalModelResponseFields": {"stop_sequence": "###"}})
    frames, response = decode(START + stop + METADATA)
    assert Finish(stop_reason="stop_sequence", stop_sequence="###") in [e for f in frames for e in f.events]
    assert (response.stop_reason, response.stop_sequence) == ("stop_sequence", "###")


def test_cache_usage_in_metadata_counts_the_whole_prompt() -> None:
    metadata = event("metadata", {"usage": {"inputTokens": 4, "outputTokens": 3, "cacheReadInputTokens": 1024,
                                            "cacheWriteInputTokens": 10, "totalTokens": 1041}})
    _, response = decode(START + STOP_END + metadata)
    usage = response.usage
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens, usage.output_tokens) == (
        1038, 1024, 10, 3)
