"""Anthropic Messages mock, driven by the official ``anthropic`` SDK."""

from __future__ import annotations

import base64

import anthropic
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json

MODEL = "claude-haiku-4-5"
WEATHER = {"name": "get_weather", "description": "Current weather",
           "input_schema": {"type": "object", "properties": {"location": {"type": "string"},
                                                             "days": {"type": "integer", "minimum": 1}},
                            "required": ["location", "days"]}}
TIME = {"name": "get_time", "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}},
                                             "required": ["tz"]}}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}


def test_text_message_shape_and_usage(ant: anthropic.Anthropic) -> None:
    raw = ant.messages.with_raw_response.create(model=MODEL, max_tokens=100, system="Be brief.",
                                                messages=[{"role": "user", "content": "Hello there"}])
    assert raw.headers["request-id"].startswith("req_")
    msg = raw.parse()
    assert msg.id.startswith("msg_01") and len(msg.id) == 28
    assert (msg.type, msg.role, msg.model, msg.stop_reason, msg.stop_sequence) == (
        "message", "assistant", MODEL, "end_turn", None)
    assert [(b.type, b.text) for b in msg.content] == [("text", "Echo: Hello there")]
    # same rule as OpenAI: 3 + system (4 + 3) + user (4 + 3)
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (17, 5)
    assert (msg.usage.cache_read_input_tokens, msg.usage.cache_creation_input_tokens) == (0, 0)


def test_stream_event_sequence(mock: MockServer) -> None:
    answer = post_json(mock.url + "/anthropic/v1/messages", {
        "model": MODEL, "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "Hello there"}]}, ANTHROPIC_HEADERS)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    names = [line[len("event: "):] for line in answer.text.splitlines() if line.startswith("event: ")]
    assert names == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                     "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert answer.text.count("data: ") == len(names)


def test_stream_helper_accumulates_text(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(model=MODEL, max_tokens=100,
                             messages=[{"role": "user", "content": "Hello there"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert pieces == ["Echo:", " Hello", " there"]
    assert final.content[0].text == "Echo: Hello there"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (10, 5)
    assert final.stop_reason == "end_turn"


def test_stream_tool_use_accumulates_input(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(model=MODEL, max_tokens=200, tools=[WEATHER, TIME],
                             messages=[{"role": "user", "content": "What is the weather in Tokyo?"}]) as stream:
        json_deltas = [e.partial_json for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    # an empty first fragment, as the real API sends, then a few characters at a time
    assert json_deltas == ["", '{"loc', 'ation', '":"To', 'kyo",', '"days', '":1}']
    assert final.stop_reason == "tool_use"
    [block] = final.content
    assert block.type == "tool_use" and block.id.startswith("toolu_01")
    assert (block.name, block.input) == ("get_weather", {"location": "Tokyo", "days": 1})


def test_two_tool_calls_and_result_round_trip(ant: anthropic.Anthropic) -> None:
    messages: list[dict] = [{"role": "user", "content": "Weather and time in Cairo, both"}]
    first = ant.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER, TIME], messages=messages)
    assert [(b.name, b.input) for b in first.content] == [
        ("get_weather", {"location": "Cairo", "days": 1}), ("get_time", {"tz": "example"})]
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": first.content[0].id, "content": "Hot, 35C"},
        {"type": "tool_result", "tool_use_id": first.content[1].id, "content": [{"type": "text", "text": "14:00"}]}]})
    second = ant.messages.create(model=MODEL, max_tokens=200, tools=[WEATHER, TIME], messages=messages)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Tool results: get_weather: Hot, 35C; get_time: 14:00"


def test_tool_choice_variants(ant: anthropic.Anthropic) -> None:
    forced = ant.messages.create(model=MODEL, max_tokens=50, tools=[WEATHER, TIME],
                                 tool_choice={"type": "tool", "name": "get_time"},
                                 messages=[{"role": "user", "content": "hi"}])
    assert [b.name for b in forced.content] == ["get_time"]
    serial = ant.messages.create(model=MODEL, max_tokens=50, tools=[WEATHER, TIME],
                                 tool_choice={"type": "any", "disable_parallel_tool_use": True},
                                 messages=[{"role": "user", "content": "both please"}])
    assert [b.name for b in serial.content] == ["get_weather"]
    off = ant.messages.create(model=MODEL, max_tokens=50, tools=[WEATHER], tool_choice={"type": "none"},
                              messages=[{"role": "user", "content": "hi"}])
    assert off.content[0].text == "Echo: hi"


def test_images_base64_and_url(ant: anthropic.Anthropic) -> None:
    msg = ant.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(PNG).decode()}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/dog.webp"}},
        {"type": "text", "text": "Describe"}]}])
    assert msg.content[0].text == "Echo: [image image/png 68 bytes] [image https://example.com/dog.webp] Describe"
    assert msg.usage.input_tokens == 3 + 4 + 2 + 2 * 85


