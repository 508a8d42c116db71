"""Faithfulness of the Bedrock mock against recorded real Converse traffic.

Each recorded request body is sent again, byte for byte and SigV4-signed by botocore, to the mock: what
Bedrock accepted the mock must accept, answering with every field the real answer had (bar features the
mock does not imitate); streams must follow Bedrock's event grammar, which the recorded streams are
checked against too; the recorded "invalid model" errors come back identical.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import msgspec
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer

from byway.mock import MockServer
from tests.vectors import Interaction, cassettes

# answer fields of features the mock does not imitate (server tools, guardrail traces, tiers, Claude's duplicates)
NOT_IMITATED = {"serverToolUsage", "cacheDetails", "cacheReadInputTokenCount", "cacheWriteInputTokenCount", "trace",
                "performanceConfig", "serviceTier", "additionalModelResponseFields"}
_GRAMMAR = re.compile(r"^messageStart ((contentBlockStart )?(contentBlockDelta )*contentBlockStop )*messageStop "
                      r"metadata$")


def _calls() -> list[tuple[str, Interaction]]:
    out = []
    for folder, pattern in (("test_bedrock", "*.yaml"), ("test_tool_choice_matrix", "*bedrock*"),
                            ("test_model_name_suggestions", "*bedrock*")):
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                path = urlsplit(item.request.uri).path
                if path.endswith(("/converse", "/converse-stream")) and isinstance(item.request.body, dict):
                    out.append((f"{tape.name}#{n}", item))
    return out


CALLS = _calls()
ACCEPTED = [(n, i) for n, i in CALLS if i.response.status == 200]
REFUSED = [(n, i) for n, i in CALLS if i.response.status != 200]


def replay(server: MockServer, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    url = server.url + "/bedrock" + path
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("AKIDREPLAY", "secret"), "bedrock", "us-east-1").add_auth(request)
    sent = urllib.request.Request(url, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def missing_keys(recorded: Any, ours: Any, path: str = "") -> list[str]:
    if isinstance(recorded, dict):
        if not isinstance(ours, dict):
            return [path or "."]
        gaps = []
        for key, value in recorded.items():
            if key in NOT_IMITATED:
                continue
            if key not in ours:
                gaps.append(f"{path}.{key}")
            elif key != "content":  # the blocks depend on what the model chose to say
                gaps += missing_keys(value, ours[key], f"{path}.{key}")
        return gaps
    return []


def event_names(data: bytes) -> list[str]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [str(m.headers[":event-type"]) for m in buffer]


def test_enough_recorded_requests() -> None:
    assert len(ACCEPTED) >= 85 and len(REFUSED) >= 3


@pytest.mark.parametrize(("name", "item"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_recorded_request_is_accepted(mock: MockServer, name: str, item: Interaction) -> None:
    path = urlsplit(item.request.uri).path
    status, headers, body = replay(mock, path, item.request.raw)
    assert status == 200, body[:300]
    assert headers["x-amzn-requestid"]
    if path.endswith("/converse-stream"):
        assert headers["content-type"] == "application/vnd.amazon.eventstream"
        assert _GRAMMAR.match(" ".join(event_names(body)))
        return
    ours = msgspec.json.decode(body)
    assert missing_keys(item.response.json, ours) == []
    assert ours["output"]["message"]["role"] == "assistant" and ours["output"]["message"]["content"]
    assert ours["stopReason"] in ("end_turn", "tool_use", "max_tokens", "stop_sequence")
    usage = ours["usage"]
    cached = usage.get("cacheReadInputTokens", 0) + usage.get("cacheWriteInputTokens", 0)
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] + cached


@pytest.mark.parametrize(("name", "item"), [(n, i) for n, i in CALLS if i.response.is_stream],
                         ids=[n for n, i in CALLS if i.response.is_stream])
def test_recorded_streams_follow_the_grammar_the_mock_keeps(name: str, item: Interaction) -> None:
    assert _GRAMMAR.match(" ".join(event_names(item.response.raw)))


@pytest.mark.parametrize(("name", "item"), REFUSED, ids=[n for n, _ in REFUSED])
def test_recorded_invalid_model_error_comes_back_the_same(mock: MockServer, name: str, item: Interaction) -> None:
    path = urlsplit(item.request.uri).path
    model = unquote(path.split("/")[2])
    missing = path.replace(quote(model, safe=""), "no-such-" + quote(model, safe=""))
    assert missing != path
    status, headers, body = replay(mock, missing, item.request.raw)
    assert (status, msgspec.json.decode(body)) == (item.response.status, item.response.json)
    assert headers["x-amzn-errortype"].split(":")[0] == "ValidationException"
