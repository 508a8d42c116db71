"""OpenAI error answers: statuses, the ``{"error": {...}}`` envelope, and the SDK's exception classes."""

from __future__ import annotations

import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

HI = [{"role": "user", "content": "hi"}]
BROKEN_IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}


def test_missing_key_is_401_in_openai_shape(mock: MockServer) -> None:
    answer = post_json(mock.url + "/openai/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI})
    assert answer.status == 401
    error = answer.json["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert "API key" in error["message"]


def test_bad_key_raises_authentication_error(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.url + "/openai/v1", api_key="bad-key-1234", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert err.value.status_code == 401
    assert err.value.code == "invalid_api_key"
    assert err.value.request_id is not None and err.value.request_id.startswith("req_")


def test_unknown_model_raises_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        oai.chat.completions.create(model="no-such-model", messages=HI)
    assert err.value.code == "model_not_found"
    assert err.value.type == "invalid_request_error"
    assert "`no-such-model` does not exist" in err.value.message


@pytest.mark.parametrize(("kwargs", "param", "fragment"), [
    ({"messages": []}, "messages", "empty array"),
    ({"messages": HI, "extra_body": {"temprature": 1}}, None, "Unrecognized request argument supplied: temprature"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "call_1", "content": "r"}]},
     "messages.[1].role", "must be a response to a preceeding message with 'tool_calls'"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                   {"role": "user", "content": "y"}]}, "messages.[2].role", "did not have response messages: call_1"),
    ({"messages": HI, "response_format": {"type": "json_object"}}, "messages", "must contain the word 'json'"),
    ({"messages": HI, "tool_choice": "auto"}, "tool_choice", "only allowed when 'tools' are specified"),
    ({"messages": HI, "max_tokens": 0}, "max_tokens", "Expected a value >= 1"),
    ({"messages": HI, "stream_options": {"include_usage": True}}, "stream_options", "only allowed when 'stream'"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "Supported values are"),
    ({"messages": [{"role": "user", "content": [BROKEN_IMAGE]}]},
     "messages[0].content[0].image_url.url", "base64-encoded data URL"),
])
def test_invalid_requests_raise_bad_request(oai: openai.OpenAI, kwargs: dict, param: str | None,
                                            fragment: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="gpt-4o-mini", **kwargs)
    assert err.value.status_code == 400
    assert err.value.type == "invalid_request_error"
    assert err.value.param == param
    assert fragment in err.value.message


def test_malformed_json_and_unknown_path(mock: MockServer) -> None:
    broken = raw_request(mock.url + "/openai/v1/chat/completions", b'{"model": ',
                         {"Authorization": "Bearer sk-x", "Content-Type": "application/json"})
    assert broken.status == 400
    assert "could not parse the JSON body" in broken.json["error"]["message"]
    missing = post_json(mock.url + "/openai/v1/chat/completions", {"messages": HI}, {"Authorization": "Bearer sk"})
    assert (missing.status, missing.json["error"]["message"]) == (400, "you must provide a model parameter")
    nowhere = raw_request(mock.url + "/openai/v1/nowhere", headers={"Authorization": "Bearer sk-x"})
    assert nowhere.status == 404
    assert nowhere.json["error"]["message"] == "Invalid URL (GET /openai/v1/nowhere)"