def test_json_output_format(ant: anthropic.Anthropic) -> None:
    schema = {"type": "object", "properties": {"amount": {"type": "number"}, "currency": {"enum": ["EUR", "USD"]}},
              "required": ["amount", "currency"], "additionalProperties": False}
    msg = ant.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Pay"}],
                              extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}})
    assert msg.content[0].text == '{"amount":1.5,"currency":"EUR"}'


def test_stop_sequence_and_max_tokens(ant: anthropic.Anthropic) -> None:
    stopped = ant.messages.create(model=MODEL, max_tokens=100, stop_sequences=["three"],
                                  messages=[{"role": "user", "content": "one two three"}])
    assert (stopped.content[0].text, stopped.stop_reason, stopped.stop_sequence) == (
        "Echo: one two ", "stop_sequence", "three")
    cut = ant.messages.create(model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "one two three"}])
    assert (cut.content[0].text, cut.stop_reason, cut.usage.output_tokens) == ("Echo: on", "max_tokens", 2)


def test_extended_thinking_streams_a_signed_thinking_block(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(model=MODEL, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
                             messages=[{"role": "user", "content": "Why?"}]) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds
    thinking, text = final.content
    assert (thinking.type, thinking.thinking) == ("thinking", "Considering: Why?")
    assert len(thinking.signature) > 40
    assert text.text == "Echo: Why?"
    assert final.usage.output_tokens == 5 + 3


def test_cache_control_reports_cache_read_and_write(ant: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": "x" * 4 * 3000, "cache_control": {"type": "ephemeral"}}]
    msg = ant.messages.create(model=MODEL, max_tokens=50, system=system,
                              messages=[{"role": "user", "content": "hi"}])
    prompt = 3 + (4 + 3000) + (4 + 1)
    assert msg.usage.cache_read_input_tokens == 2048
    assert msg.usage.cache_creation_input_tokens == (prompt - 2048) // 2
    assert msg.usage.input_tokens + msg.usage.cache_read_input_tokens + msg.usage.cache_creation_input_tokens == prompt
    plain = ant.messages.create(model=MODEL, max_tokens=50, system="x" * 4 * 3000,
                                messages=[{"role": "user", "content": "hi"}])
    assert (plain.usage.input_tokens, plain.usage.cache_read_input_tokens) == (prompt, 0)


def test_count_tokens_and_models(ant: anthropic.Anthropic) -> None:
    counted = ant.messages.count_tokens(model=MODEL, system="Be brief.",
                                        messages=[{"role": "user", "content": "Hello there"}])
    assert counted.input_tokens == 17
    models = [m.id for m in ant.models.list()]
    assert "claude-haiku-4-5-20251001" in models
    assert ant.models.retrieve("claude-haiku-4-5-20251001").display_name == "Claude Haiku 4.5"


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"messages": []}, "at least 1 item"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role: Input should be 'user', 'assistant'"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}]}]},
     "unexpected `tool_use_id` found in `tool_result` blocks: toolu_x"),
    ({"messages": [{"role": "user", "content": "x"},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
                   {"role": "user", "content": "y"}]}, "`tool_use` ids were found without `tool_result` blocks"),
    ({"messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "base64", "media_type": "image/bmp", "data": "AAAA"}}]}]}, "media_type: Input should be"),
    ({"messages": [{"role": "user", "content": "x"}], "extra_body": {"temprature": 1}},
     "temprature: Extra inputs are not permitted"),
    ({"messages": [{"role": "user", "content": "x"}], "thinking": {"type": "enabled", "budget_tokens": 100}},
     "greater than or equal to 1024"),
    ({"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER], "tool_choice": {"type": "any"},
      "thinking": {"type": "enabled", "budget_tokens": 1024}}, "Thinking may not be enabled"),
])
def test_invalid_requests_raise_bad_request(ant: anthropic.Anthropic, kwargs: dict, fragment: str) -> None:
    kwargs.setdefault("max_tokens", 2048)
    with pytest.raises(anthropic.BadRequestError) as err:
        ant.messages.create(model=MODEL, **kwargs)
    assert err.value.status_code == 400
    assert err.value.body["type"] == "error"
    assert err.value.body["error"]["type"] == "invalid_request_error"
    assert fragment in err.value.body["error"]["message"]
