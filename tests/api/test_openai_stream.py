"""StreamEncoder: canonical events as chat.completion.chunk events, and OpenAI streams passed through."""

from __future__ import annotations

from typing import Any

import httpx2
import msgspec
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from byway.api.openai_chat import DONE, StreamEncoder
from byway.core import (
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
from byway.providers.base import Frame
from byway.providers.sse import SSESplitter
from tests.api._sdk import openai_client
from tests.vectors import stream_capture, stream_capture_paths

USAGE = Usage(input_tokens=20, output_tokens=7, cached_tokens=3, reasoning_tokens=2)


def request(include_usage: bool) -> ChatRequest:
    return ChatRequest(model="gpt-4o-mini", messages=[], stream=True, include_usage=include_usage)


def run(events: list[StreamEvent], *, include_usage: bool = False, per_frame: int = 1,
        end_usage: Usage | None = None) -> bytes:
    encoder = StreamEncoder(request(include_usage), passthrough=False)
    out = b"".join(encoder.frame(Frame(raw=b"ignored", events=events[i:i + per_frame]))
                   for i in range(0, len(events), per_frame))
    return out + encoder.end(end_usage)


def data_lines(stream: bytes) -> list[bytes]:
    assert stream.endswith(b"\n\n")
    blocks = stream[:-2].split(b"\n\n")
    assert all(b.startswith(b"data: ") and b"\n" not in b for b in blocks)
    return [b[len(b"data: "):] for b in blocks]


def chunks(stream: bytes) -> list[ChatCompletionChunk]:
    lines = data_lines(stream)
    assert lines[-1] == b"[DONE]"
    assert lines.count(b"[DONE]") == 1
    return [ChatCompletionChunk.model_validate_json(line) for line in lines[:-1]]


def sdk_stream(body: bytes) -> openai.Stream[ChatCompletionChunk]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = openai_client(handler)
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                          stream=True)


TEXT_EVENTS: list[StreamEvent] = [
    StreamStart(id="chatcmpl-xyz", model="gpt-4o-mini-2024-07-18", created=1727346168),
    TextDelta(index=0, text="Hel"),
    TextDelta(index=0, text="lo"),
    Finish(stop_reason="end"),
    UsageReport(usage=USAGE),
]


def test_text_stream_like_openai() -> None:
    parsed = chunks(run(TEXT_EVENTS, include_usage=True))
    first = parsed[0]
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert first.choices[0].finish_reason is None
    assert "".join(c.choices[0].delta.content or "" for c in parsed if c.choices) == "Hello"
    assert {(c.id, c.model, c.created, c.object) for c in parsed} == {
        ("chatcmpl-xyz", "gpt-4o-mini-2024-07-18", 1727346168, "chat.completion.chunk")}
    finish = parsed[-2]
    assert finish.choices[0].finish_reason == "stop" and finish.choices[0].delta.content is None
    usage_chunk = parsed[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert (usage_chunk.usage.prompt_tokens, usage_chunk.usage.completion_tokens, usage_chunk.usage.total_tokens) \
        == (20, 7, 27)
    assert usage_chunk.usage.prompt_tokens_details is not None
    assert usage_chunk.usage.prompt_tokens_details.cached_tokens == 3
    assert usage_chunk.usage.completion_tokens_details is not None
    assert usage_chunk.usage.completion_tokens_details.reasoning_tokens == 2


def test_frames_with_many_events_give_the_same_bytes() -> None:
    assert run(TEXT_EVENTS, include_usage=True, per_frame=5) == run(TEXT_EVENTS, include_usage=True)


def test_no_usage_chunk_unless_asked() -> None:
    parsed = chunks(run(TEXT_EVENTS, include_usage=False))
    assert all(c.choices for c in parsed)
    assert all(c.usage is None for c in parsed)
    assert parsed[-1].choices[0].finish_reason == "stop"


def test_usage_given_to_end_overrides() -> None:
    parsed = chunks(run(TEXT_EVENTS[:-1], include_usage=True, end_usage=Usage(input_tokens=5, output_tokens=1)))
    assert parsed[-1].usage is not None and parsed[-1].usage.total_tokens == 6
    assert parsed[-1].choices == []


def test_official_sdk_reads_the_stream() -> None:
    stream = sdk_stream(run(TEXT_EVENTS, include_usage=True))
    received = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices) == "Hello"
    assert received[-1].usage is not None and received[-1].usage.completion_tokens == 7


