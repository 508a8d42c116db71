"""The Cohere v2 stream decoder, whole and in 1-byte slices.

The vectors hold no recorded Cohere stream, so every recorded JSON answer is replayed as the event stream
Cohere sends for it (``event:`` + ``data:`` lines: message-start, content-start/delta/end, tool-plan-delta,
tool-call-start/delta/end, message-end, ``data: [DONE]``), and the accumulated stream must equal what
parse_chat makes of the JSON. A hand-written stream in the captured wire shape covers the rest.
"""

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
    ThinkingDelta,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    UpstreamUnavailableError,
    Usage,
    UsageReport,
)
from byway.providers.base import Frame
from byway.providers.catalog import spec_for
from byway.providers.cohere import CohereAdapter
from byway.providers.config import ProviderConfig, ProviderType
from tests.providers.test_cohere_response import CALLS
from tests.vectors import Interaction

ADAPTER = CohereAdapter(spec_for(ProviderType.COHERE))
PROVIDER = ProviderConfig(provider_type=ProviderType.COHERE, name="co", api_key="k")
REQUEST = ChatRequest(model="command-r7b-12-2024", messages=[Message(role="user", parts=[TextPart("hi")])],
                      stream=True)
SLICES = (1, 2, 7, 64, 1 << 20)


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


def event(name: str, named: bool = True, **payload: Any) -> bytes:
    head = f"event: {name}\n".encode() if named else b""
    return head + b"data: " + msgspec.json.encode({"type": name, **payload}) + b"\n\n"


def pieces(text: str, size: int = 7) -> list[str]:
    return [text[at:at + size] for at in range(0, len(text), size)]


