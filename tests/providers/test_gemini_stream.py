"""The Gemini stream decoder on every recorded ``streamGenerateContent`` stream, whole and in small slices,
and on the stream failures Gemini can produce."""

from __future__ import annotations

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
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    UpstreamAuthError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
    UsageReport,
)
from byway.providers.base import Frame
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from tests.providers.test_gemini_vectors import STREAMS, by_name
from tests.vectors import Interaction

ADAPTER = GeminiAdapter(spec_for(ProviderType.GEMINI))
PROVIDER = ProviderConfig(provider_type=ProviderType.GEMINI, name="gm", api_key="k")
REQUEST = ChatRequest(model="gemini-2.5-flash", messages=[Message(role="user", parts=[TextPart("hi")])], stream=True)
SLICES = (1, 7, 64, 1 << 20)


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


def chunks_of(item: Interaction) -> list[dict]:
    return [msgspec.json.decode(line[6:]) for line in item.response.raw.split(b"\r\n") if line.startswith(b"data: ")]


@pytest.mark.parametrize("size", SLICES)
@pytest.mark.parametrize(("name", "item"), STREAMS, ids=[n for n, _ in STREAMS])
def test_recorded_stream(name: str, item: Interaction, size: int) -> None:
    raw = item.response.raw
    frames, response = decode(raw, size)
    chunks = chunks_of(item)
    assert len(frames) == len(chunks)
    assert b"".join(f.raw for f in frames) == raw  # frames pass the bytes through untouched
    parts = [p for c in chunks for cand in c.get("candidates", [])[:1] for p in (cand.get("content") or {}).get("parts", [])]
    assert response.text == "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
    assert response.thinking == "".join(p["text"] for p in parts if p.get("thought"))
    calls = [p["functionCall"] for p in parts if "functionCall" in p]
    assert [(c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == [
        (c["name"], c.get("args", {})) for c in calls]
    last = chunks[-1]
    assert response.id == last["responseId"] and response.model == last["modelVersion"]
    usage = last["usageMetadata"]
    assert response.usage.input_tokens == usage["promptTokenCount"] + usage.get("toolUsePromptTokenCount", 0)
    assert response.usage.output_tokens == usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0)
    assert response.usage.reasoning_tokens == usage.get("thoughtsTokenCount", 0)
    assert response.stop_reason == ("tool_calls" if calls else "end")
    # the streamed parts are what the whole answer would have been
    kinds = [type(p).__name__ for p in response.parts]
    assert kinds.count("TextPart") <= 1 and kinds.count("ToolCallPart") == len(calls)


def test_text_deltas() -> None:
    frames, response = decode(by_name("test_google_model_stream#0").response.raw)
    events = [e for f in frames for e in f.events]
    assert events[0] == StreamStart(id="w1peaMz6INOvnvgPgYfPiQY", model="gemini-2.0-flash-exp")
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["The", " capital of France", " is Paris.\n"]
    assert {e.index for e in events if isinstance(e, TextDelta)} == {0}
    assert events[-1] == Finish(stop_reason="end")
    assert response.parts == [TextPart("The capital of France is Paris.\n")]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (13, 8)


def test_signed_function_call() -> None:
    item = by_name("test_google_streaming_tool_call_thought_signature#0")
    frames, response = decode(item.response.raw, 1)
    events = [e for f in frames for e in f.events]
    signature = chunks_of(item)[0]["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    start = next(e for e in events if isinstance(e, ToolCallStart))
    assert ThinkingDelta(0, signature="gemini:" + signature) in events
    assert (start.index, start.name) == (1, "get_country") and start.id.startswith("call_")
    assert ToolCallDelta(1, "{}") in events
    assert response.parts == [ThinkingPart(signature="gemini:" + signature),
                              ToolCallPart(id=start.id, name="get_country", arguments="{}")]
    assert response.stop_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (29, 212, 202)


def test_thoughts_then_text() -> None:
    frames, response = decode(by_name("test_google_model_thinking_part_iter#0").response.raw, 7)
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart) and thinking.text.startswith("**Clarifying User Goals**")
    assert thinking.signature is None  # Gemini 2.5 signs the first text part; text signatures are dropped
    assert isinstance(text, TextPart) and text.text.startswith("This is a great question!")
    deltas = [e for f in frames for e in f.events if isinstance(e, ThinkingDelta | TextDelta)]
    assert {e.index for e in deltas if isinstance(e, ThinkingDelta)} == {0}
    assert {e.index for e in deltas if isinstance(e, TextDelta)} == {1}


def test_usage_is_reported_with_every_chunk() -> None:
    frames, response = decode(by_name("test_google_stream_usage_is_live_mid_stream#0").response.raw)
    reports = [e.usage for f in frames for e in f.events if isinstance(e, UsageReport)]
    assert [u.output_tokens for u in reports] == [31 + 35, 79 + 35, 80 + 35]
    assert response.text.splitlines() == [str(n) for n in range(1, 31)]


def sse(*chunks: dict) -> bytes:
    return b"".join(b"data: " + msgspec.json.encode(c) + b"\r\n\r\n" for c in chunks)


TEXT_CHUNK = {"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}, "index": 0}],
              "modelVersion": "gemini-2.5-flash", "responseId": "r1"}


def test_stream_cut_before_finish() -> None:
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    frames = decoder.feed(sse(TEXT_CHUNK))
    assert [e for f in frames for e in f.events][1] == TextDelta(0, "Hel")
    with pytest.raises(UpstreamUnavailableError, match="gm: the stream ended before a finishReason"):
        decoder.close()


def test_error_inside_the_stream() -> None:
    error = {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                       "status": "RESOURCE_EXHAUSTED",
                       "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]}}
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    decoder.feed(sse(TEXT_CHUNK))
    with pytest.raises(UpstreamRateLimitError) as caught:
        decoder.feed(sse(error))
    assert (caught.value.retry_after, caught.value.upstream_status) == (7.0, 429)


def test_plain_json_error_under_200() -> None:
    body = msgspec.json.encode({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                          "status": "INVALID_ARGUMENT",
                                          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                       "reason": "API_KEY_INVALID"}]}})
    decoder = ADAPTER.stream_decoder(PROVIDER, REQUEST)
    assert decoder.feed(body) == []
    with pytest.raises(UpstreamAuthError, match="API_KEY_INVALID"):
        decoder.close()


def test_blocked_prompt_finishes_the_stream() -> None:
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 6},
               "modelVersion": "gemini-2.5-flash", "responseId": "r2"}
    frames, response = decode(sse(blocked))
    assert (response.parts, response.stop_reason, response.usage.input_tokens) == ([], "content_filter", 6)
    assert Finish(stop_reason="content_filter") in frames[0].events


def test_thought_run_ends_at_its_signature() -> None:
    chunk = {"candidates": [{"content": {"parts": [
        {"text": "plan A", "thought": True}, {"text": "", "thought": True, "thoughtSignature": "c2ln"},
        {"text": "more", "thought": True}, {"text": "Answer"}], "role": "model"}, "finishReason": "STOP"}],
        "modelVersion": "gemini-3-pro-preview", "responseId": "r3"}
    _, streamed = decode(sse(chunk), 3)
    whole = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(chunk))
    expected = [ThinkingPart(text="plan A", signature="gemini:c2ln"), ThinkingPart(text="more"), TextPart("Answer")]
    assert streamed.parts == whole.parts == expected
