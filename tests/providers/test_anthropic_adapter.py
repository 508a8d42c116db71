"""The Anthropic adapter: building requests, errors and the model list (no network)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
)
from byway.providers.anthropic import AnthropicAdapter
from byway.providers.anthropic_request import JSON_TOOL
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType

ADAPTER = AnthropicAdapter(spec_for(ProviderType.ANTHROPIC))
PROVIDER = ProviderConfig(provider_type=ProviderType.ANTHROPIC, name="an", api_key="sk-ant-test")
WEATHER = Tool(name="get_weather", description="Weather in a city",
               parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def user(text: str) -> Message:
    return Message(role="user", parts=[TextPart(text)])


def body_of(request: ChatRequest, provider: ProviderConfig = PROVIDER) -> dict[str, Any]:
    call = ADAPTER.chat_call(provider, request)
    assert call.body is not None
    return msgspec.json.decode(call.body)


def chat(*messages: Message, model: str = "claude-sonnet-4-5", **kw: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=list(messages), **kw)


# -- the HTTP call ------------------------------------------------------------------------------------------------


def test_call_targets_messages_with_anthropic_headers() -> None:
    call = ADAPTER.chat_call(PROVIDER, chat(user("hi")))
    assert (call.method, call.url) == ("POST", "https://api.anthropic.com/v1/messages")
    assert call.headers == {"anthropic-version": "2023-06-01", "content-type": "application/json",
                            "x-api-key": "sk-ant-test"}


def test_base_url_override_and_extra_headers() -> None:
    provider = ProviderConfig(provider_type=ProviderType.ANTHROPIC, api_key="k", base_url="http://127.0.0.1:9200/anthropic/",
                              headers={"anthropic-beta": "prompt-caching-2024-07-31"})
    call = ADAPTER.chat_call(provider, chat(user("hi")))
    assert call.url == "http://127.0.0.1:9200/anthropic/v1/messages"
    assert call.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert call.headers["x-api-key"] == "k"


def test_minimal_body() -> None:
    assert body_of(chat(user("Hello"))) == {
        "model": "claude-sonnet-4-5", "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "stream": False,
    }


def test_stream_flag() -> None:
    assert body_of(chat(user("Hello"), stream=True))["stream"] is True


# -- messages -----------------------------------------------------------------------------------------------------


def test_system_and_developer_turns_are_hoisted_in_order() -> None:
    body = body_of(chat(
        Message(role="system", parts=[TextPart("You are terse.")]),
        user("Hi"),
        Message(role="assistant", parts=[TextPart("Hello.")]),
        Message(role="developer", parts=[TextPart("Answer in French."), TextPart("  ")]),
        user("How are you?"),
    ))
    assert body["system"] == [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Answer in French."}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == [{"type": "text", "text": "How are you?"}]


def test_consecutive_turns_of_one_role_are_merged() -> None:
    body = body_of(chat(user("first"), Message(role="system", parts=[TextPart("sys")]), user("second")))
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "first"},
                                                             {"type": "text", "text": "second"}]}]


def test_tool_round_trip_becomes_tool_use_and_tool_result_turns() -> None:
    call_a = ToolCallPart(id="toolu_a", name="get_weather", arguments='{"city": "Paris"}')
    call_b = ToolCallPart(id="toolu_b", name="get_weather", arguments="")
    body = body_of(chat(
        user("Weather in Paris and Rome?"),
        Message(role="assistant", parts=[TextPart("Checking."), call_a, call_b]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="toolu_a", content=[TextPart("Sunny, 22C")])]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="toolu_b", content=[TextPart("city missing")],
                                                   is_error=True)]),
        user("Thanks, and tomorrow?"),
        tools=[WEATHER],
    ))
    assistant, results = body["messages"][1], body["messages"][2]
    assert assistant == {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {}},
    ]}
    assert results == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "Sunny, 22C"},
        {"type": "tool_result", "tool_use_id": "toolu_b", "content": "city missing", "is_error": True},
        {"type": "text", "text": "Thanks, and tomorrow?"},
    ]}
    assert len(body["messages"]) == 3


def test_tool_results_go_before_text_in_a_merged_user_turn() -> None:
    body = body_of(chat(
        user("go"),
        Message(role="assistant", parts=[ToolCallPart(id="t1", name="get_weather", arguments='{"city":"Oslo"}')]),
        user("(also, be quick)"),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="t1", content=[TextPart("Snow")])]),
    ))
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "text"]
    assert body["messages"][2]["content"][1]["text"] == "(also, be quick)"


def test_tool_result_with_an_image_keeps_a_block_list() -> None:
    result = ToolResultPart(tool_call_id="t1", content=[TextPart("chart:"), ImagePart(data="iVBORw0KGgoAAA",
                                                                                       media_type="image/png")])
    body = body_of(chat(user("x"), Message(role="assistant", parts=[ToolCallPart(id="t1", name="plot")]),
                        Message(role="tool", parts=[result])))
    assert body["messages"][2]["content"][0]["content"] == [
        {"type": "text", "text": "chart:"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgoAAA"}},
    ]


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]", "null"])
def test_tool_call_arguments_that_are_not_an_object_are_refused(arguments: str) -> None:
    request = chat(user("x"), Message(role="assistant", parts=[ToolCallPart(id="t9", name="f", arguments=arguments)]))
    with pytest.raises(InvalidRequestError) as info:
        ADAPTER.chat_call(PROVIDER, request)
    assert info.value.status == 400
    assert info.value.param == "messages[1].tool_calls"
    assert "t9" in info.value.message


def test_thinking_parts_signed_kept_unsigned_dropped() -> None:
    body = body_of(chat(user("q"), Message(role="assistant", parts=[
        ThinkingPart(text="let me think", signature="sig-1"),
        ThinkingPart(signature="opaque==", redacted=True),
        ThinkingPart(text="no signature from another model"),
        TextPart("answer"),
    ]), user("more")))
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "let me think", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque=="},
        {"type": "text", "text": "answer"},
    ]


def test_images_by_url_inline_and_data_url() -> None:
    body = body_of(chat(Message(role="user", parts=[
        TextPart("What are these?"),
        ImagePart(url="https://example.com/cat.jpg", detail="high"),
        ImagePart(data="R0lGODlhAQABAAAAACw=", media_type="image/gif"),
        ImagePart(url="data:image/webp;base64,UklGRhYAAABXRUJQ"),
        ImagePart(data="/9j/4AAQSkZJRgABAQ"),
    ])))
    assert body["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGODlhAQABAAAAACw="}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": "UklGRhYAAABXRUJQ"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQ"}},
    ]


def test_empty_turns_are_dropped_and_a_final_assistant_prefill_is_trimmed() -> None:
    body = body_of(chat(user("Name a colour."), Message(role="assistant", parts=[TextPart("")]), user("Go"),
                        Message(role="assistant", parts=[TextPart("The colour is ")])))
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Name a colour."}, {"type": "text", "text": "Go"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "The colour is"}]},
    ]


# -- tools and tool_choice ----------------------------------------------------------------------------------------


def test_tools_become_input_schemas() -> None:
    bare = Tool(name="now", parameters={"properties": {}})
    body = body_of(chat(user("x"), tools=[WEATHER, bare]))
    assert body["tools"] == [
        {"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER.parameters},
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in body


@pytest.mark.parametrize(("choice", "parallel", "expected"), [
    (ToolChoice("auto"), None, {"type": "auto"}),
    (ToolChoice("required"), None, {"type": "any"}),
    (ToolChoice("tool", "get_weather"), None, {"type": "tool", "name": "get_weather"}),
    (ToolChoice("none"), None, {"type": "none"}),
    (ToolChoice("none"), False, {"type": "none"}),
    (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    (ToolChoice("required"), False, {"type": "any", "disable_parallel_tool_use": True}),
    (ToolChoice("tool", "get_weather"), False,
     {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}),
    (ToolChoice("auto"), True, {"type": "auto"}),
])
def test_tool_choice(choice: ToolChoice | None, parallel: bool | None, expected: dict[str, Any]) -> None:
    body = body_of(chat(user("x"), tools=[WEATHER], tool_choice=choice, parallel_tool_calls=parallel))
    assert body["tool_choice"] == expected


def test_tool_choice_without_tools_is_not_sent() -> None:
    assert "tool_choice" not in body_of(chat(user("x"), tool_choice=ToolChoice("required")))


# -- sampling and limits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "expected"), [
    ("claude-3-haiku-20240307", 4096), ("claude-3-opus-latest", 4096), ("claude-3-5-haiku-latest", 8192),
    ("claude-sonnet-4-20250514", 8192), ("claude-opus-4-1", 8192),
])
def test_max_tokens_default_per_model(model: str, expected: int) -> None:
    assert body_of(chat(user("x"), model=model))["max_tokens"] == expected


def test_max_tokens_given_wins() -> None:
    assert body_of(chat(user("x"), max_tokens=100))["max_tokens"] == 100


def test_default_max_tokens_rises_above_a_thinking_budget() -> None:
    body = body_of(chat(user("x"), extra={"thinking": {"type": "enabled", "budget_tokens": 10000}},
                        extra_family="anthropic"))
    assert body["max_tokens"] == 18192
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 10000}


def test_sampling_fields_stop_sequences_and_user() -> None:
    body = body_of(chat(user("x"), temperature=0.3, top_p=0.9, stop=["END", "", "STOP"], user="user-42",
                        seed=7, metadata={"trace": "abc"}))
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["stop_sequences"] == ["END", "STOP"]
    assert body["metadata"] == {"user_id": "user-42"}
    assert "seed" not in body


def test_temperature_is_clamped_to_anthropic_range() -> None:
    assert body_of(chat(user("x"), temperature=1.7))["temperature"] == 1.0


def test_reasoning_effort_becomes_a_thinking_budget() -> None:
    body = body_of(chat(user("x"), reasoning_effort="medium", temperature=0.2, top_p=0.5))
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert body["max_tokens"] == 4096 + 8192
    assert "temperature" not in body and "top_p" not in body


def test_reasoning_effort_budget_fits_under_a_given_max_tokens() -> None:
    assert body_of(chat(user("x"), reasoning_effort="high", max_tokens=3000))["thinking"]["budget_tokens"] == 2999
    small = body_of(chat(user("x"), reasoning_effort="low", max_tokens=500, temperature=0.4))
    assert "thinking" not in small and small["temperature"] == 0.4


# -- extra --------------------------------------------------------------------------------------------------------


def test_anthropic_extra_passes_through_but_not_over_model_or_stream() -> None:
    body = body_of(chat(user("x"), extra={"top_k": 40, "model": "other", "stream": True,
                                          "cache_control": {"type": "ephemeral"}}, extra_family="anthropic"))
    assert body["top_k"] == 40
    assert body["cache_control"] == {"type": "ephemeral"}
    assert body["model"] == "claude-sonnet-4-5"
    assert body["stream"] is False


def test_extra_of_another_family_is_ignored() -> None:
    body = body_of(chat(user("x"), extra={"logprobs": True, "top_k": 3}, extra_family="openai"))
    assert "logprobs" not in body and "top_k" not in body


# -- JSON mode ----------------------------------------------------------------------------------------------------

PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}


def test_json_schema_is_a_forced_tool() -> None:
    fmt = ResponseFormat(type="json_schema", schema=PERSON, name="person", description="a person")
    body = body_of(chat(user("Invent a person"), response_format=fmt))
    assert body["tools"] == [{"name": JSON_TOOL, "description": (
        "Give your answer by calling this tool: its input is the whole answer, a JSON object matching the schema "
        "'person' (a person)."), "input_schema": PERSON}]
    assert body["tool_choice"] == {"type": "tool", "name": JSON_TOOL}
    assert "system" not in body


def test_json_object_is_a_forced_tool_taking_any_object() -> None:
    body = body_of(chat(user("JSON please"), response_format=ResponseFormat(type="json_object")))
    assert body["tools"][0]["input_schema"] == {"type": "object"}
    assert body["tool_choice"] == {"type": "tool", "name": JSON_TOOL}


def test_json_mode_with_client_tools_lets_the_model_choose_and_says_so() -> None:
    body = body_of(chat(user("x"), tools=[WEATHER], response_format=ResponseFormat(type="json_object")))
    assert [t["name"] for t in body["tools"]] == ["get_weather", JSON_TOOL]
    assert body["tool_choice"] == {"type": "auto"}
    assert JSON_TOOL in body["system"][-1]["text"]


def test_json_mode_with_thinking_asks_instead_of_forcing() -> None:
    body = body_of(chat(user("x"), response_format=ResponseFormat(type="json_schema", schema=PERSON),
                        extra={"thinking": {"type": "enabled", "budget_tokens": 2048}}, extra_family="anthropic"))
    assert body["tool_choice"] == {"type": "auto"}
    assert body["system"] == [{"type": "text", "text": f"Give your final answer by calling the {JSON_TOOL} tool, "
                                                       "never as plain text."}]


def test_json_schema_without_an_object_root_is_refused() -> None:
    fmt = ResponseFormat(type="json_schema", schema={"type": "array", "items": {"type": "string"}})
    with pytest.raises(InvalidRequestError) as info:
        ADAPTER.chat_call(PROVIDER, chat(user("x"), response_format=fmt))
    assert info.value.param == "response_format"


def test_json_mode_answer_comes_back_as_text() -> None:
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
              "content": [{"type": "tool_use", "id": "toolu_9", "name": JSON_TOOL,
                           "input": {"name": "Ada", "age": 36}}],
              "stop_reason": "tool_use", "stop_sequence": None,
              "usage": {"input_tokens": 400, "output_tokens": 30}}
    response = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(answer))
    assert response.text == '{"name":"Ada","age":36}'
    assert response.tool_calls == []
    assert response.stop_reason == "end"


# -- errors -------------------------------------------------------------------------------------------------------


def error_body(kind: str, message: str) -> bytes:
    return msgspec.json.encode({"type": "error", "error": {"type": kind, "message": message},
                                "request_id": "req_011"})


def test_rate_limit_keeps_retry_after() -> None:
    error = ADAPTER.parse_error(PROVIDER, 429, {"retry-after": "7"},
                                error_body("rate_limit_error", "Number of request tokens has exceeded your limit"))
    assert isinstance(error, UpstreamRateLimitError)
    assert error.retry_after == 7.0
    assert error.headers() == {"retry-after": "7"}
    assert error.retryable and error.upstream_status == 429 and error.provider == "an"
    assert "exceeded your limit" in error.message


def test_overloaded_is_unavailable_and_retryable() -> None:
    error = ADAPTER.parse_error(PROVIDER, 529, {}, error_body("overloaded_error", "Overloaded"))
    assert isinstance(error, UpstreamUnavailableError)
    assert error.retryable and error.upstream_status == 529
    assert error.message == "an: Overloaded"


def test_bad_key_is_an_upstream_auth_failure() -> None:
    error = ADAPTER.parse_error(PROVIDER, 401, {}, error_body("authentication_error", "invalid x-api-key"))
    assert isinstance(error, UpstreamAuthError)
    assert (error.status, error.code) == (502, "provider_auth_failed")


def test_billing_error_is_a_provider_side_failure() -> None:
    error = ADAPTER.parse_error(PROVIDER, 400, {}, error_body("billing_error", "Your credit balance is too low"))
    assert isinstance(error, UpstreamAuthError)
    assert error.code == "provider_billing_error"
    assert not error.retryable


def test_invalid_request_keeps_message_and_type() -> None:
    error = ADAPTER.parse_error(PROVIDER, 400, {}, error_body("invalid_request_error", "max_tokens: Field required"))
    assert isinstance(error, UpstreamInvalidRequestError)
    assert (error.status, error.code) == (400, "invalid_request_error")
    assert error.message == "an: max_tokens: Field required"


def test_error_body_that_is_not_json() -> None:
    error = ADAPTER.parse_error(PROVIDER, 502, {}, b"<html>Bad Gateway</html>")
    assert isinstance(error, UpstreamUnavailableError)
    assert error.message == "an: HTTP 502: <html>Bad Gateway</html>"


# -- models -------------------------------------------------------------------------------------------------------


def test_models_call_and_parse() -> None:
    call = ADAPTER.models_call(PROVIDER)
    assert (call.method, call.url, call.body) == ("GET", "https://api.anthropic.com/v1/models?limit=1000", None)
    assert call.headers == {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
    listing = {"data": [
        {"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5",
         "created_at": "2025-09-29T00:00:00Z"},
        {"type": "model", "id": "claude-3-5-haiku-20241022", "display_name": "Claude Haiku 3.5",
         "created_at": "2024-10-22T00:00:00Z"},
    ], "has_more": False, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-3-5-haiku-20241022"}
    assert ADAPTER.parse_models(PROVIDER, msgspec.json.encode(listing)) == [
        "claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022"]


def test_unreadable_model_list() -> None:
    with pytest.raises(UpstreamUnavailableError):
        ADAPTER.parse_models(PROVIDER, b'{"models": []}')


# -- parse_chat edge cases ----------------------------------------------------------------------------------------


def test_stop_sequence_answer() -> None:
    answer = {"id": "msg_2", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
              "content": [{"type": "text", "text": "1, 2, 3, "}], "stop_reason": "stop_sequence",
              "stop_sequence": "4", "usage": {"input_tokens": 12, "output_tokens": 9,
                                               "cache_creation_input_tokens": 100, "cache_read_input_tokens": None}}
    response = ADAPTER.parse_chat(PROVIDER, msgspec.json.encode(answer))
    assert (response.stop_reason, response.stop_sequence) == ("stop_sequence", "4")
    usage = response.usage
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cached_tokens) == (112, 100, 0)
    assert response.text == "1, 2, 3, "


def test_error_envelope_under_status_200_is_raised() -> None:
    with pytest.raises(UpstreamUnavailableError) as info:
        ADAPTER.parse_chat(PROVIDER, error_body("overloaded_error", "Overloaded"))
    assert info.value.upstream_status == 529


def test_unreadable_answer() -> None:
    with pytest.raises(UpstreamUnavailableError):
        ADAPTER.parse_chat(PROVIDER, b"<html>upstream hiccup</html>")


def test_gemini_thought_signatures_never_reach_anthropic() -> None:
    from byway.core import ChatRequest, Message, TextPart, ThinkingPart
    from byway.providers.anthropic_request import build_body

    request = ChatRequest(model="claude-3-5-haiku-latest", messages=[
        Message(role="user", parts=[TextPart("hi")]),
        Message(role="assistant", parts=[ThinkingPart(text="", signature="gemini:abc"),
                                         ThinkingPart(text="mine", signature="EqQBCkYIBxgC"), TextPart("hello")]),
        Message(role="user", parts=[TextPart("again")])])
    assistant = build_body(request)["messages"][1]["content"]
    assert assistant == [{"type": "thinking", "thinking": "mine", "signature": "EqQBCkYIBxgC"},
                         {"type": "text", "text": "hello"}]
