"""decode: Anthropic Messages request bodies into the canonical ChatRequest, block by block, and every error a 400
naming the field."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import msgspec
import pytest

from byway.api.anthropic_messages import decode, decode_request
from byway.core import (
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
from byway.providers.anthropic_request import JSON_TOOL, build_body
from tests.api._sdk import anthropic_client

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452")).decode()
WEATHER = {"name": "get_weather", "description": "Weather in a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def body(messages: list[Any], **fields: Any) -> bytes:
    return msgspec.json.encode({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": messages, **fields})


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(t: str, **more: Any) -> dict[str, Any]:
    return {"type": "text", "text": t, **more}


# -- messages and blocks ---------------------------------------------------------------------------------------------

def test_minimal_request() -> None:
    request = decode_request(body([{"role": "user", "content": "Hello"}]))
    assert request.model == "claude-sonnet-4-5" and request.max_tokens == 100
    assert request.messages == [Message("user", [TextPart("Hello")])]
    assert request.extra_family == "anthropic" and request.extra is None
    assert (request.stream, request.tools, request.tool_choice, request.stop, request.user) == (
        False, None, None, None, None)


def test_system_string_and_blocks() -> None:
    as_string = decode_request(body([{"role": "user", "content": "x"}], system="Be brief."))
    assert as_string.messages[0] == Message("system", [TextPart("Be brief.")])
    as_blocks = decode_request(body([{"role": "user", "content": "x"}], system=[text("One."), text("Two.")]))
    assert [m.role for m in as_blocks.messages] == ["system", "system", "user"]
    assert [m.text for m in as_blocks.messages[:2]] == ["One.", "Two."]
    assert decode_request(body([{"role": "user", "content": "x"}], system="")).messages[0].role == "user"


def test_system_turn_mid_conversation_keeps_its_place() -> None:
    messages = [user(text("a")), assistant(text("b")), {"role": "system", "content": "From now on, be terse."},
                user(text("c"))]
    decoded = decode(body(messages))
    request = decoded.request
    assert [(m.role, m.text) for m in request.messages] == [
        ("user", "a"), ("assistant", "b"), ("system", "From now on, be terse."), ("user", "c")]
    assert request.extra == {"messages": messages, "system": []}  # for Anthropic: the turn stays where it stands
    assert not decoded.anthropic_only  # other providers take system turns too
    rebuilt = build_body(request)
    assert rebuilt["messages"] == messages and rebuilt["system"] == []


def test_images_base64_and_url() -> None:
    request = decode_request(body([user(
        text("What are these?"),
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})]))
    assert request.messages[0].parts == [TextPart("What are these?"), ImagePart(data=PNG, media_type="image/png"),
                                         ImagePart(url="https://example.com/cat.jpg")]


def test_tool_use_and_results_become_calls_and_tool_turns() -> None:
    request = decode_request(body([
        user(text("Weather in Paris and Rome?")),
        assistant(text("Checking."), {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                      "input": {"city": "Paris"}},
                  {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}),
        user({"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"},
             {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
              "content": [text("Station down"), {"type": "image", "source": {
                  "type": "base64", "media_type": "image/png", "data": PNG}}]},
             text("Thanks, and summarise.")),
        assistant({"type": "tool_use", "id": "toolu_3", "name": "noop", "input": {}}),
        user({"type": "tool_result", "tool_use_id": "toolu_3"}),
    ], tools=[WEATHER]))
    roles = [m.role for m in request.messages]
    assert roles == ["user", "assistant", "tool", "tool", "user", "assistant", "tool"]
    assert request.messages[1].parts == [
        TextPart("Checking."),
        ToolCallPart(id="toolu_1", name="get_weather", arguments='{"city":"Paris"}'),
        ToolCallPart(id="toolu_2", name="get_weather", arguments='{"city":"Rome"}')]
    assert request.messages[2].parts == [ToolResultPart(tool_call_id="toolu_1", content=[TextPart("Sunny")],
                                                        name="get_weather")]
    assert request.messages[3].parts == [ToolResultPart(
        tool_call_id="toolu_2", content=[TextPart("Station down"), ImagePart(data=PNG, media_type="image/png")],
        is_error=True, name="get_weather")]
    assert request.messages[4].parts == [TextPart("Thanks, and summarise.")]
    assert request.messages[6].parts == [ToolResultPart(tool_call_id="toolu_3", content=[], name="noop")]
    assert request.tools == [Tool(name="get_weather", description="Weather in a city",
                                  parameters=WEATHER["input_schema"])]


def test_thinking_and_redacted_thinking() -> None:
    request = decode_request(body([
        user(text("hi")),
        assistant({"type": "thinking", "thinking": "Let me see.", "signature": "sig=="},
                  {"type": "redacted_thinking", "data": "opaque"}, text("Hello.")),
        user(text("again"))]))
    assert request.messages[1].parts == [ThinkingPart(text="Let me see.", signature="sig=="),
                                         ThinkingPart(signature="opaque", redacted=True), TextPart("Hello.")]


# -- parameters ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("choice", "expected", "parallel"), [
    ({"type": "auto"}, ToolChoice(mode="auto"), None),
    ({"type": "any"}, ToolChoice(mode="required"), None),
    ({"type": "tool", "name": "get_weather"}, ToolChoice(mode="tool", name="get_weather"), None),
    ({"type": "none"}, ToolChoice(mode="none"), None),
    ({"type": "auto", "disable_parallel_tool_use": True}, ToolChoice(mode="auto"), False),
    ({"type": "any", "disable_parallel_tool_use": False}, ToolChoice(mode="required"), None),
])
def test_tool_choice(choice: dict[str, Any], expected: ToolChoice, parallel: bool | None) -> None:
    request = decode_request(body([user(text("x"))], tools=[WEATHER], tool_choice=choice))
    assert request.tool_choice == expected and request.parallel_tool_calls is parallel
    rebuilt = build_body(request)["tool_choice"]
    assert rebuilt == {k: v for k, v in choice.items() if v is not False}


def test_sampling_and_anthropic_only_parameters() -> None:
    request = decode_request(body([user(text("x"))], stop_sequences=["END", "STOP"], temperature=0.3, top_p=0.9,
                                  top_k=40, stream=True, metadata={"user_id": "u-1"}, service_tier="auto",
                                  thinking={"type": "enabled", "budget_tokens": 2048}))
    assert (request.stop, request.temperature, request.top_p, request.stream, request.user) == (
        ["END", "STOP"], 0.3, 0.9, True, "u-1")
    assert request.extra == {"top_k": 40, "thinking": {"type": "enabled", "budget_tokens": 2048},
                             "service_tier": "auto"}
    sent = build_body(request)
    assert (sent["top_k"], sent["thinking"], sent["service_tier"], sent["metadata"], sent["stop_sequences"]) == (
        40, {"type": "enabled", "budget_tokens": 2048}, "auto", {"user_id": "u-1"}, ["END", "STOP"])


def test_unknown_top_level_fields_travel_in_extra() -> None:
    decoded = decode(body([user(text("x"))], context_management={"edits": []}, inference_geo="us"))
    assert decoded.request.extra == {"context_management": {"edits": []}, "inference_geo": "us"}
    assert decoded.anthropic_only == []


# -- what only Anthropic understands ---------------------------------------------------------------------------------

def test_cache_control_is_kept_verbatim_for_anthropic_only() -> None:
    messages = [user(text("long context", cache_control={"type": "ephemeral"}), text("question"))]
    system = [text("You are kind.", cache_control={"type": "ephemeral", "ttl": "1h"})]
    tools = [{**WEATHER, "cache_control": {"type": "ephemeral"}}]
    decoded = decode(body(messages, system=system, tools=tools))
    request = decoded.request
    assert decoded.anthropic_only == []  # an optimisation: other providers may do without it
    assert request.messages[1].parts == [TextPart("long context"), TextPart("question")]
    assert request.tools is not None and request.tools[0].name == "get_weather"
    assert request.extra == {"messages": messages, "system": system, "tools": tools}
    sent = build_body(request)
    assert (sent["messages"], sent["system"], sent["tools"]) == (messages, system, tools)
    plain = decode_request(body([user(text("long context"), text("question"))], system=[text("You are kind.")],
                                tools=[WEATHER]))
    assert plain.messages == request.messages and plain.tools == request.tools


def test_structured_output_keeps_the_json_tool_beside_annotated_tools() -> None:
    tools = [{**WEATHER, "cache_control": {"type": "ephemeral"}}]
    request = decode_request(body([user(text("x"))], tools=tools, output_format={"type": "json_schema",
                                                                                 "schema": {"type": "object"}}))
    sent = build_body(request)
    assert [t["name"] for t in sent["tools"]] == ["get_weather", JSON_TOOL]
    assert sent["tool_choice"] == {"type": "auto"}


def test_strict_tools_reach_anthropic_and_the_canonical_tool() -> None:
    tools = [{**WEATHER, "strict": True}]
    request = decode_request(body([user(text("x"))], tools=tools))
    assert request.tools is not None and request.tools[0].strict is True
    assert build_body(request)["tools"] == tools


@pytest.mark.parametrize(("block", "path", "what"), [
    ({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERg=="}},
     "messages.0.content.1", "a 'document' block"),
    ({"type": "image", "source": {"type": "file", "file_id": "file_1"}}, "messages.0.content.1",
     "an image with a 'file' source"),
    ({"type": "search_result", "source": "s", "title": "t", "content": [text("r")]}, "messages.0.content.1",
     "a 'search_result' block"),
])
def test_anthropic_only_blocks(block: dict[str, Any], path: str, what: str) -> None:
    messages = [user(text("Read this"), block, text("and answer"))]
    decoded = decode(body(messages))
    assert decoded.anthropic_only == [(path, what)]
    assert decoded.request.messages == [Message("user", [TextPart("Read this"), TextPart("and answer")])]
    assert build_body(decoded.request)["messages"] == messages


def test_server_tools_and_their_blocks_are_anthropic_only() -> None:
    tools = [WEATHER, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    history = [
        user(text("Find news")),
        assistant(text("Searching."), {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
                                       "input": {"query": "news"}},
                  {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}, text("Done.")),
        user(text("More"))]
    decoded = decode(body(history, tools=tools, tool_choice={"type": "auto"}))
    assert [p for p, _ in decoded.anthropic_only] == ["messages.1.content.1", "messages.1.content.2", "tools.1"]
    request = decoded.request
    assert request.messages[1].parts == [TextPart("Searching."), TextPart("Done.")]
    assert [t.name for t in request.tools or []] == ["get_weather"]
    sent = build_body(request)
    assert (sent["tools"], sent["messages"], sent["tool_choice"]) == (tools, history, {"type": "auto"})


def test_tool_reference_inside_a_result_is_anthropic_only() -> None:
    decoded = decode(body([
        user(text("x")), assistant({"type": "tool_use", "id": "t1", "name": "search", "input": {}}),
        user({"type": "tool_result", "tool_use_id": "t1",
              "content": [{"type": "tool_reference", "tool_name": "get_weather"}, text("found it")]})]))
    assert decoded.anthropic_only == [("messages.2.content.0.content.0", "a 'tool_reference' block")]
    assert decoded.request.messages[2].parts == [ToolResultPart(tool_call_id="t1", content=[TextPart("found it")],
                                                                name="search")]


@pytest.mark.parametrize(("field", "value", "path"), [
    ("mcp_servers", [{"type": "url", "url": "https://mcp.example", "name": "x"}], "mcp_servers"),
    ("container", "container_1", "container"),
])
def test_anthropic_only_fields(field: str, value: Any, path: str) -> None:
    decoded = decode(body([user(text("x"))], **{field: value}))
    assert [p for p, _ in decoded.anthropic_only] == [path]
    assert decoded.request.extra == {field: value}


def test_output_config_without_format_is_portable() -> None:
    decoded = decode(body([user(text("x"))], output_config={"effort": "low"}))
    assert decoded.anthropic_only == [] and decoded.request.extra == {"output_config": {"effort": "low"}}


PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.mark.parametrize("fields", [
    {"output_format": {"type": "json_schema", "schema": PERSON}},
    {"output_config": {"format": {"type": "json_schema", "schema": PERSON}, "effort": "low"}},
])
def test_structured_output_is_the_canonical_response_format(fields: dict[str, Any]) -> None:
    decoded = decode(body([user(text("Describe a person"))], **fields))
    request = decoded.request
    assert request.response_format == ResponseFormat(type="json_schema", schema=PERSON)
    assert decoded.anthropic_only == []
    assert request.extra == ({"output_config": {"effort": "low"}} if "output_config" in fields else None)
    sent = build_body(request)  # Anthropic is asked through the adapter's JSON tool, which every model accepts
    assert sent["tools"][0]["name"] == JSON_TOOL and sent["tools"][0]["input_schema"] == PERSON
    assert "output_format" not in sent and sent.get("output_config", {}).get("format") is None


# -- errors ----------------------------------------------------------------------------------------------------------

MSG = [{"role": "user", "content": "x"}]


@pytest.mark.parametrize(("raw", "param", "message"), [
    (b"", None, "There was an issue with the format of your request"),
    (b"{", None, "There was an issue with the format of your request"),
    (b"[1]", None, "The request body must be a JSON object."),
    (b'{"model": "m", "messages": [{"role": "user", "content": "\xff"}], "max_tokens": 1}', None, "There was an"),
    (b"[" * 5000 + b"]" * 5000, None, ""),
    (msgspec.json.encode({"model": "m", "messages": MSG}), "max_tokens", "max_tokens: Field required"),
    (msgspec.json.encode({"max_tokens": 5, "messages": MSG}), "model", "model: Field required"),
    (msgspec.json.encode({"model": "", "max_tokens": 5, "messages": MSG}), "model", "model: expected `str` of"),
    (msgspec.json.encode({"model": "m", "max_tokens": 0, "messages": MSG}), "max_tokens",
     "max_tokens: expected `int` >= 1"),
    (msgspec.json.encode({"model": "m", "max_tokens": "9", "messages": MSG}), "max_tokens",
     "max_tokens: expected `int`, got `str`"),
    (msgspec.json.encode({"model": "m", "max_tokens": 5}), "messages", "messages: Field required"),
    (msgspec.json.encode({"model": "m", "max_tokens": 5, "messages": []}), "messages", "messages: expected `array`"),
    (body([{"role": "tool", "content": "x"}]), "messages.0.role", "messages.0.role: 'tool' is not supported here"),
    (body([{"role": "user"}]), "messages.0.content", "messages.0.content: Field required"),
    (body([{"role": "user", "content": 7}]), "messages.0.content", "messages.0.content: expected `str | array`"),
    (body([user({"type": "video"})]), "messages.0.content.0.type", "messages.0.content.0.type: 'video' is not"),
    (body([user({"text": "no type"})]), "messages.0.content.0.type", "messages.0.content.0.type: Field required"),
    (body([user({"type": "tool_use", "id": "t", "name": "n", "input": {}})]), "messages.0.content.0.type",
     "messages.0.content.0.type: 'tool_use' is not supported here"),
    (body([assistant({"type": "tool_result", "tool_use_id": "t"})]), "messages.0.content.0.type",
     "messages.0.content.0.type: 'tool_result' is not supported here"),
    (body([assistant({"type": "tool_use", "id": "t", "name": "n", "input": [1]})]), "messages.0.content.0.input",
     "messages.0.content.0.input: expected `object`, got `array`"),
    (body([assistant({"type": "tool_use", "name": "n", "input": {}})]), "messages.0.content.0.id",
     "messages.0.content.0.id: Field required"),
    (body([assistant({"type": "thinking", "thinking": "t"})]), "messages.0.content.0.signature",
     "messages.0.content.0.signature: Field required"),
    (body([user({"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": PNG}})]),
     "messages.0.content.0.source.media_type", "messages.0.content.0.source.media_type: Input should be"),
    (body([user({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "@@"}})]),
     "messages.0.content.0.source.data", "messages.0.content.0.source.data: the image data is not valid base64"),
    (body([user({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ""}})]),
     "messages.0.content.0.source.data", "messages.0.content.0.source.data: the image data is not valid base64"),
    (body([user({"type": "image", "source": {"type": "url", "url": "file:///etc/passwd"}})]),
     "messages.0.content.0.source.url", "messages.0.content.0.source.url: expected an http(s) URL"),
    (body([user({"type": "image", "source": {"type": "gopher", "url": "x"}})]),
     "messages.0.content.0.source.type", "messages.0.content.0.source.type: 'gopher' is not supported here"),
    (body([user({"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image", "source": {
        "type": "url", "url": "ftp://x"}}]})]), "messages.0.content.0.content.0.source.url", "messages.0.content"),
    (body(MSG, system=[{"type": "image"}]), "system.0.type", "system.0.type: 'image' is not supported here"),
    (body(MSG, system=5), "system", "system: expected `str | array | null`, got `int`"),
    (body(MSG, temperature=1.5), "temperature", "temperature: expected `float` <= 1.0"),
    (body(MSG, top_p=-0.1), "top_p", "top_p: expected `float` >= 0.0"),
    (body(MSG, top_k=-1), "top_k", "top_k: expected `int` >= 0"),
    (body(MSG, stream="yes"), "stream", "stream: expected `bool | null`, got `str`"),
    (body(MSG, stop_sequences="END"), "stop_sequences", "stop_sequences: expected `array | null`, got `str`"),
    (body(MSG, metadata={"user_id": 5}), "metadata.user_id", "metadata.user_id: expected `str | null`"),
    (body(MSG, tools=[{"name": "x"}]), "tools.0.input_schema", "tools.0.input_schema: Field required"),
    (body(MSG, tools=[{"name": "", "input_schema": {}}]), "tools.0.name", "tools.0.name: expected `str` of length"),
    (body(MSG, tools=[WEATHER], tool_choice={"type": "tool"}), "tool_choice.name", "tool_choice.name: Field req"),
    (body(MSG, tools=[WEATHER], tool_choice={"type": "sometimes"}), "tool_choice.type",
     "tool_choice.type: 'sometimes' is not supported here; expected one of: auto, any, tool, none"),
    (body(MSG, tools=[WEATHER], tool_choice="auto"), "tool_choice", "tool_choice: expected `object | null`, got `str`"),
    (body(MSG, thinking="on"), "thinking", "thinking: expected `object | null`"),
    (body([user(text("x", cache_control={"type": "ephemeral"}), {"type": "video"})]), "messages.0.content.1.type",
     "messages.0.content.1.type: 'video' is not supported here"),
    (body(MSG, output_format={"type": "json_object"}), "output_format.type",
     "output_format.type: 'json_object' is not supported here"),
    (body(MSG, output_config={"format": {"type": "json_schema"}}), "output_config.format.schema",
     "output_config.format.schema: Field required"),
    (body(MSG, output_format={"type": "json_schema", "schema": {}},
          output_config={"format": {"type": "json_schema", "schema": {}}}), "output_format",
     "output_format: send either"),
])
def test_invalid_requests_name_the_field(raw: bytes, param: str | None, message: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode(raw)
    error = info.value
    assert error.status == 400 and error.kind == "invalid_request"
    assert error.param == param
    assert error.message.startswith(message), error.message


# -- what the official SDK sends -------------------------------------------------------------------------------------

def test_bodies_the_sdk_sends_decode() -> None:
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(200, json={"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                                          "content": [], "stop_reason": "end_turn", "stop_sequence": None,
                                          "usage": {"input_tokens": 1, "output_tokens": 1}})

    client = anthropic_client(handler)
    client.messages.create(model="an:claude-x", max_tokens=64, system="Be brief.",
                           messages=[{"role": "user", "content": "Hi"}], extra_body={"temperature": 0.2},
                           stop_sequences=["\n\n"], metadata={"user_id": "42"}, tools=[WEATHER],  # type: ignore[list-item]
                           tool_choice={"type": "any", "disable_parallel_tool_use": True})
    request = decode_request(sent[0])
    assert [(m.role, m.text) for m in request.messages] == [("system", "Be brief."), ("user", "Hi")]
    assert (request.temperature, request.stop, request.user, request.max_tokens) == (0.2, ["\n\n"], "42", 64)
    assert request.tool_choice == ToolChoice(mode="required") and request.parallel_tool_calls is False
    assert json.loads(sent[0])["tools"] == build_body(request)["tools"]
