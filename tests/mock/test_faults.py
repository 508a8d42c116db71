"""Fault injection (header and path prefix) as the SDKs see it: error classes, retry-after,
latency, stalls, cut streams, and ``times=N`` counters."""

from __future__ import annotations

import time

import anthropic
import httpx2
import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

HI = [{"role": "user", "content": "hi"}]
CLAUDE = "claude-haiku-4-5"


def oai_for(server: MockServer, prefix: str = "", retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + prefix + "/openai/v1", api_key="sk-test", max_retries=retries)


def ant_for(server: MockServer, prefix: str = "", retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url + prefix + "/anthropic", api_key="sk-ant", max_retries=retries)


def test_status_fault_by_header_in_each_family_shape(fresh: MockServer) -> None:
    with pytest.raises(openai.InternalServerError) as oai_err:
        oai_for(fresh).chat.completions.create(model="gpt-4o-mini", messages=HI,
                                               extra_headers={"x-mock-fault": "status=500"})
    assert oai_err.value.status_code == 500
    assert oai_err.value.type == "server_error"
    with pytest.raises(anthropic.OverloadedError) as ant_err:
        ant_for(fresh).messages.create(model=CLAUDE, max_tokens=5, messages=HI,
                                       extra_headers={"x-mock-fault": "status=529"})
    assert ant_err.value.body["error"]["type"] == "overloaded_error"
    with pytest.raises(anthropic.BadRequestError):
        ant_for(fresh).messages.create(model=CLAUDE, max_tokens=5, messages=HI,
                                       extra_headers={"x-mock-fault": "status=400"})


def test_status_fault_by_path_prefix(fresh: MockServer) -> None:
    with pytest.raises(openai.InternalServerError) as err:
        oai_for(fresh, "/fault/status=503").chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert err.value.status_code == 503
    with pytest.raises(anthropic.InternalServerError) as ant_err:
        ant_for(fresh, "/fault/status=500").messages.create(model=CLAUDE, max_tokens=5, messages=HI)
    assert ant_err.value.body["error"]["type"] == "api_error"
    assert fresh.stats()["paths"] == {"/openai/v1/chat/completions": 1, "/anthropic/v1/messages": 1}


def test_rate_limit_exposes_retry_after(fresh: MockServer) -> None:
    with pytest.raises(openai.RateLimitError) as err:
        oai_for(fresh).chat.completions.create(model="gpt-4o-mini", messages=HI,
                                               extra_headers={"x-mock-fault": "status=429,retry_after=7"})
    assert err.value.response.headers["retry-after"] == "7"
    assert err.value.code == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as ant_err:
        ant_for(fresh, "/fault/status=429,retry_after=3").messages.create(model=CLAUDE, max_tokens=5, messages=HI)
    assert ant_err.value.response.headers["retry-after"] == "3"
    assert ant_err.value.body["error"]["type"] == "rate_limit_error"


def test_times_one_rate_limit_is_retried_after_the_advertised_delay(fresh: MockServer) -> None:
    spec = "status=429,retry_after=1,times=1"
    started = time.monotonic()
    reply = oai_for(fresh, retries=2).chat.completions.create(model="gpt-4o-mini", messages=HI,
                                                              extra_headers={"x-mock-fault": spec})
    assert time.monotonic() - started >= 1.0  # the SDK waited as retry-after asked
    assert reply.choices[0].message.content == "Echo: hi"
    assert fresh.stats()["faults"][spec] == {"seen": 2, "struck": 1}
    # counters are per spec string: the same spec is used up, a reordered one strikes afresh
    started = time.monotonic()
    client = ant_for(fresh, "/fault/times=1,status=429,retry_after=1", retries=2)
    message = client.messages.create(model=CLAUDE, max_tokens=20, messages=HI)
    assert time.monotonic() - started >= 1.0
    assert message.content[0].text == "Echo: hi"


def test_times_n_then_normal_answers(fresh: MockServer) -> None:
    client = oai_for(fresh, "/fault/status=502,times=2")
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert client.chat.completions.create(model="gpt-4o-mini", messages=HI).choices[0].message.content == "Echo: hi"
    stats = fresh.stats()
    assert stats["faults"]["status=502,times=2"] == {"seen": 3, "struck": 2}
    assert stats["total"] == 3


def test_latency(fresh: MockServer) -> None:
    client = oai_for(fresh)
    started = time.monotonic()
    client.chat.completions.create(model="gpt-4o-mini", messages=HI, extra_headers={"x-mock-fault": "latency_ms=300"})
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    ant_for(fresh, "/fault/latency_ms=200").messages.create(model=CLAUDE, max_tokens=5, messages=HI)
    assert time.monotonic() - started >= 0.2


def test_stall_between_stream_events(fresh: MockServer) -> None:
    started = time.monotonic()
    chunks = list(oai_for(fresh).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a b"}], stream=True,
        extra_headers={"x-mock-fault": "stall_ms=100"}))
    # role, "Echo:", " a", " b", finish, [DONE]: five pauses
    assert len(chunks) == 5
    assert time.monotonic() - started >= 0.5


def test_cut_stream_makes_the_sdks_raise(fresh: MockServer) -> None:
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in oai_for(fresh).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "one two three"}], stream=True,
                extra_headers={"x-mock-fault": "cut_after=2"}):
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["", "Echo:"]
    events: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        with ant_for(fresh, "/fault/cut_after=3").messages.stream(
                model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "one two three"}]) as stream:
            events.extend(event.type for event in stream)
    assert events == ["message_start", "content_block_start"]  # the third event, ping, is not surfaced


def test_bad_spec_stats_and_reset_over_http(fresh: MockServer) -> None:
    bad = post_json(fresh.url + "/openai/v1/chat/completions", {"model": "m", "messages": HI},
                    {"Authorization": "Bearer sk", "x-mock-fault": "explode=1"})
    assert bad.status == 400
    assert "bad fault spec" in bad.json["error"]["message"]
    stats = raw_request(fresh.url + "/_mock/stats")
    assert stats.json["paths"] == {"/openai/v1/chat/completions": 1}
    assert stats.json["faults"] == {}  # a spec that does not parse is never counted
    assert raw_request(fresh.url + "/_mock/reset", b"", method="POST").json == {"ok": True}
    assert raw_request(fresh.url + "/_mock/stats").json == {"total": 0, "paths": {}, "streams_abandoned": 0, "faults": {}}
