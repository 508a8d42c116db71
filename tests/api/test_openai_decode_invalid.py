"""decode_request refuses every malformed request with InvalidRequestError naming the offending field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.api.openai_chat import decode_request
from byway.core import InvalidRequestError

USER = {"role": "user", "content": "Hi"}
CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def refuse(body: bytes | dict[str, Any]) -> InvalidRequestError:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    with pytest.raises(InvalidRequestError) as info:
        decode_request(raw)
    err = info.value
    assert err.status == 400 and err.kind == "invalid_request"
    assert err.message
    return err


def with_fields(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [USER]} | fields


def with_message(message: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": [USER, message]}


def user_part(part: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": [part]}]}


def image(url: str) -> dict[str, Any]:
    return user_part({"type": "image_url", "image_url": {"url": url}})


@pytest.mark.parametrize(("body", "fragment"), [
    (b"", "parse the JSON body"),
    (b"{", "parse the JSON body"),
    (b'{"model": "m", "messages": [}', "parse the JSON body"),
    (b"\xff\xfe", "parse the JSON body"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}', "parse the JSON body"),
    (b"[]", "must be a JSON object"),
    (b'"text"', "must be a JSON object"),
    (b"null", "must be a JSON object"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", '
     b'"json_schema": {"name": "n", "schema": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}}}", "nested too deeply"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "deep": ' + b"[" * 5000 + b"]" * 5000 + b"}",
     "nested too deeply"),
    (b'{"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": {"a":'
     + b"[" * 5000 + b"]" * 5000 + b"}}}]}", "nested too deeply"),
])
def test_unparseable_bodies(body: bytes, fragment: str) -> None:
    err = refuse(body)
    assert err.param is None
    assert fragment in err.message


@pytest.mark.parametrize(("body", "param", "fragment"), [
    ({"messages": [USER]}, "model", "Missing required parameter: 'model'"),
    ({"model": "m"}, "messages", "Missing required parameter: 'messages'"),
    ({"model": "", "messages": [USER]}, "model", "length >= 1"),
    ({"model": 5, "messages": [USER]}, "model", "expected `str`, got `int`"),
    ({"model": "m", "messages": []}, "messages", "length >= 1"),
    ({"model": "m", "messages": {"role": "user"}}, "messages", "expected `array`, got `object`"),
    ({"model": "m", "messages": ["hi"]}, "messages[0]", "expected `object`, got `str`"),
])
def test_top_level_shape(body: dict[str, Any], param: str, fragment: str) -> None:
    err = refuse(body)
    assert err.param == param
    assert fragment in err.message


@pytest.mark.parametrize(("message", "param", "fragment"), [
    ({"content": "x"}, "messages[1].role", "Missing required parameter"),
    ({"role": "robot", "content": "x"}, "messages[1].role", "'robot' is not supported"),
    ({"role": "user"}, "messages[1].content", "Missing required parameter"),
    ({"role": "user", "content": None}, "messages[1].content", "got `null`"),
    ({"role": "user", "content": 3}, "messages[1].content", "got `int`"),
    ({"role": "user", "content": []}, "messages[1].content", "length >= 1"),
    ({"role": "user", "content": "x", "name": 1}, "messages[1].name", "expected `str | null`"),
    ({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://a.b/c"}}]},
     "messages[1].content[0].type", "'image_url' is not supported"),
    ({"role": "tool", "content": "42"}, "messages[1].tool_call_id", "Missing required parameter"),
    ({"role": "tool", "tool_call_id": "", "content": "42"}, "messages[1].tool_call_id", "length >= 1"),
    ({"role": "tool", "tool_call_id": "c1"}, "messages[1].content", "Missing required parameter"),
    ({"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]},
     "messages[1].tool_calls[0].id", "Missing required parameter"),
    ({"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "custom": {}}]},
     "messages[1].tool_calls[0].type", "'custom' is not supported"),
    ({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"arguments": "{}"}}]},
     "messages[1].tool_calls[0].function.name", "Missing required parameter"),
    ({"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                           "function": {"name": "f", "arguments": {"a": 1}}}]},
     "messages[1].tool_calls[0].function.arguments", "expected `str`, got `object`"),
    ({"role": "assistant", "tool_calls": CALL}, "messages[1].tool_calls", "expected `array | null`"),
    ({"role": "function", "name": "never_called", "content": "x"}, "messages[1].name", "no earlier"),
])
def test_message_errors(message: dict[str, Any], param: str, fragment: str) -> None:
    err = refuse(with_message(message))
    assert err.param == param
    assert fragment in err.message


@pytest.mark.parametrize(("part", "param", "fragment"), [
    ({"text": "x"}, "messages[0].content[0].type", "Missing required parameter"),
    ({"type": "input_audio", "input_audio": {"data": "", "format": "mp3"}}, "messages[0].content[0].type",
     "'input_audio' is not supported; supported values are: text, image_url"),
    ({"type": "text"}, "messages[0].content[0].text", "Missing required parameter"),
    ({"type": "text", "text": None}, "messages[0].content[0].text", "got `null`"),
    ({"type": "image_url"}, "messages[0].content[0].image_url", "Missing required parameter"),
    ({"type": "image_url", "image_url": "https://a.b/c.png"}, "messages[0].content[0].image_url",
     "expected `object`, got `str`"),
    ({"type": "image_url", "image_url": {"detail": "low"}}, "messages[0].content[0].image_url.url",
     "Missing required parameter"),
])
def test_content_part_errors(part: dict[str, Any], param: str, fragment: str) -> None:
    err = refuse(user_part(part))
    assert err.param == param
    assert fragment in err.message


@pytest.mark.parametrize(("url", "fragment"), [
    ("ftp://example.com/cat.png", "expected an http(s) URL or a base64 data: URL"),
    ("file:///etc/passwd", "expected an http(s) URL"),
    ("cat.png", "expected an http(s) URL"),
    ("", "expected an http(s) URL"),
    ("https://", "no host"),
    ("http:///path", "no host"),
    ("data:image/png;base64", "no ','"),
    ("data:image/png,rawbytes", "only base64 data URLs"),
    ("data:image/png;base64,", "image data is empty"),
    ("data:image/png;base64,@@@not base64@@@", "not valid base64"),
    ("data:image/png;base64,abc", "not valid base64"),
    ("data:image/png;base64,aGVsbG8=\u00e9", "not valid base64"),
    ("data:text/plain;base64,aGVsbG8=", "must be an image type"),
    ("data:;base64,aGVsbG8=", "must be an image type"),
])
def test_bad_image_urls(url: str, fragment: str) -> None:
    err = refuse(image(url))
    assert err.param == "messages[0].content[0].image_url.url"
    assert fragment in err.message


@pytest.mark.parametrize(("fields", "param", "fragment"), [
    ({"temperature": 2.5}, "temperature", "<= 2.0"),
    ({"temperature": -0.1}, "temperature", ">= 0.0"),
    ({"temperature": "hot"}, "temperature", "got `str`"),
    ({"temperature": True}, "temperature", "got `bool`"),
    ({"top_p": 1.5}, "top_p", "<= 1.0"),
    ({"max_tokens": 0}, "max_tokens", ">= 1"),
    ({"max_tokens": 1.5}, "max_tokens", "got `float`"),
    ({"max_completion_tokens": -3}, "max_completion_tokens", ">= 1"),
    ({"stop": 5}, "stop", "got `int`"),
    ({"stop": ["a", 1]}, "stop[1]", "got `int`"),
    ({"seed": 2**70}, "seed", "<="),
    ({"seed": "7"}, "seed", "got `str`"),
    ({"user": ["a"]}, "user", "got `array`"),
    ({"metadata": {"a": 1}}, "metadata", "expected `str`, got `int`"),
    ({"metadata": "x"}, "metadata", "got `str`"),
    ({"stream": "yes"}, "stream", "got `str`"),
    ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage", "got `str`"),
    ({"stream_options": True}, "stream_options", "got `bool`"),
    ({"reasoning_effort": 3}, "reasoning_effort", "got `int`"),
    ({"parallel_tool_calls": "no"}, "parallel_tool_calls", "got `str`"),
    ({"n": 2}, "n", "not supported"),
    ({"n": 0}, "n", "only one choice per request (n=1)"),
    ({"n": "1"}, "n", "got `str`"),
])
def test_scalar_field_errors(fields: dict[str, Any], param: str, fragment: str) -> None:
    err = refuse(with_fields(**fields))
    assert err.param == param
    assert fragment in err.message


@pytest.mark.parametrize(("fields", "param", "fragment"), [
    ({"tools": {"type": "function"}}, "tools", "got `object`"),
    ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search' is not supported"),
    ({"tools": [{"type": "function"}]}, "tools[0].function", "Missing required parameter"),
    ({"tools": [{"type": "function", "function": {"description": "x"}}]}, "tools[0].function.name",
     "Missing required parameter"),
    ({"tools": [{"type": "function", "function": {"name": ""}}]}, "tools[0].function.name", "length >= 1"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
     "tools[0].function.parameters", "got `array`"),
    ({"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]},
     "tools[0].function.strict", "got `str`"),
    ({"tool_choice": "any"}, "tool_choice", "'any' is not supported; supported values are: auto, none, required"),
    ({"tool_choice": {"type": "function"}}, "tool_choice.function", "Missing required parameter"),
    ({"tool_choice": {"type": "function", "function": {}}}, "tool_choice.function.name",
     "Missing required parameter"),
    ({"tool_choice": {"type": "allowed_tools"}}, "tool_choice.type", "'allowed_tools' is not supported"),
    ({"tool_choice": 1}, "tool_choice", "got `int`"),
    ({"functions": [{"description": "no name"}]}, "functions[0].name", "Missing required parameter"),
    ({"function_call": "required"}, "function_call", "'required' is not supported"),
    ({"functions": [{"name": "f"}], "tools": [{"type": "function", "function": {"name": "g"}}]}, "functions",
     "not both"),
    ({"function_call": "auto", "tool_choice": "auto"}, "function_call", "not both"),
    ({"response_format": {"type": "yaml"}}, "response_format.type", "'yaml' is not supported"),
    ({"response_format": {"type": "json_schema"}}, "response_format.json_schema", "Missing required parameter"),
    ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
     "response_format.json_schema.name", "Missing required parameter"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": "{}"}}},
     "response_format.json_schema.schema", "got `str`"),
    ({"response_format": "json_object"}, "response_format", "got `str`"),
])
def test_tool_and_format_errors(fields: dict[str, Any], param: str, fragment: str) -> None:
    err = refuse(with_fields(**fields))
    assert err.param == param
    assert fragment in err.message


def test_tool_type_may_be_left_out() -> None:
    req = decode_request(msgspec.json.encode(with_fields(tools=[{"function": {"name": "f"}}])))
    assert [t.name for t in req.tools or []] == ["f"]


def test_error_message_reads_as_a_sentence() -> None:
    err = refuse(with_fields(temperature=3))
    assert err.message == "Invalid value for 'temperature': expected `float` <= 2.0."
    err = refuse(with_message({"role": "tool", "content": "x"}))
    assert err.message == "Missing required parameter: 'messages[1].tool_call_id'."
    err = refuse(with_message({"role": "robot", "content": "x"}))
    assert err.message == ("Invalid value for 'messages[1].role': 'robot' is not supported; supported values are: "
                           "system, developer, user, assistant, tool.")
