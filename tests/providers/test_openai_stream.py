"""The stream decoder on the openai-python stream captures and the recorded provider streams."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    UpstreamInvalidRequestError,
    UpstreamUnavailableError,
    UsageReport,
)
from byway.providers.base import Frame, StreamDecoder
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.openai import OpenAIAdapter
from tests.vectors import cassette, stream_capture, stream_capture_paths

CAPTURES = stream_capture_paths()


def decoder(kind: ProviderType = ProviderType.OPENAI, name: str = "") -> StreamDecoder:
    provider = ProviderConfig(provider_type=kind, name=name or kind.value, base_url="https://x.test/v1")
    request = ChatRequest(model="m", messages=[Message(role="user", parts=[TextPart("hi")])], stream=True)
    return OpenAIAdapter(SPECS[kind]).stream_decoder(provider, request)


def run(data: bytes, pieces: list[bytes] | None = None, kind: ProviderType = ProviderType.OPENAI,
        ) -> tuple[list[Frame], ChatResponse]:
    dec = decoder(kind)
    frames: list[Frame] = []
    for piece in pieces if pieces is not None else [data]:
        frames.extend(dec.feed(piece))
    frames.extend(dec.close())
    acc = Accumulator()
    for frame in frames:
        for event in frame.events:
            acc.add(event)
    return frames, acc.response()


def random_slices(data: bytes, seed: int, largest: int = 9) -> list[bytes]:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(data):
        size = rng.randint(1, largest)
        out.append(data[at:at + size])
        at += size
    return out


def reference(data: bytes) -> dict[str, Any]:
    """What the stream says, read plainly with json (first choice only)."""
    text, refusal, calls, finish, usage, first = [], [], {}, None, None, None
    for line in data.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        first = first or chunk
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            if choice["index"] != 0:
                continue
            delta = choice["delta"]
            text.append(delta.get("content") or "")
            refusal.append(delta.get("refusal") or "")
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": call.get("id"), "name": None, "args": []})
                slot["name"] = slot["name"] or call["function"].get("name")
                slot["args"].append(call["function"].get("arguments") or "")
            finish = finish or choice["finish_reason"]
    return {"id": first["id"], "model": first["model"], "created": first["created"], "text": "".join(text),
            "refusal": "".join(refusal) or None, "finish": finish, "usage": usage,
            "calls": [(c["id"], c["name"], "".join(c["args"])) for _, c in sorted(calls.items())]}


def test_there_are_captures() -> None:
    assert len(CAPTURES) == 12


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name[:12])
def test_capture_decodes_to_what_it_says(path: Path) -> None:
    data = path.read_bytes()
    frames, response = run(data)
    want = reference(data)
    assert b"".join(f.raw for f in frames) == data
    assert len(frames) == data.count(b"\n\n")
    assert frames[-1].raw == b"data: [DONE]\n\n"
    assert frames[-1].events == []
    assert (response.id, response.model, response.created) == (want["id"], want["model"], want["created"])
    assert response.text == want["text"]
    assert response.refusal == want["refusal"]
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == want["calls"]
    assert response.usage.input_tokens == want["usage"]["prompt_tokens"]
    assert response.usage.output_tokens == want["usage"]["completion_tokens"]
    expected_stop = {"stop": "refusal" if want["refusal"] else "end", "length": "length",
                     "tool_calls": "tool_calls"}[want["finish"]]
    assert response.stop_reason == expected_stop
    starts = [e for f in frames for e in f.events if isinstance(e, StreamStart)]
    assert len(starts) == 1
    assert sum(isinstance(e, Finish) for f in frames for e in f.events) == 1


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name[:12])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_capture_fed_in_small_random_slices_gives_the_same_answer(path: Path, seed: int) -> None:
    data = path.read_bytes()
    whole_frames, whole = run(data)
    sliced_frames, sliced = run(data, random_slices(data, seed))
    assert sliced == whole
    assert [f.raw for f in sliced_frames] == [f.raw for f in whole_frames]
    assert [f.events for f in sliced_frames] == [f.events for f in whole_frames]


def test_byte_at_a_time_keeps_multibyte_text_intact() -> None:
    data = stream_capture("d615580118")
    _, response = run(data, [data[i:i + 1] for i in range(len(data))])
    assert '"temperature": "18°C"' in response.text
    assert response.usage.output_tokens == 177


def test_refusal_capture() -> None:
    _, response = run(stream_capture("173417d553"))
    assert response.refusal == "I'm sorry, I can't assist with that request."
    assert response.parts == []
    assert response.stop_reason == "refusal"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (79, 11)


def test_parallel_tool_calls_capture_gets_one_index_each() -> None:
    frames, response = run(stream_capture("f82268f2fe"))
    starts = [e for f in frames for e in f.events if isinstance(e, ToolCallStart)]
    assert starts == [
        ToolCallStart(index=0, id="call_JMW1whyEaYG438VE1OIflxA2", name="GetWeatherArgs"),
        ToolCallStart(index=1, id="call_DNYTawLBoN8fj3KN6qU9N1Ou", name="get_stock_price"),
    ]
    assert response.parts == [
        ToolCallPart(id="call_JMW1whyEaYG438VE1OIflxA2", name="GetWeatherArgs",
                     arguments='{"city": "Edinburgh", "country": "GB", "units": "c"}'),
        ToolCallPart(id="call_DNYTawLBoN8fj3KN6qU9N1Ou", name="get_stock_price",
                     arguments='{"ticker": "AAPL", "exchange": "NASDAQ"}'),
    ]
    assert response.stop_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (149, 60)


def test_single_tool_call_capture_event_order() -> None:
    frames, _ = run(stream_capture("2018feb66a"))
    events = [e for f in frames for e in f.events]
    assert events[0] == StreamStart(id="chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62", model="gpt-4o-2024-08-06",
                                    created=1727346182)
    assert events[1] == ToolCallStart(index=0, id="call_4XzlGBLtUe9dy3GVNV4jhq7h", name="get_weather")
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert "".join(d.arguments for d in deltas) == '{"city":"New York City"}'
    assert all(d.index == 0 for d in deltas)
    assert isinstance(events[-2], Finish)
    assert events[-2].stop_reason == "tool_calls"
    assert isinstance(events[-1], UsageReport)
    assert events[-1].usage.output_tokens == 16


def test_n_greater_than_one_reads_the_first_choice() -> None:
    _, response = run(stream_capture("a491adda08"))
    assert response.text == '{"city":"San Francisco","temperature":65,"units":"f"}'


# --- recorded provider streams ----------------------------------------------------------------------

def recorded_stream(folder: str, name: str, index: int = 0) -> bytes:
    item = cassette(folder, name).interactions[index]
    assert item.response.is_stream
    return item.response.raw


def test_openai_recorded_stream_with_include_usage() -> None:
    _, response = run(recorded_stream("test_openai", "test_openai_moderation_stream"))
    assert response.text == "Paris."
    assert response.stop_reason == "end"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (13, 11)


def test_deepseek_stream_thinking_then_text_with_indexes() -> None:
    frames, response = run(recorded_stream("test_deepseek", "test_deepseek_model_thinking_stream"),
                           kind=ProviderType.DEEPSEEK)
    events = [e for f in frames for e in f.events]
    assert {e.index for e in events if isinstance(e, ThinkingDelta)} == {0}
    assert {e.index for e in events if isinstance(e, TextDelta)} == {1}
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text.startswith('Hmm, the user just said "Hello".')
    assert len(thinking.text) == 882
    assert text == TextPart("Hello there! \U0001f60a How can I help you today?")
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_tokens) == (6, 212, 198, 0)


def test_groq_stream_usage_from_x_groq_and_reasoning() -> None:
    _, response = run(recorded_stream("test_groq", "test_groq_model_web_search_tool_stream"),
                      kind=ProviderType.GROQ)
    assert response.id.startswith("chatcmpl-03ea1ed2")
    assert response.model == "groq/compound"
    assert response.text.startswith("The weather in San Francisco t")
    assert len(response.thinking) > 1000
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5003, 359)


def test_groq_stream_tool_call_arrives_whole() -> None:
    _, response = run(recorded_stream("test_groq", "test_tool_use_failed_error_streaming", 1),
                      kind=ProviderType.GROQ)
    assert response.tool_calls == [ToolCallPart(id="fc_bfb39741-3748-4def-9886-a93fc9c64a90",
                                                name="get_something_by_name", arguments='{"name":"example"}')]
    assert response.stop_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (
        304, 49, 23)


def test_groq_error_event_mid_stream_raises_the_mapped_error() -> None:
    data = recorded_stream("test_groq", "test_tool_use_failed_error_streaming", 0)
    dec = decoder(ProviderType.GROQ, name="my-groq")
    with pytest.raises(UpstreamInvalidRequestError) as caught:
        dec.feed(data)
    assert caught.value.upstream_status == 400
    assert caught.value.code == "tool_use_failed"
    assert caught.value.message.startswith("my-groq: Tool call validation failed")


def test_mistral_stream_thinking_chunks() -> None:
    frames, response = run(recorded_stream("test_mistral", "test_mistral_model_thinking_part_iter"),
                           kind=ProviderType.MISTRAL)
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text.startswith("Okay, the user is")
    assert isinstance(text, TextPart)
    assert text.text.endswith("can ensure a safe crossing.")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 232)
    first_thinking = next(e for f in frames for e in f.events if isinstance(e, ThinkingDelta))
    assert first_thinking == ThinkingDelta(index=0, text="Okay")


def test_openrouter_stream_comments_reasoning_and_cost() -> None:
    data = recorded_stream("test_openrouter", "test_openrouter_streaming_reasoning")
    frames, response = run(data, random_slices(data, 7, largest=5), kind=ProviderType.OPENROUTER)
    comments = [f for f in frames if f.raw.startswith(b": OPENROUTER PROCESSING")]
    assert all(f.events == [] for f in comments)
    assert b"".join(f.raw for f in frames) == data
    assert response.text == "2 + 2 = 4"
    assert len(response.thinking) == 51
    assert response.usage.provider_cost == Decimal("0.000669")
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (
        43, 36, 13)


def test_openrouter_error_chunk_raises_with_the_status_it_names() -> None:
    data = recorded_stream("test_openrouter", "test_openrouter_stream_error")
    dec = decoder(ProviderType.OPENROUTER)
    with pytest.raises(UpstreamInvalidRequestError) as caught:
        dec.feed(data)
    assert caught.value.upstream_status == 400
    assert "Token limit reached" in caught.value.message


def test_huggingface_recorded_stream() -> None:
    _, response = run(recorded_stream("test_stream_close", "test_cancel_recorded_provider_stream[huggingface]", 1),
                      kind=ProviderType.HUGGINGFACE)
    assert response.text == "Paris"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (40, 2)


# --- synthetic edge cases ---------------------------------------------------------------------------

def sse(*chunks: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n".encode() for c in chunks)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any) -> dict[str, Any]:
    body = {"id": "c-1", "object": "chat.completion.chunk", "created": 10, "model": "m",
            "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    body.update(top)
    return body


def test_azure_filter_chunk_without_choices_gives_no_events() -> None:
    azure_first = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                   "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    data = sse(azure_first, chunk({"role": "assistant", "content": "Hi"}), chunk(finish="stop"), "[DONE]")
    frames, response = run(data, kind=ProviderType.AZURE)
    assert frames[0].events == []
    assert frames[1].events == [StreamStart(id="c-1", model="m", created=10), TextDelta(index=0, text="Hi")]
    assert response.text == "Hi"


def test_finish_is_reported_once_and_tool_calls_win() -> None:
    data = sse(chunk({"tool_calls": [{"index": 0, "id": "t1", "function": {"name": "f", "arguments": "{}"}}]}),
               chunk(finish="stop"), chunk(finish="stop"), "[DONE]")
    frames, response = run(data)
    finishes = [e for f in frames for e in f.events if isinstance(e, Finish)]
    assert finishes == [Finish(stop_reason="tool_calls")]
    assert response.tool_calls == [ToolCallPart(id="t1", name="f", arguments="{}")]


def test_tool_calls_without_index_or_reusing_an_index() -> None:
    data = sse(
        chunk({"content": "Let me check."}),
        chunk({"tool_calls": [{"id": "a", "function": {"name": "one", "arguments": '{"x":'}}]}),
        chunk({"tool_calls": [{"id": "a", "function": {"arguments": "1}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "two", "arguments": "{}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "three", "arguments": "{}"}}]}),
        chunk(finish="tool_calls"), "[DONE]")
    _, response = run(data)
    assert response.text == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "one", '{"x":1}'), ("b", "two", "{}"), ("c", "three", "{}")]


def test_close_without_done_or_finish_is_an_early_end() -> None:
    dec = decoder(name="oa-eu")
    dec.feed(sse(chunk({"content": "Hel"})))
    with pytest.raises(UpstreamUnavailableError, match="oa-eu: stream ended early"):
        dec.close()


def test_close_after_finish_without_done_is_fine_and_flushes_the_tail() -> None:
    dec = decoder()
    frames = dec.feed(sse(chunk({"content": "ok"})))
    tail = b'data: {"id":"c-1","created":10,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'
    assert dec.feed(tail) == []
    frames += dec.close()
    assert frames[-1].raw == tail
    assert frames[-1].events == [Finish(stop_reason="end")]


def test_unreadable_chunk_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamUnavailableError, match="unreadable answer"):
        decoder().feed(b"data: {not json\n\n")


def test_usage_chunks_with_null_usage_are_ignored() -> None:
    data = sse(chunk({"content": "x"}, usage=None), chunk(finish="stop", usage=None),
               {"id": "c-1", "created": 10, "model": "m", "choices": [],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1,
                          "prompt_tokens_details": {"cached_tokens": 2}}}, "[DONE]")
    frames, response = run(data)
    reports = [e for f in frames for e in f.events if isinstance(e, UsageReport)]
    assert len(reports) == 1
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.cached_tokens) == (3, 1, 2)


def test_lean_decoding_keeps_start_usage_and_end_and_passes_every_byte() -> None:
    from byway.core import StreamStart, UsageReport
    from byway.providers.openai_stream import OpenAIStreamDecoder

    body = (b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
            b'"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
            b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
            b'"delta":{"content":"the \\"usage\\" word"},"finish_reason":null}]}\n\n'
            b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
            b'"delta":{},"finish_reason":"stop"}]}\n\n'
            b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],'
            b'"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}\n\n'
            b'data: [DONE]\n\n')
    lean = OpenAIStreamDecoder("p")
    lean.lean = True
    frames = [f for k in range(0, len(body), 7) for f in lean.feed(body[k:k + 7])] + lean.close()
    assert b"".join(f.raw for f in frames) == body
    kinds = [type(e).__name__ for f in frames for e in f.events]
    assert kinds[0] == StreamStart.__name__ and "TextDelta" not in kinds
    usage = [e.usage for f in frames for e in f.events if isinstance(e, UsageReport)]
    assert [(u.input_tokens, u.output_tokens) for u in usage] == [(7, 3)]


def test_lean_decoding_still_raises_errors_and_early_ends() -> None:
    import pytest

    from byway.core import ProviderError
    from byway.providers.openai_stream import OpenAIStreamDecoder

    start = (b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
             b'"delta":{"content":"hi"},"finish_reason":null}]}\n\n')
    failing = OpenAIStreamDecoder("p")
    failing.lean = True
    failing.feed(start)
    with pytest.raises(ProviderError):
        failing.feed(b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n')
    cut = OpenAIStreamDecoder("p")
    cut.lean = True
    cut.feed(start + start)
    with pytest.raises(ProviderError, match="ended early"):
        cut.close()


def test_lean_decoding_passes_a_run_of_content_events_as_one_frame() -> None:
    from byway.core import Finish, StreamStart, UsageReport
    from byway.providers.openai_stream import OpenAIStreamDecoder

    def content(text: str, finish: str | None = None) -> bytes:
        reason = f'"{finish}"' if finish else "null"
        return (b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
                b'"delta":{"content":"' + text.encode() + b'"},"finish_reason":' + reason.encode() + b'}],'
                b'"usage":null}\n\n')

    start = content("")
    run = content("The ") + content("sea ") + content("is wide", "stop")
    tail = (b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],'
            b'"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}\n\n'
            b'data: [DONE]\n\n')
    lean = OpenAIStreamDecoder("p")
    lean.lean = True
    first = lean.feed(start)
    assert [type(e) for e in first[0].events] == [StreamStart]
    frames = lean.feed(run + tail) + lean.close()
    assert [f.raw for f in frames] == [run, tail[:tail.index(b"data: [DONE]")], b"data: [DONE]\n\n"]
    assert [f.count for f in frames] == [3, 1, 1] and frames[0].events == []
    assert [type(e) for e in frames[1].events] == [UsageReport] and frames[1].events[0].usage.output_tokens == 4
    assert not any(isinstance(e, Finish) for f in frames for e in f.events)  # the run's finish is seen, not decoded
    # a run cut before its end is held back until its event completes; a run with an error is decoded
    held = OpenAIStreamDecoder("p")
    held.lean = True
    held.feed(start)
    assert held.feed(run[:-5])[0].count == 2
    assert held.feed(run[-5:])[0].raw == content("is wide", "stop")


def test_lean_decoding_of_a_whole_stream_in_one_read_decodes_only_start_usage_and_end() -> None:
    from byway.core import StreamStart, UsageReport
    from byway.providers.openai_stream import OpenAIStreamDecoder

    head = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":'
    body = (head + b'[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
            + b"".join(head + b'[{"index":0,"delta":{"content":"w%d "},"finish_reason":null}]}\n\n' % n
                       for n in range(9))
            + head + b'[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
            + head + b'[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}\n\n'
            + b"data: [DONE]\n\n")
    lean = OpenAIStreamDecoder("p")
    lean.lean = True
    frames = lean.feed(body) + lean.close()
    assert b"".join(f.raw for f in frames) == body
    assert [f.count for f in frames] == [1, 10, 1, 1]  # the start, a run of ten, the usage, the end
    assert [[type(e) for e in f.events] for f in frames] == [[StreamStart], [], [UsageReport], []]