def stream_of(answer: dict[str, Any], named: bool = True) -> bytes:
    """The event stream Cohere sends for ``answer``."""
    message = answer["message"]
    out = [event("message-start", named, id=answer["id"], delta={"message": {
        "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}})]
    for index, item in enumerate(message.get("content") or []):
        kind = item["type"]
        out.append(event("content-start", named, index=index, delta={"message": {"content": {"type": kind, kind: ""}}}))
        out += [event("content-delta", named, index=index, delta={"message": {"content": {kind: piece}}})
                for piece in pieces(item[kind])]
        out.append(event("content-end", named, index=index))
    out += [event("tool-plan-delta", named, delta={"message": {"tool_plan": piece}})
            for piece in pieces(message.get("tool_plan") or "")]
    for index, call in enumerate(message.get("tool_calls") or []):
        opening = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        out.append(event("tool-call-start", named, index=index, delta={"message": {"tool_calls": opening}}))
        out += [event("tool-call-delta", named, index=index,
                      delta={"message": {"tool_calls": {"function": {"arguments": piece}}}})
                for piece in pieces(call["function"]["arguments"], 4)]
        out.append(event("tool-call-end", named, index=index))
    out.append(event("message-end", named, delta={"finish_reason": answer["finish_reason"], "usage": answer["usage"]}))
    return b"".join(out) + b"data: [DONE]\n\n"


@pytest.mark.parametrize("size", SLICES)
@pytest.mark.parametrize("item", CALLS)
def test_every_recorded_answer_streams_to_the_same_response(item: Interaction, size: int) -> None:
    whole = ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())
    data = stream_of(item.response.json)
    frames, streamed = decode(data, size)
    assert b"".join(f.raw for f in frames) == data  # every byte passes through, in frames
    assert streamed.id == whole.id == item.response.json["id"]
    assert streamed.model == "command-r7b-12-2024"  # named by the request: Cohere's stream does not
    assert streamed.parts == whole.parts
    assert streamed.stop_reason == whole.stop_reason
    assert streamed.usage == whole.usage


@pytest.mark.parametrize("item", CALLS[:3])
def test_events_without_event_lines_are_read_by_their_type(item: Interaction) -> None:
    _, named = decode(stream_of(item.response.json))
    _, bare = decode(stream_of(item.response.json, named=False))
    assert bare.parts == named.parts
    assert bare.usage == named.usage


# The wire shape of a captured Cohere stream: a tool plan, one tool call, cached tokens, then [DONE].
CAPTURED = (
    b'event: message-start\ndata: {"id":"93b3f521-0000-4ebc-bac4-f7c557e63c00","type":"message-start","delta":'
    b'{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}\n\n'
    b'event: tool-plan-delta\ndata: {"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will"}}}\n\n'
    b'event: tool-plan-delta\ndata: {"type":"tool-plan-delta","delta":{"message":{"tool_plan":" search."}}}\n\n'
    b'event: tool-call-start\ndata: {"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":'
    b'{"id":"lookup_3v76fs3zjrgq","type":"function","function":{"name":"lookup","arguments":""}}}}}\n\n'
    b'event: tool-call-delta\ndata: {"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":'
    b'{"function":{"arguments":"{\\n    \\""}}}}}\n\n'
    b'event: tool-call-delta\ndata: {"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":'
    b'{"function":{"arguments":"query\\": \\"Juan\\"\\n}"}}}}}\n\n'
    b'event: tool-call-end\ndata: {"type":"tool-call-end","index":0}\n\n'
    b'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":'
    b'{"input_tokens":50,"output_tokens":26},"tokens":{"input_tokens":793,"output_tokens":61},"cached_tokens":176}}}'
    b'\n\ndata: [DONE]\n\n'
)


@pytest.mark.parametrize("size", SLICES)
def test_a_captured_shape_stream_event_by_event(size: int) -> None:
    frames, response = decode(CAPTURED, size)
    events = [e for f in frames for e in f.events]
    assert events == [
        StreamStart(id="93b3f521-0000-4ebc-bac4-f7c557e63c00", model="command-r7b-12-2024"),
        ThinkingDelta(0, text="I will"),
        ThinkingDelta(0, text=" search."),
        ToolCallStart(1, "lookup_3v76fs3zjrgq", "lookup"),
        ToolCallDelta(1, '{\n    "'),
        ToolCallDelta(1, 'query": "Juan"\n}'),
        Finish(stop_reason="tool_calls"),
        UsageReport(Usage(input_tokens=50, output_tokens=26)),
    ]
    assert response.tool_calls == [ToolCallPart(id="lookup_3v76fs3zjrgq", name="lookup",
                                                arguments='{\n    "query": "Juan"\n}')]
    assert response.thinking == "I will search."
    assert len(frames) == 9  # one frame per event, [DONE] included
    assert frames[-1] == Frame(b"data: [DONE]\n\n", [])
    assert b"".join(f.raw for f in frames) == CAPTURED


def test_thinking_then_text_get_their_own_parts() -> None:
    data = (event("message-start", id="r1")
            + event("content-start", index=0, delta={"message": {"content": {"type": "thinking", "thinking": ""}}})
            + event("content-delta", index=0, delta={"message": {"content": {"thinking": "Hmm."}}})
            + event("content-end", index=0)
            + event("content-start", index=1, delta={"message": {"content": {"type": "text", "text": ""}}})
            + event("content-delta", index=1, delta={"message": {"content": {"text": "Hello"}}})
            + event("content-delta", index=1, delta={"message": {"content": {"text": "!"}}})
            + event("content-end", index=1)
            + event("message-end", delta={"finish_reason": "MAX_TOKENS",
                                          "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 4}}}))
    frames, response = decode(data)
    assert [e for f in frames for e in f.events if isinstance(e, TextDelta | ThinkingDelta)] == [
        ThinkingDelta(0, text="Hmm."), TextDelta(1, "Hello"), TextDelta(1, "!")]
    assert response.thinking == "Hmm."
    assert response.text == "Hello!"
    assert response.stop_reason == "length"
    assert response.usage == Usage(input_tokens=3, output_tokens=4)


def test_an_error_finish_carries_cohere_s_message() -> None:
    data = (event("message-start", id="r2")
            + event("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}})
            + event("content-delta", index=0, delta={"message": {"content": {"text": "Par"}}})
            + event("message-end", delta={"finish_reason": "ERROR", "error": "internal error during generation"}))
    frames, response = decode(data)
    finish = next(e for f in frames for e in f.events if isinstance(e, Finish))
    assert finish == Finish(stop_reason="error", extra={"error": "internal error during generation"})
    assert response.text == "Par"
    assert response.stop_reason == "error"


def test_a_stream_cut_before_message_end_is_an_upstream_failure() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames = decoder.feed(event("message-start", id="r3") + event("content-delta", index=0, delta={
        "message": {"content": {"text": "Hel"}}}))
    assert [e for f in frames for e in f.events] == [StreamStart(id="r3", model="command-r7b-12-2024"),
                                                     TextDelta(0, "Hel")]
    with pytest.raises(UpstreamUnavailableError) as caught:
        decoder.close()
    assert "message-end" in caught.value.message
    assert caught.value.retryable is True


def test_malformed_event_data_is_an_upstream_failure() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    with pytest.raises(UpstreamUnavailableError) as caught:
        decoder.feed(b"event: content-delta\ndata: {not json}\n\n")
    assert "content-delta" in caught.value.message


def test_crlf_separated_events_and_unknown_kinds() -> None:
    data = (event("message-start", id="r4") + event("citation-start", index=0, delta={"message": {}})
            + event("debug", prompt="...") + event("content-delta", index=0, delta={"message": {"content": {
                "text": "ok"}}}) + event("message-end", delta={"finish_reason": "COMPLETE"}))
    frames, response = decode(data.replace(b"\n", b"\r\n"))
    assert len(frames) == 5
    assert response.text == "ok"
    assert response.stop_reason == "end"
