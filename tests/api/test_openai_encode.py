"""encode_response produces chat.completion bodies the official OpenAI SDK reads back faithfully."""

from __future__ import annotations

from typing import Any

import httpx2
import msgspec
import pytest
from openai.types.chat import ChatCompletion

from byway.api.openai_chat import encode_response
from byway.core import ChatResponse, TextPart, ThinkingPart, ToolCallPart, Usage
from tests.api._sdk import openai_client


def encode(response: ChatResponse) -> tuple[dict[str, Any], ChatCompletion]:
    body = encode_response(response)
    return msgspec.json.decode(body), ChatCompletion.model_validate_json(body)


def test_text_response() -> None:
    response = ChatResponse(id="chatcmpl-abc", model="gpt-4o-mini-2024-07-18", parts=[TextPart("Hello "),
                            TextPart("there")], stop_reason="end", created=1727346168,
                            usage=Usage(input_tokens=12, output_tokens=5, cached_tokens=4, reasoning_tokens=2))
    raw, parsed = encode(response)
    assert list(raw) == ["id", "object", "created", "model", "choices", "usage"]
    assert raw["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "Hello there", "refusal": None, "annotations": []},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert parsed.id == "chatcmpl-abc" and parsed.object == "chat.completion" and parsed.created == 1727346168
    assert parsed.model == "gpt-4o-mini-2024-07-18"
    usage = parsed.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 5, 17)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 4
    assert usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 2


def test_tool_calls_response() -> None:
    response = ChatResponse(id="chatcmpl-t", model="m", stop_reason="tool_calls", parts=[
        ToolCallPart(id="call_1", name="get_weather", arguments='{"city": "Paris"}'),
        ToolCallPart(id="call_2", name="get_time", arguments="{}"),
    ])
    raw, parsed = encode(response)
    message = parsed.choices[0].message
    assert message.content is None and raw["choices"][0]["message"]["content"] is None
    assert parsed.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls or []
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("call_1", "function", "get_weather", '{"city": "Paris"}'),
        ("call_2", "function", "get_time", "{}"),
    ]
    assert msgspec.json.decode(calls[0].function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]


def test_text_beside_tool_calls() -> None:
    response = ChatResponse(id="x", model="m", stop_reason="tool_calls",
                            parts=[TextPart("Let me look."), ToolCallPart(id="c", name="f", arguments="{}")])
    _, parsed = encode(response)
    assert parsed.choices[0].message.content == "Let me look."
    assert len(parsed.choices[0].message.tool_calls or []) == 1


def test_refusal_like_openai() -> None:
    response = ChatResponse(id="x", model="m", stop_reason="refusal", refusal="I can't help with that.")
    raw, parsed = encode(response)
    message = parsed.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None
    assert parsed.choices[0].finish_reason == "stop"  # what OpenAI itself sends with a refusal
    assert "tool_calls" not in raw["choices"][0]["message"]


def test_reasoning_content_when_there_is_thinking() -> None:
    response = ChatResponse(id="x", model="m", stop_reason="end", parts=[
        ThinkingPart(text="First, "), ThinkingPart(text="think."), ThinkingPart(signature="sig", redacted=True),
        TextPart("42")])
    raw, parsed = encode(response)
    assert raw["choices"][0]["message"]["reasoning_content"] == "First, think."
    assert parsed.choices[0].message.content == "42"
    assert (parsed.choices[0].message.model_extra or {})["reasoning_content"] == "First, think."
    plain, _ = encode(ChatResponse(id="x", model="m", parts=[TextPart("a")]))
    assert "reasoning_content" not in plain["choices"][0]["message"]


def test_empty_answer_has_empty_content() -> None:
    raw, parsed = encode(ChatResponse(id="x", model="m", stop_reason="length"))
    assert raw["choices"][0]["message"]["content"] == ""
    assert parsed.choices[0].finish_reason == "length"


@pytest.mark.parametrize(("reason", "finish"), [
    ("end", "stop"), ("stop_sequence", "stop"), ("pause", "stop"), ("length", "length"),
    ("tool_calls", "tool_calls"), ("content_filter", "content_filter"), ("refusal", "stop"), ("error", "stop"),
    (None, "stop"),
])
def test_finish_reasons(reason: Any, finish: str) -> None:
    _, parsed = encode(ChatResponse(id="x", model="m", parts=[TextPart("a")], stop_reason=reason))
    assert parsed.choices[0].finish_reason == finish


def test_openai_extra_fields_come_back() -> None:
    logprobs = {"content": [{"token": "Hi", "logprob": -0.01, "bytes": [72, 105], "top_logprobs": []}],
                "refusal": None}
    response = ChatResponse(id="x", model="m", parts=[TextPart("Hi")], stop_reason="end", extra_family="openai",
                            extra={"system_fingerprint": "fp_123", "service_tier": "default", "logprobs": logprobs,
                                   "model": "must-not-override", "choices": []})
    raw, parsed = encode(response)
    assert parsed.system_fingerprint == "fp_123" and parsed.service_tier == "default"
    assert parsed.model == "m" and len(parsed.choices) == 1
    choice_logprobs = parsed.choices[0].logprobs
    assert choice_logprobs is not None and choice_logprobs.content is not None
    assert choice_logprobs.content[0].token == "Hi" and choice_logprobs.content[0].logprob == -0.01
    assert raw["choices"][0]["logprobs"] == logprobs


def test_extra_of_another_family_is_not_shown() -> None:
    response = ChatResponse(id="x", model="m", parts=[TextPart("Hi")], extra_family="anthropic",
                            extra={"system_fingerprint": "fp", "container": {"id": "c"}})
    raw, parsed = encode(response)
    assert "system_fingerprint" not in raw and "container" not in raw
    assert parsed.system_fingerprint is None


def test_missing_id_gets_a_chatcmpl_id() -> None:
    raw, _ = encode(ChatResponse(id="", model="m", parts=[TextPart("a")]))
    assert raw["id"].startswith("chatcmpl-") and len(raw["id"]) > len("chatcmpl-") + 8


def test_through_the_official_client() -> None:
    response = ChatResponse(id="chatcmpl-sdk", model="gpt-4o", parts=[TextPart("Bonjour")], stop_reason="end",
                            usage=Usage(input_tokens=3, output_tokens=1))

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=encode_response(response), headers={"content-type": "application/json"})

    completion = openai_client(handler).chat.completions.create(model="gpt-4o",
                                                                messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == "Bonjour"
    assert completion.choices[0].message.role == "assistant"
    assert completion.usage is not None and completion.usage.total_tokens == 4
