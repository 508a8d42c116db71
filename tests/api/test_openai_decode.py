"""decode_request: every field and content part of the OpenAI Chat Completions request."""

from __future__ import annotations

import base64
from typing import Any

import httpx2
import msgspec
import pytest

from byway.api.openai_chat import decode_request
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
)
from tests.api._sdk import openai_client
from tests.vectors import cassettes

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()
USER = {"role": "user", "content": "Hello"}


def decode(**fields: Any) -> ChatRequest:
    body = {"model": "gpt-4o-mini", "messages": [USER]} | fields
    return decode_request(msgspec.json.encode(body))


def test_minimal_request() -> None:
    req = decode()
    assert req.model == "gpt-4o-mini"
    assert req.messages == [Message(role="user", parts=[TextPart("Hello")])]
    assert req.stream is False and req.include_usage is False
    assert req.tools is None and req.tool_choice is None and req.extra is None
    assert req.extra_family == "openai"


def test_every_role_with_string_content() -> None:
    req = decode(messages=[
        {"role": "system", "content": "Be brief.", "name": "ops"},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "Weather?", "name": "alice"},
        {"role": "assistant", "content": "Let me check.", "name": "bot"},
    ])
    assert [(m.role, m.text, m.name) for m in req.messages] == [
        ("system", "Be brief.", "ops"),
        ("developer", "Answer in French.", None),
        ("user", "Weather?", "alice"),
        ("assistant", "Let me check.", "bot"),
    ]


def test_system_and_developer_text_part_lists() -> None:
    req = decode(messages=[
        {"role": "system", "content": [{"type": "text", "text": "One. "}, {"type": "text", "text": "Two."}]},
        {"role": "developer", "content": [{"type": "text", "text": "Three."}]},
        USER,
    ])
    assert req.messages[0].parts == [TextPart("One. "), TextPart("Two.")]
    assert req.messages[0].text == "One. Two."
    assert req.messages[1].parts == [TextPart("Three.")]


def test_user_parts_text_and_images() -> None:
    req = decode(messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "http://example.com/dog.png"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
    ]}])
    parts = req.messages[0].parts
    assert parts[0] == TextPart("What is in these?")
    assert parts[1] == ImagePart(url="https://example.com/cat.jpg", detail="high")
    assert parts[2] == ImagePart(url="http://example.com/dog.png")
    assert parts[3] == ImagePart(data=PNG, media_type="image/png", detail="low")
    assert isinstance(parts[3], ImagePart) and parts[3].data_url == f"data:image/png;base64,{PNG}"


def test_data_url_media_type_is_normalised() -> None:
    req = decode(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:IMAGE/JPEG;base64,{PNG}"}}]}])
    assert req.messages[0].parts == [ImagePart(data=PNG, media_type="image/jpeg")]


def test_assistant_tool_calls_with_null_content() -> None:
    req = decode(messages=[USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]}])
    assistant = req.messages[1]
    assert assistant.parts == [
        ToolCallPart(id="call_a", name="get_weather", arguments='{"city":"Paris"}'),
        ToolCallPart(id="call_b", name="get_time", arguments="{}"),
    ]
    assert assistant.text == ""


def test_assistant_text_with_tool_calls_keeps_both_in_order() -> None:
    req = decode(messages=[USER, {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]}])
    assert req.messages[1].parts == [TextPart("Checking."), ToolCallPart(id="c1", name="lookup", arguments='{"q": 1}')]


def test_assistant_empty_string_beside_tool_calls_is_dropped() -> None:
    req = decode(messages=[USER, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}])
    assert req.messages[1].parts == [ToolCallPart(id="c1", name="lookup", arguments="{}")]


def test_assistant_part_list_refusal_and_reasoning() -> None:
    req = decode(messages=[USER, {
        "role": "assistant",
        "reasoning_content": "The user greets me.",
        "content": [{"type": "text", "text": "Hi. "}, {"type": "refusal", "refusal": "I can't do that."}],
    }, {"role": "assistant", "content": None, "refusal": "No."}])
    assert req.messages[1].parts == [ThinkingPart(text="The user greets me."), TextPart("Hi. "),
                                     TextPart("I can't do that.")]
    assert req.messages[2].parts == [TextPart("No.")]


