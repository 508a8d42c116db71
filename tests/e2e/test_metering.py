"""Metering through a real ``byway serve``: one usage record per request that reached a provider, streamed
or not, failed or not; budgets that concurrent requests cannot overspend; rate limits with a correct
``retry-after``; and no record lost when the gateway is killed with SIGKILL under load."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from byway.mock import MockServer
from tests.serving import free_port, serving
from tests.usage_records import records, wait_for

MASTER = "byw-master-metering-0123456789abcdef"
PRICE = Decimal(1000)  # USD per 1M tokens, both ways: a token costs exactly 0.001 USD


def _config(work: Path, mock: MockServer) -> Path:
    config = work / "byway.yaml"
    config.write_text(f"""
providers:
  - name: oa
    type: openai
    api_key: sk-metering
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini, text-embedding-3-small]
    prices:
      gpt-4o-mini: {{input: {PRICE}, output: {PRICE}}}
  - name: an
    type: anthropic
    api_key: sk-ant-metering
    base_url: {mock.url}/anthropic
    models: [claude-3-5-haiku-latest]
  - name: slow
    type: openai
    api_key: sk-metering
    base_url: {mock.url}/fault/latency_ms=400/openai/v1
    models: [gpt-4o-mini]
    prices:
      gpt-4o-mini: {{input: {PRICE}, output: {PRICE}}}
  - name: broken
    type: openai
    api_key: sk-metering
    base_url: {mock.url}/fault/status=500/openai/v1
    models: [gpt-4o-mini]
    retries: 0
  - name: capped
    type: openai
    api_key: sk-metering
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini]
    rpm_limit: 3
  - name: cut
    type: openai
    api_key: sk-metering
    base_url: {mock.url}/fault/cut_after=3/openai/v1
    models: [gpt-4o-mini]
    prices:
      gpt-4o-mini: {{input: {PRICE}, output: {PRICE}}}
  - name: cutan
    type: anthropic
    api_key: sk-ant-metering
    base_url: {mock.url}/fault/cut_after=4/anthropic
    models: [claude-3-5-haiku-latest]
  - name: nocost
    type: openai_compatible
    api_key: sk-metering
    base_url: {mock.url}/openai/v1
    models: [mystery-model-7]
