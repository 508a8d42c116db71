"""The Ollama NDJSON stream decoder, whole and in 1-byte slices.

The streams are built from the documented shapes (docs/api.md "Chat Request (Streaming)": one object per
line, ``done: false`` pieces, a final ``done: true`` object with the counts), as no native stream is recorded.
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
    ProviderError,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UpstreamModelNotFoundError,
    UpstreamUnavailableError,
    Usage,
    UsageReport,
)
from byway.providers.base import Frame
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter

ADAPTER = OllamaAdapter(spec_for(ProviderType.OLLAMA))
LOCAL = ProviderConfig(provider_type=ProviderType.OLLAMA, name="local")
REQUEST = ChatRequest(model="llama3.2", messages=[Message(role="user", parts=[TextPart("why is the sky blue?")])],
                      stream=True)
SLICES = (1, 2, 5, 64, 1 << 20)
STAMP = "2023-08-04T08:52:19.385406455-07:00"


def line(done: bool = False, **fields: Any) -> bytes:
    message = {"role": "assistant", "content": "", **fields.pop("message", {})}
    return msgspec.json.encode({"model": "llama3.2", "created_at": STAMP, "message": message, "done": done,
                                **fields}) + b"\n"


def final(reason: str = "stop", prompt: int = 26, out: int = 282) -> bytes:
    return line(True, done_reason=reason, total_duration=4883583458, load_duration=1334875, prompt_eval_count=prompt,
                prompt_eval_duration=342546000, eval_count=out, eval_duration=4535599000)


TEXT_STREAM = b"".join(line(message={"content": piece}) for piece in ("The", " sky", " is", " blue")) + final()
TOOL_STREAM = (line(message={"thinking": "Need the weather."}) + line(message={"thinking": " Call it."})
               + line(message={"tool_calls": [
                   {"function": {"index": 0, "name": "get_current_weather", "arguments": {"location": "Paris"}}},
                   {"function": {"index": 1, "name": "get_current_weather", "arguments": {"location": "Rome"}}}]})
               + final(prompt=122, out=33))


def decode(data: bytes, size: int = 1 << 20) -> tuple[list[Frame], ChatResponse]:
    decoder = ADAPTER.stream_decoder(LOCAL, REQUEST)
    frames: list[Frame] = []
    for start in range(0, len(data), size):
        frames.extend(decoder.feed(data[start:start + size]))
    frames.extend(decoder.close())
    acc = Accumulator()
    for frame in frames:
        for event in frame.events:
            acc.add(event)
    return frames, acc.response()


@pytest.mark.parametrize("size", SLICES)
def test_the_documented_text_stream(size: int) -> None:
    frames, response = decode(TEXT_STREAM, size)
    assert b"".join(f.raw for f in frames) == TEXT_STREAM
    assert len(frames) == 5
    assert [e for f in frames for e in f.events] == [
        StreamStart(id="", model="llama3.2", created=1691164339), TextDelta(0, "The"), TextDelta(0, " sky"),
        TextDelta(0, " is"), TextDelta(0, " blue"), Finish(stop_reason="end"),
        UsageReport(Usage(input_tokens=26, output_tokens=282))]
    assert response.text == "The sky is blue"
    assert response.usage == Usage(input_tokens=26, output_tokens=282)


@pytest.mark.parametrize("size", SLICES)
def test_thinking_then_whole_tool_calls(size: int) -> None:
    frames, response = decode(TOOL_STREAM, size)
    events = [e for f in frames for e in f.events]
    assert events[1:3] == [ThinkingDelta(0, text="Need the weather."), ThinkingDelta(0, text=" Call it.")]
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.name) for s in starts] == [(1, "get_current_weather"), (2, "get_current_weather")]
    assert all(s.id.startswith("call_") for s in starts) and starts[0].id != starts[1].id
    assert [e for e in events if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta(1, '{"location":"Paris"}'), ToolCallDelta(2, '{"location":"Rome"}')]
    assert response.stop_reason == "tool_calls"
    assert response.thinking == "Need the weather. Call it."
    assert [msgspec.json.decode(c.arguments)["location"] for c in response.tool_calls] == ["Paris", "Rome"]
    assert response.usage == Usage(input_tokens=122, output_tokens=33)


def test_the_stream_matches_the_answer_it_streams() -> None:
    whole = ADAPTER.parse_chat(LOCAL, msgspec.json.encode({
        "model": "llama3.2", "created_at": STAMP, "message": {"role": "assistant", "content": "The sky is blue"},
        "done_reason": "length", "done": True, "prompt_eval_count": 26, "eval_count": 282}))
    _, streamed = decode(b"".join(line(message={"content": p}) for p in ("The sky", " is blue")) + final("length"), 3)
    assert (streamed.parts, streamed.stop_reason, streamed.usage, streamed.model, streamed.created) == (
        whole.parts, whole.stop_reason, whole.usage, whole.model, whole.created)


@pytest.mark.parametrize("size", SLICES)
def test_a_mid_stream_error_line_hands_over_what_came_before_then_raises(size: int) -> None:
    data = line(message={"content": "The"}) + line(message={"content": " sky"}) + (
        b'{"error":"an error was encountered while running the model: unexpected EOF"}\n')
    decoder = ADAPTER.stream_decoder(LOCAL, REQUEST)
    frames: list[Frame] = []
    with pytest.raises(ProviderError) as caught:
        for start in range(0, len(data), size):
            frames.extend(decoder.feed(data[start:start + size]))
        decoder.close()
    assert isinstance(caught.value, UpstreamUnavailableError)
    assert caught.value.message == "local: an error was encountered while running the model: unexpected EOF"
    assert "".join(e.text for f in frames for e in f.events if isinstance(e, TextDelta)) == "The sky"
    with pytest.raises(ProviderError):  # the decoder stays failed
        decoder.feed(final())


def test_an_error_as_the_first_line_raises_at_once() -> None:
    decoder = ADAPTER.stream_decoder(LOCAL, REQUEST)
    with pytest.raises(UpstreamModelNotFoundError):
        decoder.feed(b'{"error":"model \\"llama9\\" not found, try pulling it first"}\n')


def test_a_stream_without_its_done_line_is_an_upstream_failure() -> None:
    decoder = ADAPTER.stream_decoder(LOCAL, REQUEST)
    assert len(decoder.feed(line(message={"content": "The"}))) == 1
    with pytest.raises(UpstreamUnavailableError, match="done line"):
        decoder.close()


def test_a_last_line_without_newline_and_blank_lines() -> None:
    data = b"\n" + line(message={"content": "Hi"}) + b"\n\n" + final().rstrip(b"\n")
    frames, response = decode(data, 4)
    assert len(frames) == 2
    assert response.text == "Hi"
    assert response.stop_reason == "end"


def test_malformed_lines_are_upstream_failures() -> None:
    decoder = ADAPTER.stream_decoder(LOCAL, REQUEST)
    with pytest.raises(UpstreamUnavailableError, match="unreadable"):
        decoder.feed(b"data: {}\n")