def test_tool_messages_string_and_parts() -> None:
    req = decode(messages=[
        USER,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22 degrees"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "a"},
                                                                {"type": "text", "text": "b"}]},
    ])
    first, second = req.messages[2], req.messages[3]
    assert first.role == "tool" and second.role == "tool"
    assert first.parts == [ToolResultPart(tool_call_id="call_1", content=[TextPart("22 degrees")])]
    result = second.parts[0]
    assert isinstance(result, ToolResultPart)
    assert result.tool_call_id == "call_2" and result.text == "ab"


def test_legacy_function_call_and_function_message() -> None:
    req = decode(messages=[
        USER,
        {"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": '{"c":1}'}},
        {"role": "function", "name": "get_weather", "content": "sunny"},
    ])
    call = req.messages[1].parts[0]
    assert isinstance(call, ToolCallPart)
    assert (call.name, call.arguments) == ("get_weather", '{"c":1}')
    assert req.messages[2].role == "tool"
    assert req.messages[2].parts == [ToolResultPart(tool_call_id=call.id, content=[TextPart("sunny")],
                                                    name="get_weather")]


def test_tools_and_tool_choice_forms() -> None:
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tools = [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather now", "parameters": params,
                                          "strict": True}},
        {"type": "function", "function": {"name": "ping"}},
    ]
    req = decode(tools=tools, tool_choice="required", parallel_tool_calls=False)
    assert req.tools == [
        Tool(name="get_weather", description="Weather now", parameters=params, strict=True),
        Tool(name="ping", parameters={"type": "object", "properties": {}}),
    ]
    assert req.tool_choice == ToolChoice(mode="required")
    assert req.parallel_tool_calls is False
    for mode in ("auto", "none", "required"):
        assert decode(tools=tools, tool_choice=mode).tool_choice == ToolChoice(mode=mode)
    named = decode(tools=tools, tool_choice={"type": "function", "function": {"name": "ping"}})
    assert named.tool_choice == ToolChoice(mode="tool", name="ping")


def test_legacy_functions_map_to_tools() -> None:
    functions = [{"name": "lookup", "description": "Find", "parameters": {"type": "object", "properties": {}}}]
    req = decode(functions=functions, function_call={"name": "lookup"})
    assert req.tools == [Tool(name="lookup", description="Find", parameters={"type": "object", "properties": {}})]
    assert req.tool_choice == ToolChoice(mode="tool", name="lookup")
    assert decode(functions=functions, function_call="none").tool_choice == ToolChoice(mode="none")
    assert decode(functions=functions, function_call="auto").tool_choice == ToolChoice(mode="auto")
    assert decode(functions=functions).tool_choice is None


@pytest.mark.parametrize(("fmt", "expected"), [
    ({"type": "text"}, ResponseFormat(type="text")),
    ({"type": "json_object"}, ResponseFormat(type="json_object")),
    ({"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object"}, "strict": True,
                                             "description": "A city"}},
     ResponseFormat(type="json_schema", schema={"type": "object"}, name="city", strict=True, description="A city")),
    ({"type": "json_schema", "json_schema": {"name": "bare"}}, ResponseFormat(type="json_schema", name="bare")),
])
def test_response_format(fmt: dict[str, Any], expected: ResponseFormat) -> None:
    assert decode(response_format=fmt).response_format == expected


def test_sampling_and_limit_fields() -> None:
    req = decode(temperature=0.2, top_p=0.9, max_tokens=50, stop="END", seed=42, user="u-1",
                 metadata={"team": "search"}, reasoning_effort="low")
    assert (req.temperature, req.top_p, req.max_tokens, req.stop, req.seed) == (0.2, 0.9, 50, ["END"], 42)
    assert (req.user, req.metadata, req.reasoning_effort) == ("u-1", {"team": "search"}, "low")
    assert decode(stop=["a", "b"]).stop == ["a", "b"]
    assert decode(temperature=0, top_p=1).temperature == 0.0
    assert decode(temperature=2).temperature == 2.0


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert decode(max_completion_tokens=30).max_tokens == 30
    assert decode(max_tokens=10, max_completion_tokens=30).max_tokens == 30
    assert decode(max_tokens=10).max_tokens == 10