""")
    return config


class Served:
    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work
        self.http = httpx.Client(base_url=url, timeout=30)

    def api(self, method: str, path: str, key: str = MASTER, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"authorization": f"Bearer {key}"}, **kw)

    def sdk(self, key: str = MASTER) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=30)

    def key(self, **fields: Any) -> str:
        """A new member with a gateway key carrying ``fields`` (limits, budget)."""
        email = f"m{time.monotonic_ns()}@example.com"
        user = self.api("POST", "/api/users", json={"email": email, "role": "member"}).json()
        answer = self.api("POST", "/api/keys", json={"name": "k", "user_id": user["id"], **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()["key"]


@pytest.fixture(scope="module")
def served(mock: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("metering")
    with serving(_config(work, mock), work, MASTER) as url:
        yield Served(url, work)


def test_every_kind_of_request_leaves_one_record_with_tokens_cost_and_timing(served: Served) -> None:
    client = served.sdk()
    plain = client.chat.completions.with_raw_response.create(
        model="oa:gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], max_tokens=20)
    answer = plain.parse()
    with client.chat.completions.with_streaming_response.create(
            model="oa:gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}], max_tokens=20,
            stream=True) as streamed:
        streamed_id = streamed.headers["x-byway-request-id"]
        list(streamed.iter_lines())
    anthropic_call = served.http.post("/v1/messages", headers={"x-api-key": MASTER}, json={
        "model": "an:claude-3-5-haiku-latest", "max_tokens": 30, "messages": [{"role": "user", "content": "Hi"}]})
    embedded = client.embeddings.with_raw_response.create(model="oa:text-embedding-3-small", input=["one", "two"])
    ids = {plain.headers["x-byway-request-id"]: "plain", streamed_id: "stream",
           anthropic_call.headers["x-byway-request-id"]: "messages", embedded.headers["x-byway-request-id"]: "emb"}
    found = wait_for(served.work, set(ids))
    assert set(ids) <= set(found)
    plain_record = found[plain.headers["x-byway-request-id"]]
    assert plain_record["endpoint"] == "chat.completions" and plain_record["stream"] is False
    assert plain_record["provider"] == "oa" and plain_record["model"] == "gpt-4o-mini"
    assert plain_record["tokens_in"] == answer.usage.prompt_tokens
    assert plain_record["tokens_out"] == answer.usage.completion_tokens
    # 1000 USD per 1M tokens: the cost is the token count in thousandths, exactly, and the header says so
    expected = Decimal(answer.usage.prompt_tokens + answer.usage.completion_tokens) / 1000
    assert plain_record["cost"] == expected == Decimal(plain.headers["x-byway-cost-usd"])
    assert plain_record["success"] is True and plain_record["status_code"] == 200
    assert plain_record["latency_ms"] > 0 and plain_record["ttft_ms"] is None
    assert plain_record["attempts"] == [{"provider": "oa", "model": "gpt-4o-mini", "status": 200,
                                         "latency_ms": plain_record["attempts"][0]["latency_ms"]}]
    stream_record = found[streamed_id]
    assert stream_record["stream"] is True and stream_record["estimated"] is False
    assert (stream_record["tokens_in"], stream_record["tokens_out"], stream_record["cost"]) == \
        (plain_record["tokens_in"], plain_record["tokens_out"], plain_record["cost"])
    assert 0 < stream_record["ttft_ms"] <= stream_record["latency_ms"]
    messages_record = found[anthropic_call.headers["x-byway-request-id"]]
    usage = anthropic_call.json()["usage"]
    assert messages_record["endpoint"] == "messages" and messages_record["provider"] == "an"
    assert (messages_record["tokens_in"], messages_record["tokens_out"]) == \
        (usage["input_tokens"], usage["output_tokens"])
    assert messages_record["cost"] is not None and messages_record["cost"] > 0  # the catalogue's Haiku price
    embedding_record = found[embedded.headers["x-byway-request-id"]]
    assert embedding_record["endpoint"] == "embeddings"
    assert embedding_record["tokens_in"] == embedded.parse().usage.prompt_tokens > 0


def test_a_failed_request_is_recorded_with_its_attempts_and_a_refused_one_is_not(served: Served) -> None:
    failed = served.api("POST", "/v1/chat/completions", json={
        "model": "broken:gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    assert failed.status_code == 502
    missing = served.api("POST", "/v1/chat/completions", json={
        "model": "oa:no-such-model", "messages": [{"role": "user", "content": "Hi"}]})
    assert missing.status_code == 404
    failed_id = failed.headers["x-byway-request-id"]
    found = wait_for(served.work, {failed_id})
    record = found[failed_id]
    assert record["success"] is False and record["status_code"] == 502
    assert "500" in record["error"] or "server" in record["error"].lower()
    assert record["cost"] == Decimal(0) and record["tokens_in"] == 0
    assert [(a["provider"], a["status"]) for a in record["attempts"]] == [("broken", 500)]
    time.sleep(0.5)
    assert missing.headers["x-byway-request-id"] not in records(served.work)


@pytest.mark.parametrize("model", ["cut:gpt-4o-mini", "cutan:claude-3-5-haiku-latest"])
def test_a_stream_cut_midway_is_recorded_for_what_was_delivered(served: Served, model: str) -> None:
    body = {"model": model, "stream": True, "max_tokens": 50,
            "messages": [{"role": "user", "content": "Tell me a long story about a lighthouse keeper"}]}
    with served.http.stream("POST", "/v1/chat/completions", headers={"authorization": f"Bearer {MASTER}"},
                            json=body) as answer:
        text = b"".join(answer.iter_bytes())
        request_id = answer.headers["x-byway-request-id"]
    assert answer.status_code == 200 and b'"error"' in text  # the stream ended with an error event
    record = wait_for(served.work, {request_id})[request_id]
    assert record["success"] is False and record["stream"] is True and record["error"]
    # what reached the client before the cut is metered: the prompt and the delivered text, estimated
    assert record["estimated"] is True and record["tokens_in"] > 0 and record["tokens_out"] > 0
    assert record["cost"] is not None and record["cost"] > 0
    assert len(record["attempts"]) == 1  # no second attempt after the first byte


def test_an_unknown_price_is_recorded_as_unknown_not_zero(served: Served) -> None:
    answer = served.sdk().chat.completions.with_raw_response.create(
        model="nocost:mystery-model-7", messages=[{"role": "user", "content": "Hi"}])
    assert answer.status_code == 200 and "x-byway-cost-usd" not in answer.headers
    request_id = answer.headers["x-byway-request-id"]
    record = wait_for(served.work, {request_id})[request_id]
    assert record["cost"] is None and record["tokens_out"] > 0 and record["success"] is True


def test_concurrent_requests_cannot_overspend_a_budget(served: Served) -> None:
    prompt = [{"role": "user", "content": "Count the sheep"}]
    # what one such request really costs (the mock answers the same prompt the same way)
    probe = served.sdk().chat.completions.with_raw_response.create(model="slow:gpt-4o-mini", messages=prompt,
                                                                   max_tokens=16)
    one = Decimal(probe.headers["x-byway-cost-usd"])
    budget = one * 10
    key = served.key(monthly_budget=str(budget))

    async def fire() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
        async with httpx.AsyncClient(base_url=served.url, timeout=60, limits=limits) as http:
            return await asyncio.gather(*(http.post(
                "/v1/chat/completions", headers={"authorization": f"Bearer {key}"},
                json={"model": "slow:gpt-4o-mini", "messages": prompt, "max_tokens": 16}) for _ in range(200)))

    answers = asyncio.run(fire())
    statuses = [a.status_code for a in answers]
    served_ids = {a.headers["x-byway-request-id"] for a in answers if a.status_code == 200}
    assert set(statuses) <= {200, 402}
    assert 1 <= len(served_ids) <= 10
    refused = next(a for a in answers if a.status_code == 402).json()["error"]
    assert refused["code"] == "budget_exceeded" and refused["type"] == "insufficient_quota"
    assert "key:" in refused["message"]
    # the burst settled at its real cost: later requests use what its reservations left, until the budget is
    # spent; never more than ten in all
    for _ in range(20):
        later = served.api("POST", "/v1/chat/completions", key=key, json={
            "model": "slow:gpt-4o-mini", "messages": prompt, "max_tokens": 16})
        if later.status_code == 402:
            break
        assert later.status_code == 200
        served_ids.add(later.headers["x-byway-request-id"])
    assert later.status_code == 402 and len(served_ids) <= 10
    found = wait_for(served.work, served_ids)
    assert all(found[i]["key_id"] for i in served_ids)
    spent = sum((found[i]["cost"] for i in served_ids), Decimal(0))
    assert spent == one * len(served_ids) <= budget


def test_a_key_rate_limit_admits_n_a_minute_and_then_says_when(served: Served) -> None:
    key = served.key(rpm_limit=4)
    body = {"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    started = time.time()
    statuses = [served.api("POST", "/v1/chat/completions", key=key, json=body).status_code for _ in range(4)]
    assert statuses == [200] * 4
    limited = served.api("POST", "/v1/chat/completions", key=key, json=body)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    wait = int(limited.headers["retry-after"])
    elapsed = time.time() - started
    assert 60 - elapsed - 1 <= wait <= 60  # the first request leaves the minute's window then
    # the Anthropic API says it in its own shape
    refused = served.http.post("/v1/messages", headers={"x-api-key": key}, json={
        "model": "oa:gpt-4o-mini", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]})
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "rate_limit_error"
    assert int(refused.headers["retry-after"]) <= wait


def test_a_providers_rate_limit_moves_on_or_refuses_with_retry_after(served: Served) -> None:
    body = {"model": "capped:gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    statuses = [served.api("POST", "/v1/chat/completions", json=body).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = served.api("POST", "/v1/chat/completions", json=body)
    assert limited.status_code == 429 and "provider:capped" in limited.json()["error"]["message"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60


@pytest.mark.parametrize("kill", ["gateway and writer", "gateway alone"])
def test_sigkill_under_load_loses_no_record_of_a_delivered_answer(mock: MockServer, tmp_path: Path,
                                                                   kill: str) -> None:
    config = _config(tmp_path, mock)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(BYWAY_MASTER_KEY=MASTER, BYWAY_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "byway.cli", "serve", "--config", str(config), "--port",
                             str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    whole_group = kill == "gateway and writer"  # as the OOM killer or a container's end takes them both
    try:
        _wait_up(url, proc)
        delivered = asyncio.run(_load_until_killed(url, proc, whole_group))
    finally:
        proc.kill()
        proc.wait()
        log.close()
    try:
        assert len(delivered) >= 50, "the load should have delivered answers before the kill"
        if whole_group:
            # the kill came while the writer was behind: some delivered answers are only in the journal now
            only_journaled = delivered - set(records(tmp_path))
            assert only_journaled
            with serving(config, tmp_path, MASTER):
                found = wait_for(tmp_path, delivered, timeout=20)
        else:
            # the writer outlives its gateway long enough to store what the journal holds, then ends
            found = wait_for(tmp_path, delivered, timeout=20)
            assert _group_ends(proc.pid, timeout=10), "the writer process outlived its gateway"
        missing = delivered - set(found)
        assert not missing, f"{len(missing)} delivered answers have no usage record"
        assert all(found[i]["success"] for i in delivered)
    finally:
        _kill_group(proc.pid)


def _group_ends(group: int, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError("byway serve did not start")


async def _load_until_killed(url: str, proc: subprocess.Popen[bytes], whole_group: bool) -> set[str]:
    """Send plain and streamed requests from 16 clients; SIGKILL the gateway (``whole_group``: with its
    writer process) once 300 answers are in.
    Answers the request ids of the answers that arrived whole."""
    delivered: set[str] = set()
    headers = {"authorization": f"Bearer {MASTER}"}
    stop = asyncio.Event()

    async def client(n: int, http: httpx.AsyncClient) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            stream = (n + i) % 2 == 0
            body = {"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": f"load {n} {i}"}],
                    "stream": stream}
            try:
                async with http.stream("POST", "/v1/chat/completions", headers=headers, json=body) as answer:
                    text = b"".join([chunk async for chunk in answer.aiter_bytes()])
                    if answer.status_code == 200 and (not stream or text.rstrip().endswith(b"data: [DONE]")):
                        delivered.add(answer.headers["x-byway-request-id"])
            except httpx.HTTPError:
                return  # the gateway is gone
            if len(delivered) >= 300 and not stop.is_set():
                stop.set()
                if whole_group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    os.kill(proc.pid, signal.SIGKILL)

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await asyncio.gather(*(client(n, http) for n in range(16)))
    return delivered
