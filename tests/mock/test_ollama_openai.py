"""Ollama's OpenAI-compatible API on the mock (``/ollama/v1``): the recorded test_ollama requests (all of them
this API) replayed and compared field by field, the openai SDK without a real key, and OpenAI-shaped errors."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request
from tests.mock.test_recorded_shapes import missing_keys
from tests.vectors import Interaction, cassettes

# gpt-oss and qwen3 answer with a ``reasoning`` field the OpenAI mock does not imitate
NOT_IMITATED = {"reasoning"}


def recorded() -> list[Any]:
    return [pytest.param(item, id=f"{tape.name}#{n}") for tape in cassettes("test_ollama")
            for n, item in enumerate(tape.interactions)]


RECORDED = recorded()


def test_the_recordings_are_there_and_speak_the_openai_api() -> None:
    assert len(RECORDED) == 4
    assert all(p.values[0].request.uri.endswith("/v1/chat/completions") for p in RECORDED)


@pytest.mark.parametrize("item", RECORDED)
def test_recorded_request_is_accepted_and_answered_in_full(mock: MockServer, item: Interaction) -> None:
    answer = post_json(mock.url + "/ollama/v1/chat/completions", item.request.body)  # no key: Ollama needs none
    assert answer.status == 200, answer.text
    gaps = [gap for gap in missing_keys(item.response.json, answer.json) if gap.rsplit(".", 1)[-1] not in NOT_IMITATED]
    assert gaps == []
    assert answer.json["model"] == item.request.body["model"]


def test_the_openai_sdk_talks_to_it(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.url + "/ollama/v1", api_key="ollama", max_retries=0)
    answer = client.chat.completions.create(model="qwen3:0.6b", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "Echo: hi"
    chunks = list(client.chat.completions.create(model="qwen3:0.6b", messages=[{"role": "user", "content": "hi"}],
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hi"
    assert chunks[-1].usage.prompt_tokens == answer.usage.prompt_tokens
    assert [m.id for m in client.models.list()][:2] == ["llama3.1:8b", "qwen2.5:7b"]
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"


def test_its_errors_are_openai_shaped(mock: MockServer) -> None:
    answer = post_json(mock.url + "/ollama/v1/chat/completions", {"model": "m", "messages": []})
    assert answer.status == 400
    assert set(answer.json["error"]) == {"message", "type", "param", "code"}
    assert raw_request(mock.url + "/ollama/v1/models").json["object"] == "list"
