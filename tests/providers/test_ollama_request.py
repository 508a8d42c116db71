"""Building Ollama native ``/api/chat`` calls.

No recorded traffic is native (the test_ollama cassettes are Ollama's OpenAI-compatible API, tested in
test_openai_* and test_ollama_adapter), so the reference bodies here are the request examples of Ollama's
API documentation (docs/api.md: chat with history, with images, with tools, reproducible outputs).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter

ADAPTER = OllamaAdapter(spec_for(ProviderType.OLLAMA))
LOCAL = ProviderConfig(provider_type=ProviderType.OLLAMA)
WEATHER = Tool(name="get_current_weather", description="Get the current weather for a location", parameters={
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The location to get the weather for, e.g. San Francisco, CA"},
        "format": {"type": "string", "description": "The format to return the weather in, e.g. 'celsius' or "
                   "'fahrenheit'", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location", "format"],
})
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def body_of(request: ChatRequest, provider: ProviderConfig = LOCAL) -> dict[str, Any]:
    call = ADAPTER.chat_call(provider, request)
    assert call.body is not None
    return msgspec.json.decode(call.body)


def turn(role: str, *parts: Part | str) -> Message:
    return Message(role=role, parts=[TextPart(p) if isinstance(p, str) else p for p in parts])  # type: ignore[arg-type]


def ask(*messages: Message, **kw: Any) -> ChatRequest:
    return ChatRequest(model=kw.pop("model", "llama3.2"), messages=list(messages), **kw)


# -- the documented requests -----------------------------------------------------------------------------------


def test_documented_chat_with_history() -> None:
    body = body_of(ask(turn("user", "why is the sky blue?"), turn("assistant", "due to rayleigh scattering."),
                       turn("user", "how is that different than mie scattering?"), stream=True))
    assert body == {"model": "llama3.2", "messages": [
        {"role": "user", "content": "why is the sky blue?"},
        {"role": "assistant", "content": "due to rayleigh scattering."},
        {"role": "user", "content": "how is that different than mie scattering?"},
    ], "stream": True}


def test_documented_chat_with_images() -> None:
    body = body_of(ask(turn("user", "what is in this image?", ImagePart(data=PIXEL, media_type="image/png")),
                       model="llava"))
    assert body["messages"] == [{"role": "user", "content": "what is in this image?", "images": [PIXEL]}]
    assert ADAPTER.inline_images is True


def test_documented_chat_with_tools() -> None:
    body = body_of(ask(turn("user", "What is the weather today in Paris?"), tools=[WEATHER]))
    assert body == {"model": "llama3.2", "messages": [{"role": "user", "content": "What is the weather today in Paris?"}],
                    "stream": False, "tools": [{"type": "function", "function": {
                        "name": "get_current_weather", "description": "Get the current weather for a location",
                        "parameters": WEATHER.parameters}}]}


def test_documented_reproducible_outputs_options() -> None:
    body = body_of(ask(turn("user", "Hello!"), seed=101, temperature=0, top_p=0.9, max_tokens=100,
                       stop=["\n", "user:"]))
    assert body["options"] == {"seed": 101, "temperature": 0, "top_p": 0.9, "num_predict": 100, "stop": ["\n", "user:"]}


# -- URLs and headers ------------------------------------------------------------------------------------------


def test_url_headers_and_the_stream_flag_always_sent() -> None:
    call = ADAPTER.chat_call(LOCAL, ask(turn("user", "hi")))
    assert (call.method, call.url) == ("POST", "http://localhost:11434/api/chat")
    assert call.headers == {"accept": "application/json", "content-type": "application/json"}
    assert msgspec.json.decode(call.body)["stream"] is False  # Ollama streams unless told not to
    streamed = ADAPTER.chat_call(LOCAL, ask(turn("user", "hi"), stream=True))
    assert streamed.headers["accept"] == "application/x-ndjson"


def test_a_key_is_sent_as_bearer_and_base_urls_with_v1_are_trimmed() -> None:
    cloud = ProviderConfig(provider_type=ProviderType.OLLAMA, api_key="ol-key", base_url="https://ollama.com")
    call = ADAPTER.chat_call(cloud, ask(turn("user", "hi")))
    assert call.url == "https://ollama.com/api/chat"
    assert call.headers["authorization"] == "Bearer ol-key"
    legacy = ProviderConfig(provider_type=ProviderType.OLLAMA, base_url="http://gpu-box:11434/v1/")
    assert ADAPTER.chat_call(legacy, ask(turn("user", "hi"))).url == "http://gpu-box:11434/api/chat"
    native = ProviderConfig(provider_type=ProviderType.OLLAMA, base_url="http://gpu-box:11434", api="native")
    assert ADAPTER.chat_call(native, ask(turn("user", "hi"))).url == "http://gpu-box:11434/api/chat"


# -- mappings --------------------------------------------------------------------------------------------------


def test_system_developer_and_multi_part_text() -> None:
    body = body_of(ask(turn("developer", "Be brief."), turn("system", "Use French."), turn("user", "one", "two")))
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "system", "content": "Use French."},
                                {"role": "user", "content": "one\ntwo"}]


def test_an_image_left_as_a_url_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        body_of(ask(turn("user", "look"), turn("user", "and", ImagePart(url="https://example.com/a.png"))))
    assert caught.value.param == "messages[1].content"
    assert "https://example.com/a.png" in caught.value.message


def test_tool_round_trip_with_arguments_as_objects_and_tool_names() -> None:
    body = body_of(ask(
        turn("user", "Weather in Paris and Rome?"),
        Message(role="assistant", parts=[
            ThinkingPart(text="Two cities, two calls."),
            ToolCallPart(id="call_1", name="get_current_weather", arguments='{"location":"Paris","format":"celsius"}'),
            ToolCallPart(id="call_2", name="get_current_weather", arguments="")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="call_1", content=[TextPart("22C")]),
                                    ToolResultPart(tool_call_id="call_2", content=[TextPart("18C")],
                                                   name="weather_v2")]),
    ))
    assert body["messages"][1:] == [
        {"role": "assistant", "content": "", "thinking": "Two cities, two calls.", "tool_calls": [
            {"function": {"name": "get_current_weather", "arguments": {"location": "Paris", "format": "celsius"}}},
            {"function": {"name": "get_current_weather", "arguments": {}}}]},
        {"role": "tool", "content": "22C", "tool_name": "get_current_weather"},
        {"role": "tool", "content": "18C", "tool_name": "weather_v2"},
    ]


def test_a_tool_result_for_an_unknown_call_goes_without_a_name_and_keeps_its_images() -> None:
    body = body_of(ask(turn("user", "hi"), Message(role="tool", parts=[
        ToolResultPart(tool_call_id="zzz", content=[TextPart("seen"), ImagePart(data=PIXEL, media_type="image/png")])])))
    assert body["messages"][1] == {"role": "tool", "content": "seen", "images": [PIXEL]}


@pytest.mark.parametrize("arguments", ['"just text"', "[1, 2]", "{broken"])
def test_tool_call_arguments_that_are_not_an_object_are_refused(arguments: str) -> None:
    history = Message(role="assistant", parts=[ToolCallPart(id="c9", name="f", arguments=arguments)])
    with pytest.raises(InvalidRequestError) as caught:
        body_of(ask(turn("user", "hi"), history))
    assert caught.value.param == "messages[1].tool_calls"
    assert "c9" in caught.value.message


def test_tool_choice_without_an_ollama_field() -> None:
    clock = Tool(name="now", parameters={"type": "object", "properties": {}})
    assert "tools" not in body_of(ask(turn("user", "hi"), tools=[WEATHER, clock], tool_choice=ToolChoice("none")))
    forced = body_of(ask(turn("user", "hi"), tools=[WEATHER, clock], tool_choice=ToolChoice("tool", "now")))
    assert [t["function"]["name"] for t in forced["tools"]] == ["now"]
    required = body_of(ask(turn("user", "hi"), tools=[WEATHER, clock], tool_choice=ToolChoice("required")))
    assert [t["function"]["name"] for t in required["tools"]] == ["get_current_weather", "now"]
    assert "tool_choice" not in required
    with pytest.raises(InvalidRequestError) as caught:
        body_of(ask(turn("user", "hi"), tools=[clock], tool_choice=ToolChoice("tool", "get_current_weather")))
    assert caught.value.param == "tool_choice"


def test_json_mode_is_the_format_field() -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    assert body_of(ask(turn("user", "json please"), response_format=ResponseFormat("json_object")))["format"] == "json"
    assert body_of(ask(turn("user", "hi"), response_format=ResponseFormat("json_schema", schema=schema)))[
        "format"] == schema
    assert "format" not in body_of(ask(turn("user", "hi"), response_format=ResponseFormat("text")))


def test_think_passes_through_from_extra_or_follows_reasoning_effort() -> None:
    assert body_of(ask(turn("user", "hi"), extra={"think": "high", "keep_alive": "10m"}, extra_family="openai")) == {
        "model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "think": "high", "keep_alive": "10m",
        "stream": False}
    assert body_of(ask(turn("user", "hi"), reasoning_effort="medium"))["think"] is True
    assert body_of(ask(turn("user", "hi"), reasoning_effort="none"))["think"] is False
    assert body_of(ask(turn("user", "hi"), reasoning_effort="high", extra={"think": False}))["think"] is False
    assert "think" not in body_of(ask(turn("user", "hi")))


def test_unknown_api_mode_is_refused_naming_the_field() -> None:
    odd = ProviderConfig(provider_type=ProviderType.OLLAMA, name="box", api="grpc")
    for call in (lambda: ADAPTER.chat_call(odd, ask(turn("user", "hi"))), lambda: ADAPTER.models_call(odd),
                 lambda: ADAPTER.parse_chat(odd, b"{}")):
        with pytest.raises(InvalidRequestError) as caught:
            call()
        assert caught.value.param == "api"
        assert "'grpc'" in caught.value.message and "box" in caught.value.message
