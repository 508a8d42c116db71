"""The OpenAI-compatible vendors' flavours of the mock, driven by the openai SDK and raw HTTP."""

from __future__ import annotations

import json
import re

import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def client(mock: MockServer, vendor: str, key: str = "sk-test") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{mock.url}/{vendor}/v1", api_key=key, max_retries=0)


def test_mistral_tool_ids_are_nine_alphanumerics(mock: MockServer) -> None:
    completion = client(mock, "mistral").chat.completions.create(
        model="mistral-small-latest", tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Rome?"}])
    call = (completion.choices[0].message.tool_calls or [])[0]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call.id)
    assert json.loads(call.function.arguments) == {"city": "Rome"}


@pytest.mark.parametrize("vendor", ["mistral", "groq"])
def test_usage_arrives_unasked_in_the_finish_chunk(mock: MockServer, vendor: str) -> None:
    chunks = list(client(mock, vendor).chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "Hello there"}]))
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (10, 5)
    assert all(c.usage is None for c in chunks[:-1])
    if vendor == "groq":
        assert (last.model_extra or {})["x_groq"]["usage"]["completion_tokens"] == 5


def test_openai_itself_sends_no_usage_unasked(mock: MockServer) -> None:
    chunks = list(client(mock, "openai").chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Hello there"}]))
    assert all(c.usage is None for c in chunks)


def test_deepseek_reports_cache_hits_and_misses(mock: MockServer) -> None:
    completion = client(mock, "deepseek").chat.completions.create(
        model="deepseek-chat", messages=[{"role": "user", "content": "Hello there"}])
    extra = completion.usage.model_extra or {}  # type: ignore[union-attr]
    assert extra["prompt_cache_hit_tokens"] == 0
    assert extra["prompt_cache_miss_tokens"] == completion.usage.prompt_tokens  # type: ignore[union-attr]


def test_openrouter_streams_open_with_comments_and_price_usage(mock: MockServer) -> None:
    answer = post_json(mock.url + "/openrouter/v1/chat/completions",
                       {"model": "openai/gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
                        "messages": [{"role": "user", "content": "Hello there"}]},
                       {"Authorization": "Bearer sk-or"})
    assert answer.status == 200
    raw = answer.text.encode()
    assert raw.startswith(b": OPENROUTER PROCESSING\n\n")
    usage = next(json.loads(line[6:])["usage"] for line in raw.split(b"\n")
             if line.startswith(b"data: {") and b'"choices":[]' in line)
    assert usage["cost"] == pytest.approx(usage["total_tokens"] * 1e-6)


def test_mistral_errors_have_its_own_envelope(mock: MockServer) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client(mock, "mistral", key="bad-key").chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}])
    assert info.value.response.json()["object"] == "error"
