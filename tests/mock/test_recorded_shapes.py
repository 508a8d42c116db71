"""Faithfulness against recorded real traffic (``/work/shared/vectors``, or ``BYWAY_VECTORS``).

Recorded requests are replayed against the mock: those the real API accepted must be accepted,
and every field of the real answer must be present in the mock's (recursively; lists compared by
their first element, or element by element of the same ``type``). Only traffic to OpenAI's and
Anthropic's own hosts is replayed. Streams are compared chunk kind by chunk kind, and the Anthropic event
order is checked against the recorded sequences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from byway.mock import MockServer
from tests.mock.rawhttp import post_json
from tests.vectors import vectors_dir

VECTORS = vectors_dir()  # missing vectors fail the tests: they ship beside the repository, in shared/
OPENAI_HEADERS = {"Authorization": "Bearer sk-test"}
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
# answers to features the mock does not imitate (moderation results, server tools, model snapshots)
NOT_IMITATED = {"moderation", "container", "context_management", "stop_details", "inference_geo", "server_tool_use",
                "output_tokens_details", "iterations", "diagnostics", "caller", "citations", "audio", "logprobs",
                "text_tokens", "image_tokens"}
OPAQUE = {"input"}  # present in both, but what is inside depends on the tool
_EVENT_ORDER = re.compile(
    r"^message_start content_block_start ping (content_block_delta )*content_block_stop "
    r"(content_block_start (content_block_delta )*content_block_stop )*message_delta message_stop$")


def missing_keys(recorded: Any, ours: Any, path: str = "") -> list[str]:
    """Paths of fields in ``recorded`` that ``ours`` lacks."""
    if isinstance(recorded, dict):
        if not isinstance(ours, dict):
            return [path or "."]
        gaps = []
        for key, value in recorded.items():
            if key in NOT_IMITATED:
                continue
            if key not in ours:
                gaps.append(f"{path}.{key}")
            elif key not in OPAQUE:
                gaps += missing_keys(value, ours[key], f"{path}.{key}")
        return gaps
    if not (isinstance(recorded, list) and recorded and isinstance(ours, list) and ours):
        return []
    if all(isinstance(item, dict) and "type" in item for item in recorded + ours):
        gaps = []
        for item in recorded:  # content blocks: compare with our first block of the same type
            same = next((mine for mine in ours if mine["type"] == item["type"]), None)
            if same is not None:
                gaps += missing_keys(item, same, f"{path}[{item['type']}]")
        return gaps
    return missing_keys(recorded[0], ours[0], f"{path}[0]")


def interactions(folder: str, url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Recorded exchanges with ``url`` (query string ignored) that have a JSON request body."""
    for path in sorted((VECTORS / "pydantic-ai-cassettes" / folder).glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            request = interaction["request"]
            if request["uri"].split("?")[0] == url and isinstance(request.get("parsed_body"), dict):
                yield path.name, interaction


def sse_payloads(text: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line[6:]) for line in text.splitlines()
            if line.startswith("data: ") and line[6:].strip() != "[DONE]"]


def _replay(mock: MockServer, folder: str, real_url: str, url: str, headers: dict[str, str]) -> list[str]:
    problems = []
    accepted = 0
    for name, interaction in interactions(folder, real_url):
        if interaction["response"]["status"]["code"] != 200:
            continue
        answer = post_json(mock.url + url, interaction["request"]["parsed_body"], headers)
        if answer.status != 200:
            problems.append(f"{name}: {answer.status} {answer.text[:200]}")
            continue
        accepted += 1
        recorded = interaction["response"]
        if "parsed_body" in recorded:
            gaps = missing_keys(recorded["parsed_body"], answer.json)
        else:
            gaps = _stream_gaps(sse_payloads(recorded["body"]["string"]), sse_payloads(answer.text))
        problems += [f"{name}: missing {gap}" for gap in gaps]
    assert accepted > 10
    return problems