TOOL_EVENTS: list[StreamEvent] = [
    StreamStart(id="msg_01", model="claude-3-5-haiku", created=0),
    TextDelta(index=0, text="Checking both."),
    ToolCallStart(index=1, id="toolu_a", name="get_weather"),
    ToolCallDelta(index=1, arguments='{"ci'),
    ToolCallDelta(index=1, arguments='ty": "Par'),
    ToolCallDelta(index=1, arguments='is"}'),
    ToolCallStart(index=2, id="toolu_b", name="get_time"),
    ToolCallDelta(index=2, arguments='{"tz": '),
    ToolCallDelta(index=2, arguments='"CET"}'),
    Finish(stop_reason="tool_calls"),
    UsageReport(usage=Usage(input_tokens=50, output_tokens=30)),
]


def test_tool_call_deltas_like_openai() -> None:
    parsed = chunks(run(TOOL_EVENTS))
    tool_deltas = [c.choices[0].delta.tool_calls for c in parsed if c.choices and c.choices[0].delta.tool_calls]
    first_a, first_b = tool_deltas[0][0], tool_deltas[4][0]
    assert (first_a.index, first_a.id, first_a.type) == (0, "toolu_a", "function")
    assert first_a.function is not None and (first_a.function.name, first_a.function.arguments) == ("get_weather", "")
    assert (first_b.index, first_b.id) == (1, "toolu_b")  # OpenAI counts tool calls from 0, not parts
    follow = tool_deltas[1][0]
    assert follow.id is None and follow.type is None and follow.function is not None
    assert follow.function.name is None and follow.function.arguments == '{"ci'
    assert parsed[-1].choices[0].finish_reason == "tool_calls"
    assert parsed[0].created > 1_600_000_000  # StreamStart said 0: the encoder dates the stream itself


