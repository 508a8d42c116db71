"""Building Cohere v2 chat calls: the bodies the real API accepted (recorded), URLs, auth, and each mapping."""

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
from byway.providers.cohere import CohereAdapter
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import Interaction, cassettes

ADAPTER = CohereAdapter(spec_for(ProviderType.COHERE))
PROVIDER = ProviderConfig(provider_type=ProviderType.COHERE, name="co", api_key="co-key")
CHOICES = {"REQUIRED": ToolChoice("required"), "NONE": ToolChoice("none")}
WEATHER = Tool(name="get_weather", description="Get weather", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def body_of(request: ChatRequest, provider: ProviderConfig = PROVIDER) -> dict[str, Any]:
    call = ADAPTER.chat_call(provider, request)
    assert call.body is not None
    return msgspec.json.decode(call.body)


def user(*parts: Part | str) -> Message:
    return Message(role="user", parts=[TextPart(p) if isinstance(p, str) else p for p in parts])


def ask(*messages: Message, **kw: Any) -> ChatRequest:
    return ChatRequest(model=kw.pop("model", "command-r7b-12-2024"), messages=list(messages), **kw)


# -- the recorded requests, rebuilt from their canonical form --------------------------------------------------


def canonical(body: dict[str, Any]) -> ChatRequest:
    """What a client's codec would hand the adapter for this recorded Cohere request."""
    messages = []
    for msg in body["messages"]:
        role, content = msg["role"], msg.get("content")
        if role == "tool":
            messages.append(Message(role="tool", parts=[ToolResultPart(tool_call_id=msg["tool_call_id"],
                                                                       content=[TextPart(content)])]))
            continue
        parts: list[Part] = []
        for item in [{"type": "text", "text": content}] if isinstance(content, str) else content or []:
            parts.append(ThinkingPart(text=item["thinking"]) if item["type"] == "thinking" else TextPart(item["text"]))
        if msg.get("tool_plan"):
            parts.append(ThinkingPart(text=msg["tool_plan"]))
        parts += [ToolCallPart(id=c["id"], name=c["function"]["name"], arguments=c["function"]["arguments"])
                  for c in msg.get("tool_calls") or []]
        messages.append(Message(role=role, parts=parts))
    tools = [Tool(name=t["function"]["name"], description=t["function"].get("description"),
                  parameters=t["function"]["parameters"]) for t in body.get("tools") or []] or None
    choice = CHOICES[body["tool_choice"]] if "tool_choice" in body else None
    return ChatRequest(model=body["model"], messages=messages, tools=tools, tool_choice=choice,
                       stream=body["stream"])


def recorded_requests() -> list[Any]:
    out = []
    for folder, pattern in (("test_cohere", "*.yaml"), ("test_tool_choice_matrix", "*cohere*")):
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                if item.request.uri == "https://api.cohere.com/v2/chat":
                    out.append(pytest.param(item, id=f"{tape.name}#{n}"))
    return out


RECORDED = recorded_requests()


def test_the_recorded_requests_are_there() -> None:
    assert len(RECORDED) == 12


@pytest.mark.parametrize("item", RECORDED)
def test_every_recorded_request_is_rebuilt_exactly(item: Interaction) -> None:
    call = ADAPTER.chat_call(PROVIDER, canonical(item.request.body))
    assert call.method == item.request.method == "POST"
    assert call.url == item.request.uri
    assert msgspec.json.decode(call.body) == item.request.body


def test_the_recorded_thinking_history_goes_back_as_thinking_content() -> None:
    item = next(p.values[0] for p in RECORDED if p.id == "test_cohere_model_thinking_part#1")
    sent = body_of(canonical(item.request.body))["messages"][1]
    assert [c["type"] for c in sent["content"]] == ["thinking", "text"]
    assert sent["content"][0]["thinking"].startswith("**Exploring street crossing safety**")


# -- URLs and headers ------------------------------------------------------------------------------------------


def test_url_auth_and_accept_headers() -> None:
    call = ADAPTER.chat_call(PROVIDER, ask(user("hi")))
    assert call.url == "https://api.cohere.com/v2/chat"
    assert call.headers["authorization"] == "Bearer co-key"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["accept"] == "application/json"
    streamed = ADAPTER.chat_call(PROVIDER, ask(user("hi"), stream=True))
    assert streamed.headers["accept"] == "text/event-stream"
    assert msgspec.json.decode(streamed.body)["stream"] is True


def test_base_url_override_and_extra_headers() -> None:
    provider = ProviderConfig(provider_type=ProviderType.COHERE, api_key="k", base_url="http://127.0.0.1:9/cohere/",
                              headers={"X-Client-Name": "byway"})
    call = ADAPTER.chat_call(provider, ask(user("hi")))
    assert call.url == "http://127.0.0.1:9/cohere/v2/chat"
    assert call.headers["X-Client-Name"] == "byway"


# -- mappings --------------------------------------------------------------------------------------------------


def test_sampling_fields_take_cohere_names_and_p_is_clamped() -> None:
    body = body_of(ask(user("hi"), temperature=0.4, top_p=1.0, max_tokens=50, stop=["END", "STOP"], seed=7,
                       user="u-1", metadata={"a": "b"}, parallel_tool_calls=False))
    assert body == {"model": "command-r7b-12-2024", "messages": [{"role": "user", "content": "hi"}],
                    "temperature": 0.4, "p": 0.99, "max_tokens": 50, "stop_sequences": ["END", "STOP"], "seed": 7,
                    "stream": False}
    assert body_of(ask(user("hi"), top_p=0.0))["p"] == 0.01
    assert body_of(ask(user("hi"), top_p=0.5))["p"] == 0.5


def test_system_and_developer_turns_are_system_messages_in_place() -> None:
    body = body_of(ask(Message(role="developer", parts=[TextPart("Be brief.")]), user("hi"),
                       Message(role="system", parts=[TextPart("Answer in French.")])))
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                                {"role": "system", "content": "Answer in French."}]


