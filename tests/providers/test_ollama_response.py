"""parse_chat on Ollama native ``/api/chat`` answers.

No recorded traffic is native, so the answers are those of Ollama's API documentation (docs/api.md) and the
fields its Python client declares (``thinking``, ``tool_calls`` with object arguments, ``done_reason``).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamModelNotFoundError,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.ollama_response import created_seconds

ADAPTER = OllamaAdapter(spec_for(ProviderType.OLLAMA))
LOCAL = ProviderConfig(provider_type=ProviderType.OLLAMA, name="local")

DOCUMENTED_ANSWER = {
    "model": "llama3.2", "created_at": "2023-12-12T14:13:43.416799Z",
    "message": {"role": "assistant", "content": "Hello! How are you today?"},
    "done": True, "total_duration": 5191566416, "load_duration": 2154458, "prompt_eval_count": 26,
    "prompt_eval_duration": 383809000, "eval_count": 298, "eval_duration": 4799921000,
}
DOCUMENTED_TOOL_ANSWER = {
    "model": "llama3.2", "created_at": "2024-07-22T20:33:28.123648Z",
    "message": {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "get_current_weather", "arguments": {"format": "celsius", "location": "Paris, FR"}}}]},
    "done_reason": "stop", "done": True, "total_duration": 885095291, "load_duration": 3753500,
    "prompt_eval_count": 122, "prompt_eval_duration": 328493000, "eval_count": 33, "eval_duration": 552222000,
}


def parse(body: dict[str, Any] | bytes) -> ChatResponse:
    return ADAPTER.parse_chat(LOCAL, body if isinstance(body, bytes) else msgspec.json.encode(body))


def test_documented_answer() -> None:
    response = parse(DOCUMENTED_ANSWER)
    assert response.parts == [TextPart("Hello! How are you today?")]
    assert response.model == "llama3.2"
    assert response.stop_reason == "end"
    assert response.usage == Usage(input_tokens=26, output_tokens=298)
    assert response.created == 1702390423
    assert response.id == ""  # Ollama gives none


def test_documented_tool_call_answer() -> None:
    response = parse(DOCUMENTED_TOOL_ANSWER)
    (call,) = response.parts
    assert isinstance(call, ToolCallPart)
    assert call.name == "get_current_weather"
    assert msgspec.json.decode(call.arguments) == {"format": "celsius", "location": "Paris, FR"}
    assert call.id.startswith("call_") and len(call.id) == 29
    assert response.stop_reason == "tool_calls"  # Ollama says stop; the answer calls a tool
    assert response.usage == Usage(input_tokens=122, output_tokens=33)
    assert parse(DOCUMENTED_TOOL_ANSWER).tool_calls[0].id != call.id  # each answer's calls get fresh ids


def test_thinking_text_and_calls_with_ids_and_string_arguments() -> None:
    response = parse({"model": "qwen3:0.6b", "created_at": "2025-06-01T10:00:00.123456789+02:00", "message": {
        "role": "assistant", "content": "Checking.", "thinking": "The user wants the time.",
        "tool_calls": [{"id": "call_abc", "function": {"index": 0, "name": "now", "arguments": {}}},
                       {"function": {"index": 1, "name": "tz", "arguments": '{"city":"Oslo"}'}}]},
        "done_reason": "stop", "done": True, "prompt_eval_count": 30, "eval_count": 12})
    thinking, text, first, second = response.parts
    assert thinking == ThinkingPart(text="The user wants the time.")
    assert text == TextPart("Checking.")
    assert first == ToolCallPart(id="call_abc", name="now", arguments="{}")
    assert (second.name, second.arguments) == ("tz", '{"city":"Oslo"}')
    assert response.created == 1748764800


def test_length_and_load_reasons() -> None:
    assert parse({**DOCUMENTED_ANSWER, "done_reason": "length"}).stop_reason == "length"
    loaded = parse({"model": "llama3.2", "created_at": "2024-09-12T21:17:29.110811Z",
                    "message": {"role": "assistant", "content": ""}, "done_reason": "load", "done": True})
    assert loaded.parts == []
    assert loaded.stop_reason == "end"
    assert loaded.usage == Usage()


@pytest.mark.parametrize(("stamp", "seconds"), [
    ("2023-08-04T19:22:45.499127Z", 1691176965),
    ("2023-08-04T08:52:19.385406455-07:00", 1691164339),
    ("2023-08-04T19:22:45Z", 1691176965),
    ("not a time", 0),
    (None, 0),
])
def test_created_at_with_nanoseconds_and_offsets(stamp: str | None, seconds: int) -> None:
    assert created_seconds(stamp) == seconds


def test_an_error_body_under_200_is_an_error() -> None:
    with pytest.raises(UpstreamModelNotFoundError) as caught:
        parse({"error": 'model "llama9" not found, try pulling it first'})
    assert caught.value.message == 'local: model "llama9" not found, try pulling it first'
    with pytest.raises(UpstreamUnavailableError) as failed:
        parse({"error": "an error was encountered while running the model: unexpected EOF"})
    assert failed.value.retryable is True


def test_unreadable_answers() -> None:
    with pytest.raises(UpstreamUnavailableError) as caught:
        parse(b"502 Bad Gateway")
    assert caught.value.upstream_status == 200
    with pytest.raises(UpstreamUnavailableError):
        parse({"model": "m", "message": {"content": ["a list"]}})
