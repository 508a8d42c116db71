"""The recorded Cohere requests (test_cohere and the tool-choice matrix) replayed against the mock: each one the
real API accepted is accepted, and every field of the real answer is in the mock's, recursively (citations
aside: the mock does not imitate them)."""

from __future__ import annotations

from typing import Any

import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json
from tests.mock.test_recorded_shapes import missing_keys
from tests.vectors import Interaction, cassettes

REAL_URL = "https://api.cohere.com/v2/chat"
HEADERS = {"Authorization": "Bearer co-test"}


def recorded() -> list[Any]:
    out = []
    for folder, pattern in (("test_cohere", "*.yaml"), ("test_tool_choice_matrix", "*cohere*")):
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                if item.request.uri == REAL_URL:
                    out.append(pytest.param(item, id=f"{tape.name}#{n}"))
    return out


RECORDED = recorded()


def test_the_recordings_are_there() -> None:
    assert len(RECORDED) == 12


@pytest.mark.parametrize("interaction", RECORDED)
def test_recorded_request_is_accepted_and_answered_in_full(mock: MockServer, interaction: Interaction) -> None:
    answer = post_json(mock.url + "/cohere/v2/chat", interaction.request.body, HEADERS)
    assert answer.status == 200, answer.text
    real = interaction.response.json
    assert missing_keys(real, answer.json) == []
    assert answer.json["finish_reason"] == real["finish_reason"]  # same kind of answer: text or tool call
    offered = {t["function"]["name"] for t in interaction.request.body.get("tools") or []}
    assert {c["function"]["name"] for c in answer.json["message"].get("tool_calls") or []} <= offered


def test_the_recorded_stream_shape_is_what_the_mock_streams(mock: MockServer) -> None:
    """Event names and the keys of each event's data, as in a captured Cohere tool-call stream."""
    body = {"model": "command-r7b-12-2024", "messages": [{"role": "user", "content": "Find Juan"}], "stream": True,
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {
                "type": "object", "properties": {"query": {"type": "string"}}}}}]}
    answer = post_json(mock.url + "/cohere/v2/chat", body, HEADERS)
    assert answer.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in answer.text.split("\n\n") if b]
    names = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    assert names[0] == "message-start" and names[-2:] == ["message-end", "data: [DONE]"]
    assert {"tool-plan-delta", "tool-call-start", "tool-call-delta", "tool-call-end"} <= set(names)
    assert all(b.split("\n")[1].startswith("data: {\"type\":\"" + n + "\"") for b, n in zip(blocks, names, strict=False)
               if n != "data: [DONE]")
