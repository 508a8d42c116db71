"""Faithfulness against recorded real traffic: every ``generateContent`` / ``streamGenerateContent`` request that
Gemini or Vertex answered (pydantic-ai cassettes) is replayed against the mock, which must accept it as the real
API did, and answer in the same shape: every key of the real answer present in the mock's, with a value of the
same JSON type (recursively; lists compared by their first element, parts by kind)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest

from byway.mock import MockServer
from byway.mock.gemini_vertex import issue
from tests.mock.rawhttp import post_json
from tests.vectors import Interaction, cassettes

FOLDERS = (("test_google", "*.yaml"), ("test_tool_choice_matrix", "*google*"),
           ("test_model_name_suggestions", "*google*"))
# what the mock does not imitate: logprobs, grounding and other server-side tool results, safety ratings, billing,
# and the finish message of answers the mock words differently (it explains function calls only)
NOT_IMITATED = {"avgLogprobs", "logprobsResult", "groundingMetadata", "urlContextMetadata", "safetyRatings",
                "citationMetadata", "toolUsePromptTokenCount", "toolUsePromptTokensDetails", "serviceTier",
                "promptFeedback", "cachedContentTokenCount", "cacheTokensDetails", "finishMessage"}
OPAQUE = {"args"}  # present in both, but what is inside depends on the tool


def recorded_calls() -> list[tuple[str, Interaction]]:
    out = []
    for folder, pattern in FOLDERS:
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                uri = item.request.uri
                if (":generateContent" in uri or ":streamGenerateContent" in uri) and isinstance(item.request.body,
                                                                                                 dict):
                    out.append((f"{tape.name}#{n}", item))
    return out


CALLS = recorded_calls()


def mock_url(mock: MockServer, uri: str) -> tuple[str, dict[str, str]]:
    """The mock's URL for a recorded one, and the credentials it wants."""
    parts = urlsplit(uri)
    query = f"?{parts.query}" if parts.query else ""
    if parts.netloc == "generativelanguage.googleapis.com":
        return f"{mock.url}/gemini{parts.path}{query}", {"x-goog-api-key": "AIza-replay"}
    return f"{mock.url}/vertex{parts.path}{query}", {"Authorization": f"Bearer {issue('replay@p.iam')}"}


def kind(value: Any) -> str:
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


def missing(recorded: Any, ours: Any, path: str = "") -> list[str]:
    """Paths of fields in ``recorded`` that ``ours`` lacks or holds with another JSON type."""
    if kind(recorded) != kind(ours):
        return [f"{path} ({kind(recorded)} vs {kind(ours)})"]
    if isinstance(recorded, dict):
        gaps = []
        for key, value in recorded.items():
            if key in NOT_IMITATED:
                continue
            if key not in ours:
                gaps.append(f"{path}.{key}")
            elif key not in OPAQUE:
                gaps += missing(value, ours[key], f"{path}.{key}")
        return gaps
    if isinstance(recorded, list) and recorded and ours:
        if path.endswith(".parts"):  # compare each recorded part with our first part of the same kind
            gaps = []
            for part in recorded:
                same = next((p for p in ours if _part_kind(p) == _part_kind(part)), None)
                if same is not None:
                    gaps += missing(part, same, f"{path}[{_part_kind(part)}]")
            return gaps
        return missing(recorded[0], ours[0], f"{path}[0]")
    return []


def _part_kind(part: dict[str, Any]) -> str:
    if part.get("thought"):
        return "thought"
    return next((k for k in ("text", "functionCall", "inlineData", "executableCode", "toolCall") if k in part), "?")


def sse_chunks(text: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line[6:]) for line in text.split("\r\n") if line.startswith("data: ")]


def test_enough_recordings() -> None:
    assert len(CALLS) >= 115


@pytest.mark.parametrize(("name", "item"), CALLS, ids=[n for n, _ in CALLS])
def test_replayed_request(mock: MockServer, name: str, item: Interaction) -> None:
    uri = item.request.uri
    if item.response.status == 404:  # the recorded unknown model, under the name the mock does not know
        uri = uri.replace("/models/", "/models/no-such-")
    url, headers = mock_url(mock, uri)
    answer = post_json(url, item.request.body, headers)
    if item.response.status != 200:
        assert answer.status == item.response.status
        recorded_error, error = item.response.json["error"], answer.json["error"]
        assert missing(recorded_error, error) == []
        assert error["message"] == recorded_error["message"].replace("models/", "models/no-such-")
        return
    assert answer.status == 200, answer.text
    if item.response.is_stream:
        recorded = sse_chunks(item.response.raw.decode())
        ours = sse_chunks(answer.text)
        assert answer.text.endswith("\r\n\r\n")
        assert missing(recorded[0], ours[0] if len(recorded) > 1 else ours[-1]) == []
        assert missing(recorded[-1], ours[-1]) == []
        assert "finishReason" in ours[-1]["candidates"][0]
    else:
        assert missing(item.response.json, answer.json) == []