def test_tool_calls_accumulate_back_with_the_sdk() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=run(TOOL_EVENTS), headers={"content-type": "text/event-stream"})

    tools: Any = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
                  for n in ("get_weather", "get_time")]
    with openai_client(handler).chat.completions.stream(
            model="m", messages=[{"role": "user", "content": "hi"}], tools=tools) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Checking both."
    calls = message.tool_calls or []
    assert [(c.id, c.function.name, msgspec.json.decode(c.function.arguments)) for c in calls] == [
        ("toolu_a", "get_weather", {"city": "Paris"}),
        ("toolu_b", "get_time", {"tz": "CET"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


def test_reasoning_and_refusal_deltas() -> None:
    events: list[StreamEvent] = [
        ThinkingDelta(index=0, text="Let me think"),
        ThinkingDelta(index=0, signature="sig=="),  # signature only: nothing to show
        ThinkingDelta(index=1, text="", redacted=True, signature="opaque"),
        RefusalDelta(text="I can't "),
        RefusalDelta(text="do that."),
        Finish(stop_reason="refusal"),
    ]
    parsed = chunks(run(events))
    deltas = [c.choices[0].delta for c in parsed]
    assert deltas[0].role == "assistant"
    assert [(d.model_extra or {}).get("reasoning_content") for d in deltas[1:2]] == ["Let me think"]
    assert "".join(d.refusal or "" for d in deltas) == "I can't do that."
    assert len(parsed) == 5  # role, reasoning, two refusals, finish
    assert parsed[-1].choices[0].finish_reason == "stop"


def test_without_stream_start_ids_are_generated() -> None:
    parsed = chunks(run([TextDelta(index=0, text="x"), Finish(stop_reason="length")]))
    assert len({c.id for c in parsed}) == 1
    assert parsed[0].id.startswith("chatcmpl-") and parsed[0].model == "gpt-4o-mini"
    assert parsed[0].choices[0].delta.role == "assistant"
    assert parsed[-1].choices[0].finish_reason == "length"


def test_error_mid_stream_ends_it() -> None:
    encoder = StreamEncoder(request(True), passthrough=False)
    body = encoder.frame(Frame(raw=b"", events=TEXT_EVENTS[:2]))
    line = encoder.error(UpstreamUnavailableError("connection reset", provider="oa"))
    assert line == (b'data: {"error":{"message":"oa: connection reset","type":"upstream_error","param":null,'
                    b'"code":"upstream_error"}}\n\n')
    assert encoder.end() == b""
    assert encoder.frame(Frame(raw=b"", events=[TextDelta(index=0, text="late")])) == b""
    with pytest.raises(openai.APIError, match="oa: connection reset"):
        list(sdk_stream(body + line))


def test_end_is_idempotent() -> None:
    encoder = StreamEncoder(request(False), passthrough=False)
    encoder.frame(Frame(raw=b"", events=TEXT_EVENTS))
    assert encoder.end().endswith(DONE)
    assert encoder.end() == b""
    assert encoder.error(RateLimitError("late")) == b""


# -- passthrough -----------------------------------------------------------------------------------------------------

def frames_of(capture: bytes) -> list[Frame]:
    """Frames as an OpenAI stream decoder hands them over: raw event bytes plus what they meant."""
    splitter = SSESplitter()
    frames = []
    for event in splitter.feed(capture) + splitter.close():
        if event.data == b"[DONE]":
            frames.append(Frame(raw=event.raw, events=[]))
            continue
        chunk = msgspec.json.decode(event.data)
        events: list[StreamEvent] = []
        if chunk.get("usage"):
            u = chunk["usage"]
            usage = Usage(input_tokens=u["prompt_tokens"], output_tokens=u["completion_tokens"])
            events.append(UsageReport(usage=usage))
        for choice in chunk["choices"]:
            if choice["delta"].get("content"):
                events.append(TextDelta(index=0, text=choice["delta"]["content"]))
            if choice.get("finish_reason"):
                events.append(Finish(stop_reason="end"))
        frames.append(Frame(raw=event.raw, events=events))
    return frames


def passthrough(frames: list[Frame], include_usage: bool) -> tuple[bytes, bytes]:
    encoder = StreamEncoder(request(include_usage), passthrough=True)
    body = b"".join(encoder.frame(f) for f in frames)
    return body, encoder.end()


CAPTURES = [p.name for p in stream_capture_paths()]


@pytest.mark.parametrize("name", CAPTURES)
def test_passthrough_with_usage_is_byte_for_byte(name: str) -> None:
    capture = stream_capture(name)
    body, tail = passthrough(frames_of(capture), include_usage=True)
    assert body == capture
    assert tail == b""  # [DONE] went by already


@pytest.mark.parametrize("name", CAPTURES)
def test_passthrough_drops_usage_chunk_not_asked_for(name: str) -> None:
    capture = stream_capture(name)
    body, tail = passthrough(frames_of(capture), include_usage=False)
    assert tail == b""
    assert b'"usage"' not in body
    removed = [f.raw for f in frames_of(capture) if f.raw not in body]
    assert len(removed) == 1 and b'"choices":[]' in removed[0]
    assert body.count(b"[DONE]") == 1 and body.endswith(DONE)


def test_passthrough_stream_read_by_the_sdk() -> None:
    capture = stream_capture("e2aad469")
    body, tail = passthrough(frames_of(capture), include_usage=False)
    received = list(sdk_stream(body + tail))
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices).startswith("I'm unable to")
    assert all(c.usage is None for c in received)


def test_passthrough_adds_done_when_upstream_did_not() -> None:
    frames = [f for f in frames_of(stream_capture("e2aad469")) if b"[DONE]" not in f.raw]
    body, tail = passthrough(frames, include_usage=False)
    assert DONE not in body and tail == DONE


def test_passthrough_owes_usage_when_upstream_sent_none() -> None:
    frames = [f for f in frames_of(stream_capture("e2aad469")) if b"[DONE]" not in f.raw]
    no_usage = [f for f in frames if not any(isinstance(e, UsageReport) for e in f.events)]
    body, tail = passthrough(no_usage, include_usage=True)
    assert b'"usage"' not in body
    assert tail == DONE  # nothing known about usage: say nothing rather than zeros
    encoder = StreamEncoder(request(True), passthrough=True)
    for f in no_usage:
        encoder.frame(f)
    tail = encoder.end(Usage(input_tokens=9, output_tokens=4))
    usage_chunk, done = data_lines(tail)
    assert done == b"[DONE]"
    parsed = ChatCompletionChunk.model_validate_json(usage_chunk)
    assert parsed.choices == [] and parsed.usage is not None and parsed.usage.total_tokens == 13


def test_passthrough_keeps_usage_riding_on_a_choice_chunk() -> None:
    raw = (b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,'
           b'"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}'
           b"\n\n")
    frame = Frame(raw=raw, events=[UsageReport(usage=Usage(input_tokens=4, output_tokens=2))])
    for include_usage in (False, True):
        encoder = StreamEncoder(request(include_usage), passthrough=True)
        assert encoder.frame(frame) == raw
        assert encoder.end() == DONE  # no second usage chunk


def test_a_repeated_finish_is_sent_once() -> None:
    parsed = chunks(run([TextDelta(index=0, text="a"), Finish(stop_reason="length"), Finish(stop_reason="end")]))
    assert [c.choices[0].finish_reason for c in parsed] == [None, None, "length"]
