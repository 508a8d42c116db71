"""parse_chat on recorded Chat Completions answers from OpenAI, Groq, OpenRouter, Mistral, DeepSeek,
Hugging Face, Ollama and the tool-choice matrix."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamInvalidRequestError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.openai import OpenAIAdapter
from tests.vectors import Interaction, cassette, cassettes

FOLDERS = {
    "test_openai": ProviderType.OPENAI, "test_openai_prompt_cache": ProviderType.OPENAI,
    "test_groq": ProviderType.GROQ, "test_openrouter": ProviderType.OPENROUTER,
    "test_mistral": ProviderType.MISTRAL, "test_deepseek": ProviderType.DEEPSEEK,
    "test_huggingface": ProviderType.HUGGINGFACE, "test_ollama": ProviderType.OLLAMA,
    "test_tool_choice_matrix": ProviderType.OPENAI_COMPATIBLE,
}


def parse(kind: ProviderType, body: bytes, name: str = "") -> ChatResponse:
    if kind is ProviderType.OLLAMA:  # the recorded Ollama traffic is its OpenAI-compatible API
        provider = ProviderConfig(provider_type=kind, name=name or kind.value, base_url="https://x.test", api="openai")
        return OllamaAdapter(SPECS[kind]).parse_chat(provider, body)
    provider = ProviderConfig(provider_type=kind, name=name or kind.value, base_url="https://x.test/v1")
    return OpenAIAdapter(SPECS[kind]).parse_chat(provider, body)


def recorded(folder: str, name: str, index: int = 0) -> Interaction:
    return cassette(folder, name).interactions[index]


def parse_recorded(folder: str, name: str, index: int = 0) -> ChatResponse:
    return parse(FOLDERS[folder], recorded(folder, name, index).response.body_bytes())


def _chat_answers() -> list[Any]:
    cases = []
    for folder in FOLDERS:
        for tape in cassettes(folder):
            for n, item in enumerate(tape.interactions):
                uri = item.request.uri
                if ("/chat/completions" not in uri or "demo-endpoints" in uri or item.response.status != 200
                        or item.response.is_stream):
                    continue
                cases.append(pytest.param(folder, item, id=f"{tape.name}-{n}"))
    return cases


CHAT_ANSWERS = _chat_answers()


def test_the_recordings_are_there() -> None:
    assert len(CHAT_ANSWERS) > 120


@pytest.mark.parametrize(("folder", "item"), CHAT_ANSWERS)
def test_every_recorded_answer_parses_to_what_it_says(folder: str, item: Interaction) -> None:
    """Checked against the recorded JSON read plainly, field by field."""
    raw = item.response.json
    response = parse(FOLDERS[folder], item.response.body_bytes())
    message = raw["choices"][0]["message"]
    assert response.id == raw["id"]
    assert response.model == raw["model"]
    assert response.created == int(raw["created"])
    content = message.get("content")
    if isinstance(content, str):
        assert response.text == content
    calls = message.get("tool_calls") or []
    assert [c.name for c in response.tool_calls] == [c["function"]["name"] for c in calls]
    for ours, theirs in zip(response.tool_calls, calls, strict=True):
        # a missing id (Gemini's compatible API sends "") is made up; missing arguments mean "no arguments"
        assert ours.id == theirs["id"] if theirs["id"] else ours.id.startswith("call_")
        arguments = theirs["function"].get("arguments") or "{}"
        assert msgspec.json.decode(ours.arguments) == msgspec.json.decode(arguments)
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        assert response.thinking == reasoning
        assert isinstance(response.parts[0], ThinkingPart)
    usage = raw.get("usage") or {}
    assert response.usage.input_tokens == usage.get("prompt_tokens", 0)
    assert response.usage.output_tokens == usage.get("completion_tokens", 0)
    assert response.usage.reasoning_tokens == ((usage.get("completion_tokens_details") or {})
                                               .get("reasoning_tokens") or 0)
    if calls:
        assert response.stop_reason == "tool_calls"
    elif raw["choices"][0]["finish_reason"] == "stop":
        assert response.stop_reason == "end"


def test_openai_text_answer_with_reasoning_tokens_and_extras() -> None:
    response = parse_recorded("test_openai", "test_max_completion_tokens[o3-mini]")
    assert response.id == "chatcmpl-Dr3KNfXKBS1oDOrhqYDuLYdjX9PM4"
    assert response.model == "o3-mini-2025-01-31"
    assert response.created == 1781536547
    assert response.parts == [TextPart("Hello there! How can I help you today?")]
    assert response.stop_reason == "end"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (7, 87, 64)
    assert response.usage.cached_tokens == 0
    assert response.usage.provider_cost is None
    assert response.extra == {"system_fingerprint": "fp_e89900d9f6", "service_tier": "default"}
    assert response.extra_family == "openai"


def test_openai_cached_prompt_tokens() -> None:
    response = parse_recorded("test_openai_prompt_cache", "test_openai_chat_prompt_cache_e2e", 1)
    assert response.text == "OK"
    assert response.usage.input_tokens == 4020
    assert response.usage.cached_tokens == 4012
    assert response.usage.output_tokens == 4
    assert response.extra == {"service_tier": "default"}


def test_openai_tool_call_answer() -> None:
    response = parse_recorded("test_tool_choice_matrix", "test_tool_choice_matrix[required-openai]")
    assert response.text == ""
    assert response.stop_reason == "tool_calls"
    (call,) = response.tool_calls
    assert call.name == "get_weather"
    assert msgspec.json.decode(call.arguments) == {"city": "Paris"}
    assert call.id.startswith("call_")
    assert response.usage.reasoning_tokens == 64


def test_groq_parallel_tool_calls_and_service_tier() -> None:
    response = parse_recorded("test_tool_choice_matrix", "test_tool_choice_matrix[tools_plus_output-groq]")
    assert response.parts == [
        ToolCallPart(id="rew01jq49", name="get_weather", arguments='{"city":"Paris"}'),
        ToolCallPart(id="gbpypqxpx", name="final_result",
                     arguments='{"city":"Paris","summary":"Current weather in Paris"}'),
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (779, 65)
    assert response.extra == {"system_fingerprint": "fp_37da608fc1", "service_tier": "on_demand"}


def test_groq_reasoning_field_and_cached_tokens() -> None:
    response = parse_recorded("test_groq", "test_tool_use_failed_error", 2)
    assert isinstance(response.parts[0], ThinkingPart)
    assert response.parts[0].text.startswith("We need to respond to user request.")
    assert isinstance(response.parts[1], TextPart)
    assert response.text.startswith("The first call failed due to missing and extra parameters")
    assert (response.usage.input_tokens, response.usage.cached_tokens, response.usage.reasoning_tokens) == (
        336, 256, 59)


def test_deepseek_reasoning_content_tool_call_and_cache_hits() -> None:
    response = parse_recorded("test_deepseek", "test_deepseek_deferred_capability_with_thinking")
    thinking, text, call = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text.startswith("The user wants to play a dice game.")
    assert text == TextPart("Let me load the dice rolling capability!")
    assert call == ToolCallPart(id="call_00_sXqYgMESDht75NCLLZtt9804", name="load_capability",
                                arguments='{"id": "DICE_ROLL"}')
    assert response.stop_reason == "tool_calls"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.reasoning_tokens) == (
        563, 116, 512, 60)


def test_deepseek_prompt_cache_hit_tokens_alone_count_as_cached() -> None:
    body = (b'{"id":"d1","model":"deepseek-chat","created":1,"choices":[{"index":0,"message":{"role":"assistant",'
            b'"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":2,'
            b'"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}')
    assert parse(ProviderType.DEEPSEEK, body).usage.cached_tokens == 64


def test_openrouter_cost_is_an_exact_decimal() -> None:
    response = parse_recorded("test_openrouter", "test_openrouter_usage", 1)
    assert response.usage.provider_cost == Decimal("0.00435825")
    assert response.thinking.startswith("**Exploring Mars Overview**")
    assert response.text.startswith("Here\u2019s a concise but thorough overview of Mars")
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reasoning_tokens) == (
        17, 2177, 960)


def test_openrouter_cost_keeps_digits_a_float_would_lose() -> None:
    body = (b'{"id":"gen-1","model":"x/y","created":1,"choices":[{"index":0,"message":{"role":"assistant",'
            b'"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,'
            b'"cost":0.1000000000000000055511151231257827,"prompt_tokens_details":{"cached_tokens":0,'
            b'"cache_write_tokens":12}}}')
    usage = parse(ProviderType.OPENROUTER, body).usage
    assert usage.provider_cost == Decimal("0.1000000000000000055511151231257827")
    assert usage.cache_write_tokens == 12


def test_mistral_thinking_chunks_in_content() -> None:
    response = parse_recorded("test_mistral", "test_mistral_model_thinking_part", 1)
    thinking, text = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text.startswith("**Analogizing crossing a river**")
    assert isinstance(text, TextPart)
    assert text.text.startswith("Crossing a river is quite diff")
    assert response.usage.input_tokens == 664
    assert response.usage.output_tokens == 747


def test_mistral_tool_call_ids_come_back_as_sent() -> None:
    response = parse_recorded("test_mistral", "test_image_as_binary_content_tool_response")
    (call,) = response.tool_calls
    assert call.name == "get_image"
    assert len(call.id) == 9
    assert call.id.isalnum()


def test_huggingface_tool_call() -> None:
    response = parse_recorded("test_tool_choice_matrix", "test_tool_choice_matrix[required-huggingface]")
    assert response.parts == [ToolCallPart(id="call_fd883226aed04dee83ca77e0", name="get_weather",
                                           arguments='{"city": "Paris"}')]
    assert response.model == "meta-llama/Llama-4-Scout-17B-16E-Instruct"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (608, 30)


def test_ollama_reasoning_then_tool_call() -> None:
    response = parse_recorded("test_ollama", "test_ollama_cloud_tool_output", 1)
    thinking, call = response.parts
    assert isinstance(thinking, ThinkingPart)
    assert thinking.text.startswith("The conversation: user asked")
    assert call == ToolCallPart(id="call_o2vnpxrw", name="final_result",
                                arguments='{"city":"Paris","country":"France"}')
    assert response.extra == {"system_fingerprint": "fp_ollama"}


def test_refusal_logprobs_and_stop_reasons() -> None:
    body = (b'{"id":"c1","model":"gpt-4o","created":5,"system_fingerprint":"fp_1","choices":[{"index":0,'
            b'"message":{"role":"assistant","content":null,"refusal":"I can\'t help with that."},'
            b'"logprobs":{"content":null,"refusal":[{"token":"I","logprob":-0.1}]},"finish_reason":"stop"}]}')
    response = parse(ProviderType.OPENAI, body)
    assert response.parts == []
    assert response.refusal == "I can't help with that."
    assert response.stop_reason == "refusal"
    assert response.extra == {"system_fingerprint": "fp_1",
                              "logprobs": {"content": None, "refusal": [{"token": "I", "logprob": -0.1}]}}
    assert response.usage.total_tokens == 0


@pytest.mark.parametrize(("finish", "reason"), [
    ("stop", "end"), ("length", "length"), ("tool_calls", "tool_calls"), ("function_call", "tool_calls"),
    ("content_filter", "content_filter"), ("model_length", "length"), ("something_new", "end"),
])
def test_finish_reason_mapping(finish: str, reason: str) -> None:
    body = ('{"id":"c","model":"m","created":1,"choices":[{"index":0,"message":{"role":"assistant",'
            f'"content":"x"}},"finish_reason":"{finish}"}}]}}').encode()
    assert parse(ProviderType.OPENAI, body).stop_reason == reason


def test_tool_calls_win_over_a_stop_finish_reason_and_missing_ids_are_made_up() -> None:
    body = (b'{"id":"c","model":"gemini","created":1,"choices":[{"index":0,"message":{"role":"assistant",'
            b'"tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]},'
            b'"finish_reason":"stop"}]}')
    response = parse(ProviderType.OPENAI_COMPATIBLE, body)
    assert response.stop_reason == "tool_calls"
    (call,) = response.tool_calls
    assert call.name == "f"
    assert call.arguments == '{"a":1}'  # an arguments object is re-encoded as JSON text
    assert call.id.startswith("call_")
    assert len(call.id) > 10


def test_error_inside_a_200_answer_raises_it() -> None:
    body = b'{"error":{"message":"Upstream timed out","code":504},"user_id":"u"}'
    with pytest.raises(UpstreamTimeoutError) as caught:
        parse(ProviderType.OPENROUTER, body, name="or")
    assert caught.value.upstream_status == 504
    assert "or: Upstream timed out" in caught.value.message
    bad = b'{"error":{"message":"bad","type":"invalid_request_error"}}'
    with pytest.raises(UpstreamInvalidRequestError):
        parse(ProviderType.OPENAI, bad)


def test_unreadable_answer_is_an_upstream_error_naming_the_provider() -> None:
    with pytest.raises(UpstreamUnavailableError, match="my-oa: unreadable answer"):
        parse(ProviderType.OPENAI, b"<html>502 Bad Gateway</html>", name="my-oa")
    with pytest.raises(UpstreamUnavailableError):
        parse(ProviderType.OPENAI, b'{"choices": "nope"}')
