"""Mock servers for the faithfulness tests, driven by the official SDKs over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from byway.mock import MockServer, running


@pytest.fixture(scope="session")
def mock() -> Iterator[MockServer]:
    """One server shared by the tests that do not count requests or use faults."""
    with running() as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[MockServer]:
    """A server of the test's own, with fresh counters."""
    with running() as server:
        yield server


@pytest.fixture
def oai(mock: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.url + "/openai/v1", api_key="sk-test", max_retries=0)


@pytest.fixture
def ant(mock: MockServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=mock.url + "/anthropic", api_key="sk-ant-test", max_retries=0)