def test_stream_and_include_usage() -> None:
    req = decode(stream=True, stream_options={"include_usage": True})
    assert req.stream is True and req.include_usage is True
    assert decode(stream=True).include_usage is False
    assert decode(stream=True, stream_options={"include_usage": False}).include_usage is False
    assert decode(stream=False).stream is False


def test_unmodelled_fields_go_to_extra() -> None:
    extras = {
        "frequency_penalty": 0.5, "presence_penalty": -0.5, "logit_bias": {"50256": -100}, "logprobs": True,
        "top_logprobs": 3, "service_tier": "flex", "prediction": {"type": "content", "content": "x"},
        "store": False, "top_k": 40,
    }
    req = decode(temperature=0.3, **extras)
    assert req.extra == extras
    assert req.extra_family == "openai"
    assert req.temperature == 0.3  # known fields still decoded on the slower path
    assert decode(n=1).extra is None


def test_unmodelled_fields_do_not_hide_errors_in_known_ones() -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode(frequency_penalty=0.5, temperature=5)
    assert info.value.param == "temperature"


def test_unknown_fields_inside_objects_are_ignored() -> None:
    req = decode(messages=[{"role": "user", "content": "x", "weird": 1}], stream_options={"include_usage": True,
                                                                                          "include_obfuscation": 1})
    assert req.messages[0].text == "x" and req.include_usage is True


def test_request_built_by_the_official_sdk() -> None:
    captured: list[ChatRequest] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        captured.append(decode_request(request.content))
        return httpx2.Response(400, json={"error": {"message": "stop here", "type": "invalid_request_error"}})

    client = openai_client(handler)
    with pytest.raises(Exception, match="stop here"):
        client.chat.completions.create(
            model="gpt-4o", stream=False, temperature=0.1, max_completion_tokens=64, seed=7, stop=["\n\n"],
            messages=[
                {"role": "developer", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "Describe"},
                                             {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]},
            ],
            tools=[{"type": "function", "function": {"name": "zoom", "parameters": {"type": "object"}}}],
            tool_choice={"type": "function", "function": {"name": "zoom"}},
            response_format={"type": "json_object"},
            frequency_penalty=0.25,
        )
    req = captured[0]
    assert req.model == "gpt-4o" and req.max_tokens == 64 and req.seed == 7 and req.stop == ["\n\n"]
    assert [m.role for m in req.messages] == ["developer", "user"]
    assert req.messages[1].parts[1] == ImagePart(url="https://x.test/a.png")
    assert req.tool_choice == ToolChoice(mode="tool", name="zoom")
    assert req.response_format == ResponseFormat(type="json_object")
    assert req.extra == {"frequency_penalty": 0.25}


def test_recorded_openai_family_requests_decode() -> None:
    """Real request bodies recorded against OpenAI-compatible providers: each decodes, or is refused for a
    content part the canonical model does not carry (audio, files, video)."""
    decoded = refused = 0
    for folder in ("test_openai", "test_groq", "test_deepseek", "test_xai", "test_huggingface", "test_cerebras"):
        for tape in cassettes(folder):
            for item in tape.interactions:
                body = item.request.body
                if not item.request.uri.endswith("/chat/completions") or not isinstance(body, dict):
                    continue
                try:
                    req = decode_request(msgspec.json.encode(body))
                except InvalidRequestError as exc:
                    assert exc.param is not None and exc.param.endswith(".type")
                    assert any(kind in exc.message for kind in ("'input_audio'", "'file'", "'video_url'"))
                    refused += 1
                    continue
                decoded += 1
                assert req.model == body["model"]
                assert len(req.messages) == len(body["messages"])
                if "tools" in body:
                    assert [t.name for t in req.tools or []] == [t["function"]["name"] for t in body["tools"]]
    assert decoded >= 100
    assert refused < 10
