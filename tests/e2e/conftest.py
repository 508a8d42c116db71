"""A real ``byway serve`` process on a free port, pointed at the mock providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from byway.mock import MockServer, running
from tests.serving import serving

MASTER_KEY = "byw-master-e2e-0123456789abcdef"


class Gateway:
    def __init__(self, url: str, mock: MockServer, log: Path) -> None:
        self.url = url
        self.mock = mock
        self.log = log

    def client(self, **kw: object) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=kw.pop("api_key", MASTER_KEY),  # type: ignore[arg-type]
                             max_retries=0, timeout=30, **kw)  # type: ignore[arg-type]

    def anthropic(self, **kw: object) -> anthropic.Anthropic:
        """The official Anthropic SDK pointed at the gateway: the master key in ``x-api-key`` by default;
        ``auth_token=...`` (with ``api_key=None``) sends it as a Bearer token instead."""
        if "auth_token" not in kw:
            kw.setdefault("api_key", MASTER_KEY)
        return anthropic.Anthropic(base_url=self.url, max_retries=0, timeout=30, **kw)  # type: ignore[arg-type]


def write_config(path: Path, mock_url: str) -> None:
    path.write_text(f"""
providers:
  - name: oa
    type: openai
    api_key: sk-mock-openai
    base_url: {mock_url}/openai/v1
    models: [gpt-4o-mini, gpt-4o, o3-mini, text-embedding-3-small]
    priority: 1
  - name: an
    type: anthropic
    api_key: sk-ant-mock
    base_url: {mock_url}/anthropic
    models: [claude-3-5-haiku-latest, claude-sonnet-4-20250514]
    priority: 2
  - name: az
    type: azure
    api_key: az-mock
    base_url: {mock_url}/azure
    api_version: "2024-10-21"
  - name: broken
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/fault/status=500/openai/v1
  - name: limited
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/fault/status=429,retry_after=7/openai/v1
  - name: badkey
    type: anthropic
    api_key: bad-key
    base_url: {mock_url}/anthropic
  - name: cut
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/fault/cut_after=3/openai/v1
  - name: cutan
    type: anthropic
    api_key: sk-ant-mock
    base_url: {mock_url}/fault/cut_after=4/anthropic
  - name: slow
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/fault/stall_ms=300/openai/v1
  - name: sleepy
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/fault/latency_ms=3000/openai/v1
    timeout: 0.5
  - name: dark
    type: openai
    api_key: sk-mock
    base_url: {mock_url}/openai/v1
    enabled: false
  - name: nowhere
    type: openai
    api_key: sk-mock
    base_url: http://127.0.0.1:9/v1
routes:
  - name: smart
    mode: fallback
    targets: [broken:gpt-4o-mini, an:claude-3-5-haiku-latest]
""")


@pytest.fixture(scope="session")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="session")
def gateway(mock: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    work = tmp_path_factory.mktemp("gateway")
    config = work / "byway.yaml"
    write_config(config, mock.url)
    with serving(config, work, MASTER_KEY) as url:
        yield Gateway(url, mock, work / "serve.log")