def test_images_are_image_url_items_from_data_or_web_urls() -> None:
    message = user("What is this?", ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
                   ImagePart(url="https://example.com/cat.jpg", detail="low"))
    assert body_of(ask(message))["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    assert ADAPTER.inline_images is False


def test_tools_and_tool_choice() -> None:
    other = Tool(name="get_time", parameters={"type": "object", "properties": {}})
    auto = body_of(ask(user("hi"), tools=[WEATHER, other], tool_choice=ToolChoice("auto")))
    assert auto["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "Get weather",
                                          "parameters": WEATHER.parameters}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
    ]
    assert "tool_choice" not in auto
    assert body_of(ask(user("hi"), tools=[WEATHER], tool_choice=ToolChoice("required")))["tool_choice"] == "REQUIRED"
    assert body_of(ask(user("hi"), tools=[WEATHER], tool_choice=ToolChoice("none")))["tool_choice"] == "NONE"
    assert "tool_choice" not in body_of(ask(user("hi"), tool_choice=ToolChoice("none")))  # no tools, no choice


def test_a_forced_tool_is_required_with_only_that_tool_offered() -> None:
    other = Tool(name="get_time", parameters={"type": "object", "properties": {}})
    body = body_of(ask(user("hi"), tools=[other, WEATHER], tool_choice=ToolChoice("tool", "get_weather")))
    assert body["tool_choice"] == "REQUIRED"
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]
    with pytest.raises(InvalidRequestError) as caught:
        body_of(ask(user("hi"), tools=[other], tool_choice=ToolChoice("tool", "get_weather")))
    assert caught.value.param == "tool_choice"
    assert "get_weather" in caught.value.message


def test_strict_tools_turn_on_strict_tools() -> None:
    strict = Tool(name="get_weather", parameters=WEATHER.parameters, strict=True)
    assert body_of(ask(user("hi"), tools=[strict]))["strict_tools"] is True
    assert "strict_tools" not in body_of(ask(user("hi"), tools=[WEATHER]))


def test_response_formats() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    assert body_of(ask(user("hi"), response_format=ResponseFormat("json_object")))["response_format"] == {
        "type": "json_object"}
    assert body_of(ask(user("hi"), response_format=ResponseFormat("json_schema", schema=schema, name="pet")))[
        "response_format"] == {"type": "json_object", "json_schema": schema}
    assert "response_format" not in body_of(ask(user("hi"), response_format=ResponseFormat("text")))


def test_thinking_beside_tool_calls_is_the_tool_plan_and_results_are_tool_messages() -> None:
    call = ToolCallPart(id="get_weather_1", name="get_weather", arguments='{"city":"Paris"}')
    body = body_of(ask(
        user("Weather in Paris?"),
        Message(role="assistant", parts=[ThinkingPart(text="I will look it up."), call,
                                         ThinkingPart(text="", signature="sig", redacted=True)]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="get_weather_1", content=[TextPart("Sunny")])]),
    ))
    assert body["messages"][1:] == [
        {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
            {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather",
                                                                     "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "get_weather_1", "content": "Sunny"},
    ]


def test_empty_arguments_and_empty_assistant_turns() -> None:
    body = body_of(ask(user("hi"), Message(role="assistant", parts=[ToolCallPart(id="c1", name="now", arguments="")]),
                       Message(role="tool", parts=[ToolResultPart(tool_call_id="c1", content=[TextPart("noon")])]),
                       Message(role="assistant", parts=[TextPart("")]), user("thanks")))
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool", "user"]


def test_images_a_tool_returns_follow_its_answer_as_a_user_message() -> None:
    picture = ImagePart(data="R0lGODlhAQABAAAAACw=", media_type="image/gif")
    body = body_of(ask(
        user("Show me"),
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="snap", arguments="{}"),
                                         ToolCallPart(id="c2", name="snap", arguments="{}")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="c1", content=[picture])]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="c2", content=[TextPart("no picture")])]),
        user("Describe it"),
    ))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool", "tool", "user", "user"]
    assert body["messages"][2]["content"] == "(the result is the image in the next message)"
    assert body["messages"][4]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}}]
    assert body["messages"][5] == {"role": "user", "content": "Describe it"}
