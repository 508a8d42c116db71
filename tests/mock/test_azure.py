"""Azure OpenAI mock through ``openai.AzureOpenAI``."""

from __future__ import annotations

import json

import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json

API_VERSION = "2024-10-21"


@pytest.fixture
def az(mock: MockServer) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(azure_endpoint=mock.url + "/azure", api_key="azure-key", api_version=API_VERSION,
                              max_retries=0)


def test_chat_uses_deployment_path_api_key_and_version(az: openai.AzureOpenAI, mock: MockServer) -> None:
    mock.reset()
    reply = az.chat.completions.create(model="my-gpt4o", messages=[{"role": "user", "content": "Hello Azure"}])
    assert reply.choices[0].message.content == "Echo: Hello Azure"
    assert reply.model == "my-gpt4o"
    assert reply.prompt_filter_results[0]["content_filter_results"]["hate"]["filtered"] is False
    sent = mock.requests()[-1]
    assert sent["path"] == "/azure/openai/deployments/my-gpt4o/chat/completions"
    assert sent["headers"]["api-key"] == "azure-key"


def test_stream_starts_with_an_empty_choices_chunk(az: openai.AzureOpenAI) -> None:
    chunks = list(az.chat.completions.create(model="my-gpt4o", stream=True, stream_options={"include_usage": True},
                                             messages=[{"role": "user", "content": "Weather in Bern?"}],
                                             tools=[{"type": "function", "function": {
                                                 "name": "get_weather", "parameters": {
                                                     "type": "object", "properties": {"city": {"type": "string"}},
                                                     "required": ["city"]}}}]))
    assert chunks[0].choices == [] and chunks[0].id == ""
    args = "".join(d.function.arguments or "" for c in chunks if c.choices
                   for d in c.choices[0].delta.tool_calls or [])
    assert json.loads(args) == {"city": "Bern"}
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_embeddings_by_deployment(az: openai.AzureOpenAI) -> None:
    result = az.embeddings.create(model="embedder", input="hi", dimensions=16)
    assert len(result.data[0].embedding) == 16


def test_azure_errors(mock: MockServer) -> None:
    bad = openai.AzureOpenAI(azure_endpoint=mock.url + "/azure", api_key="bad-key", api_version=API_VERSION,
                             max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        bad.chat.completions.create(model="d", messages=[{"role": "user", "content": "x"}])
    assert auth.value.body["code"] == "401"
    good = openai.AzureOpenAI(azure_endpoint=mock.url + "/azure", api_key="k", api_version=API_VERSION,
                              max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        good.chat.completions.create(model="no-such-deployment", messages=[{"role": "user", "content": "x"}])
    assert missing.value.code == "DeploymentNotFound"
    no_version = post_json(mock.url + "/azure/openai/deployments/d/chat/completions",
                           {"messages": [{"role": "user", "content": "x"}]}, {"api-key": "k"})
    assert (no_version.status, no_version.json) == (404, {"error": {"code": "404", "message": "Resource not found"}})
