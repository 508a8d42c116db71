"""Anthropic error answers: ``{"type": "error", "error": {type, message}}``, ``request-id``, SDK classes."""

from __future__ import annotations

import anthropic
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

MODEL = "claude-haiku-4-5"
BODY = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def test_missing_key_and_missing_version(mock: MockServer) -> None:
    url = mock.url + "/anthropic/v1/messages"
    no_key = post_json(url, BODY, {"anthropic-version": "2023-06-01"})
    assert no_key.status == 401
    assert no_key.json["type"] == "error"
    assert no_key.json["error"] == {"type": "authentication_error", "message": "x-api-key header is required"}
    assert no_key.json["request_id"] == no_key.headers["request-id"]
    no_version = post_json(url, BODY, {"x-api-key": "sk-ant"})
    assert no_version.status == 400
    assert no_version.json["error"] == {"type": "invalid_request_error",
                                        "message": "anthropic-version: header is required"}


def test_bad_key_raises_authentication_error(mock: MockServer) -> None:
    client = anthropic.Anthropic(base_url=mock.url + "/anthropic", api_key="bad-key", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as err:
        client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 401
    assert err.value.body["error"]["message"] == "invalid x-api-key"
    assert err.value.request_id is not None and err.value.request_id.startswith("req_")


def test_unknown_model_raises_not_found(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as err:
        ant.messages.create(model="no-such-claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert err.value.body["error"] == {"type": "not_found_error", "message": "model: no-such-claude"}


def test_missing_max_tokens_and_malformed_json(mock: MockServer) -> None:
    headers = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
    url = mock.url + "/anthropic/v1/messages"
    missing = post_json(url, {"model": MODEL, "messages": BODY["messages"]}, headers)
    assert (missing.status, missing.json["error"]["message"]) == (400, "max_tokens: Field required")
    broken = raw_request(url, b"{not json", {**headers, "Content-Type": "application/json"})
    assert broken.status == 400
    assert broken.json["error"]["type"] == "invalid_request_error"