def test_recorded_openai_requests_are_accepted_and_answered_in_full(mock: MockServer) -> None:
    gaps = _replay(mock, "test_openai", "https://api.openai.com/v1/chat/completions", "/openai/v1/chat/completions",
                   OPENAI_HEADERS)
    assert gaps == []


def test_recorded_anthropic_requests_are_accepted_and_answered_in_full(mock: MockServer) -> None:
    gaps = _replay(mock, "test_anthropic", "https://api.anthropic.com/v1/messages", "/anthropic/v1/messages",
                   ANTHROPIC_HEADERS)
    assert gaps == []


def _chunk_kind(chunk: dict[str, Any]) -> str:
    if "type" in chunk:  # anthropic event
        inner = chunk.get("delta") or chunk.get("content_block") or {}
        return f"{chunk['type']}:{inner.get('type', '')}"
    if not chunk.get("choices"):
        return "usage"
    choice = chunk["choices"][0]
    delta = choice.get("delta", {})
    if choice.get("finish_reason"):
        return "finish"
    if "role" in delta:
        return "role"
    if delta.get("tool_calls"):
        return "tool_open" if delta["tool_calls"][0].get("id") else "tool_args"
    return "refusal" if delta.get("refusal") else "content"


def _stream_gaps(recorded: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[str]:
    """For each kind of chunk both streams have, the recorded fields ours lacks."""
    mine: dict[str, dict[str, Any]] = {}
    for chunk in ours:
        mine.setdefault(_chunk_kind(chunk), chunk)
    gaps = []
    for chunk in recorded:
        kind = _chunk_kind(chunk)
        if kind in mine:
            gaps += [f"{kind}{gap}" for gap in missing_keys(chunk, mine[kind])]
    return sorted(set(gaps))


OPENAI_STREAM_REQUESTS = {
    "text": {"messages": [{"role": "user", "content": "Say hello to Ada"}]},
    "tools": {"messages": [{"role": "user", "content": "Weather in Paris and Berlin, both"}], "tools": [
        {"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]},
}


@pytest.mark.parametrize("capture", sorted((VECTORS / "openai-python-stream-captures").glob("*.bin")),
                         ids=lambda p: p.name[:8])
def test_openai_stream_chunks_carry_the_recorded_fields(mock: MockServer, capture: Path) -> None:
    recorded = sse_payloads(capture.read_text())
    kind = "tools" if any(c["choices"] and c["choices"][0]["delta"].get("tool_calls") for c in recorded) else "text"
    body = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
            **OPENAI_STREAM_REQUESTS[kind]}
    answer = post_json(mock.url + "/openai/v1/chat/completions", body, OPENAI_HEADERS)
    ours = sse_payloads(answer.text)
    assert answer.text.endswith("data: [DONE]\n\n")
    assert _stream_gaps(recorded, ours) == []


ANTHROPIC_TOOL = {"name": "get_weather", "input_schema": {
    "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}


@pytest.mark.parametrize("fixture", ["basic_response.txt", "tool_use_response.txt"])
def test_anthropic_stream_matches_the_recorded_event_sequence(mock: MockServer, fixture: str) -> None:
    recorded_text = (VECTORS / "anthropic-sdk-stream-fixtures" / fixture).read_text()
    body: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 200, "stream": True,
                            "messages": [{"role": "user", "content": "What is the weather in Paris?"}]}
    if "tool_use" in fixture:
        body["tools"] = [ANTHROPIC_TOOL]
    answer = post_json(mock.url + "/anthropic/v1/messages", body, ANTHROPIC_HEADERS)
    for text in (recorded_text, answer.text):
        names = "".join(line[7:] + " " for line in text.splitlines() if line.startswith("event: "))
        assert _EVENT_ORDER.match(names.strip()), names
    assert _stream_gaps(sse_payloads(recorded_text), sse_payloads(answer.text)) == []
