"""parse_chat on every recorded Cohere v2 chat answer (test_cohere and the tool-choice matrix), field by field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.catalog import spec_for
from byway.providers.cohere import CohereAdapter
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import Interaction, cassettes

ADAPTER = CohereAdapter(spec_for(ProviderType.COHERE))
PROVIDER = ProviderConfig(provider_type=ProviderType.COHERE, name="co", api_key="k")
STOPS = {"COMPLETE": "end", "TOOL_CALL": "tool_calls", "MAX_TOKENS": "length", "STOP_SEQUENCE": "stop_sequence"}


def cohere_calls() -> list[Any]:
    out = []
    for folder, pattern in (("test_cohere", "*.yaml"), ("test_tool_choice_matrix", "*cohere*")):
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                if item.request.uri == "https://api.cohere.com/v2/chat":
                    out.append(pytest.param(item, id=f"{tape.name}#{n}"))
    return out


CALLS = cohere_calls()


def parse(body: bytes | dict[str, Any]) -> ChatResponse:
    return ADAPTER.parse_chat(PROVIDER, body if isinstance(body, bytes) else msgspec.json.encode(body))


def test_the_recordings_are_there() -> None:
    assert len(CALLS) == 12  # 4 in test_cohere (one of its interactions is OpenAI's), 8 in the tool-choice matrix


@pytest.mark.parametrize("item", CALLS)
def test_every_recorded_answer_field_by_field(item: Interaction) -> None:
    raw = item.response.json
    response = parse(item.response.body_bytes())
    assert response.id == raw["id"]
    assert response.stop_reason == STOPS[raw["finish_reason"]]
    message = raw["message"]
    content = message.get("content") or []
    assert response.text == "".join(c["text"] for c in content if c["type"] == "text")
    thinking = [c["thinking"] for c in content if c["type"] == "thinking"]
    if message.get("tool_plan"):
        thinking.append(message["tool_plan"])
    assert [p.text for p in response.parts if isinstance(p, ThinkingPart)] == thinking
    calls = message.get("tool_calls") or []
    assert [(c.id, c.name) for c in response.tool_calls] == [(c["id"], c["function"]["name"]) for c in calls]
    assert [msgspec.json.decode(c.arguments) for c in response.tool_calls] == [
        msgspec.json.decode(c["function"]["arguments"]) for c in calls]
    billed = raw["usage"]["billed_units"]
    assert response.usage == Usage(input_tokens=billed["input_tokens"], output_tokens=billed["output_tokens"])
    assert response.extra is not None and response.extra["usage"] == raw["usage"]
    assert response.extra_family == "cohere"
    assert response.model == ""  # Cohere's answer does not name the model


def test_a_tool_call_keeps_its_plan_out_of_the_visible_text() -> None:
    item = next(p.values[0] for p in CALLS if p.id == "test_tool_choice_matrix[auto-cohere]#0")
    response = parse(item.response.body_bytes())
    assert response.parts == [
        ThinkingPart(text="I will use the 'get_weather' tool to find the weather in Paris."),
        ToolCallPart(id="get_weather_9gpb31r7h7mj", name="get_weather", arguments='{"city":"Paris"}'),
    ]
    assert response.text == ""
    assert response.stop_reason == "tool_calls"
    assert response.usage == Usage(input_tokens=41, output_tokens=25)


def test_the_answer_to_a_tool_result_keeps_its_citations() -> None:
    item = next(p.values[0] for p in CALLS if p.id == "test_tool_choice_matrix[auto-cohere]#1")
    response = parse(item.response.body_bytes())
    assert response.text == "The weather in Paris is currently sunny and 22C."
    citations = response.extra["citations"]
    assert [c["text"] for c in citations] == ["sunny", "22C."]
    assert citations[0]["sources"][0]["tool_output"] == {"content": "Sunny, 22C in Paris"}


def test_a_reasoning_model_thinks_before_it_answers() -> None:
    item = next(p.values[0] for p in CALLS if p.id == "test_cohere_model_thinking_part#1")
    response = parse(item.response.body_bytes())
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart) and isinstance(text, TextPart)
    assert thinking.text.startswith("Okay, the user is asking how to cross a river, using the analogy")
    assert response.thinking == thinking.text
    assert response.usage == Usage(input_tokens=431, output_tokens=661)


def test_billed_units_are_the_usage_and_cached_tokens_are_not_claimed() -> None:
    """The recording bills 2406 input tokens of 2935 counted, 2928 of them cached: the cached figure covers
    Cohere's unbilled preamble too, so it cannot be a part of the billed input."""
    item = next(p.values[0] for p in CALLS if p.id == "test_request_usage_with_cached_tokens#0")
    raw_usage = item.response.json["usage"]
    assert raw_usage["cached_tokens"] > raw_usage["billed_units"]["input_tokens"]
    response = parse(item.response.body_bytes())
    assert response.usage == Usage(input_tokens=2406, output_tokens=2, cached_tokens=0)
    assert response.text == "Hello!"


@pytest.mark.parametrize(("reason", "stop"), [
    ("COMPLETE", "end"), ("STOP_SEQUENCE", "stop_sequence"), ("MAX_TOKENS", "length"), ("TOOL_CALL", "tool_calls"),
    ("ERROR", "error"), ("TIMEOUT", "error"), ("SOMETHING_NEW", "end"),
])
def test_finish_reasons(reason: str, stop: str) -> None:
    response = parse({"id": "r", "finish_reason": reason, "message": {"role": "assistant",
                                                                       "content": [{"type": "text", "text": "x"}]}})
    assert response.stop_reason == stop


def test_usage_without_billed_units_falls_back_to_the_token_counts_and_floats_become_ints() -> None:
    response = parse({"id": "r", "finish_reason": "COMPLETE", "message": {"role": "assistant", "content": []},
                      "usage": {"tokens": {"input_tokens": 12.0, "output_tokens": 3.0}}})
    assert response.usage == Usage(input_tokens=12, output_tokens=3)
    assert response.parts == []
    bare = parse({"id": "r", "finish_reason": "COMPLETE", "message": {"role": "assistant"}})
    assert bare.usage == Usage()
    assert bare.extra is None


def test_an_unreadable_answer_is_an_upstream_failure() -> None:
    with pytest.raises(UpstreamUnavailableError) as caught:
        parse(b"<html>bad gateway</html>")
    assert caught.value.provider == "co"
    assert caught.value.upstream_status == 200
    with pytest.raises(UpstreamUnavailableError):
        parse(b'{"id": "r", "message": {"content": "not a list"}}')
