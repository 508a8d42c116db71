"""LLMManager: the same engine without a server, against the mock providers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from byway import (
    AuthenticationError,
    ChatCompletionRequest,
    ChatMessage,
    LLMManager,
    ProviderConfig,
    ProviderError,
    ProviderType,
    RateLimitError,
)
from byway.core import Finish, TextDelta, Tool, ToolCallDelta, ToolCallStart, UsageReport
from byway.mock import MockServer


def manager_for(mock: MockServer) -> LLMManager:
    return LLMManager([
        ProviderConfig(provider_type=ProviderType.OPENAI, api_key="sk-x", base_url=mock.url + "/openai/v1",
                       models=["gpt-4o-mini"], priority=1, cost_multiplier=1.0),
        ProviderConfig(provider_type=ProviderType.ANTHROPIC, api_key="sk-ant", base_url=mock.url + "/anthropic",
                       models=["claude-3-5-haiku-latest"], priority=2),
        ProviderConfig(provider_type="openai", name="limited", api_key="sk-x",
                       base_url=mock.url + "/fault/status=429,retry_after=3/openai/v1"),
        ProviderConfig(provider_type="anthropic", name="badkey", api_key="bad", base_url=mock.url + "/anthropic"),
        ProviderConfig(provider_type="openai", name="down", api_key="sk-x", base_url="http://127.0.0.1:9/v1"),
    ])


async def test_chat_completion_usage_and_cost(mock: MockServer):
    async with manager_for(mock) as manager:
        response = await manager.chat_completion(ChatCompletionRequest(
            messages=[ChatMessage(role="user", content="Hello")], model="gpt-4o-mini", temperature=0.7,
            max_tokens=100))
        assert response.content == "Echo: Hello"
        assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 3)
        assert response.provider == "openai"
        assert response.cost == Decimal("0.15") * 9 / 1_000_000 + Decimal("0.6") * 3 / 1_000_000
        second = await manager.chat_completion(ChatCompletionRequest(
            messages=[ChatMessage(role="user", content="Hello")], model="claude-3-5-haiku-latest"))
        analysis = manager.get_cost_analysis()
        assert analysis.total_cost == response.cost + second.cost
        assert set(analysis.provider_costs) == {"openai", "anthropic"}
        assert analysis.requests == {"openai": 1, "anthropic": 1}


async def test_stream_yields_canonical_events(mock: MockServer):
    weather = Tool(name="get_weather", parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                                    "required": ["city"]})
    async with manager_for(mock) as manager:
        events = [e async for e in manager.stream(ChatCompletionRequest(
            messages=[ChatMessage(role="user", content="Weather in Bergen?")], model="anthropic:claude-3-5-haiku-latest",
            tools=[weather]))]
        starts = [e for e in events if isinstance(e, ToolCallStart)]
        assert [s.name for s in starts] == ["get_weather"]
        arguments = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
        assert json.loads(arguments) == {"city": "Bergen"}
        assert [e.stop_reason for e in events if isinstance(e, Finish)] == ["tool_calls"]
        assert any(isinstance(e, UsageReport) and e.usage.output_tokens > 0 for e in events)
        text = [e async for e in manager.stream(ChatCompletionRequest(
            messages=[ChatMessage(role="user", content="Hi")], model="openai:gpt-4o-mini"))]
        assert "".join(e.text for e in text if isinstance(e, TextDelta)) == "Echo: Hi"
        assert manager.get_cost_analysis().requests == {"anthropic": 1, "openai": 1}


async def test_typed_errors(mock: MockServer):
    request = ChatCompletionRequest(messages=[ChatMessage(role="user", content="x")], model="limited:gpt-4o-mini")
    async with manager_for(mock) as manager:
        with pytest.raises(RateLimitError) as info:
            await manager.chat_completion(request)
        assert info.value.retry_after == 3 and isinstance(info.value, ProviderError)
        with pytest.raises(ProviderError) as auth:
            await manager.chat_completion(ChatCompletionRequest(
                messages=[ChatMessage(role="user", content="x")], model="badkey:claude-3-5-haiku-latest"))
        assert auth.value.code == "provider_auth_failed" and not isinstance(auth.value, AuthenticationError)
        with pytest.raises(ProviderError) as down:
            await manager.chat_completion(ChatCompletionRequest(
                messages=[ChatMessage(role="user", content="x")], model="down:gpt-4o-mini"))
        assert down.value.status == 502


async def test_models_and_health(mock: MockServer):
    async with manager_for(mock) as manager:
        models = await manager.list_models()
        assert "gpt-4o-mini" in models["openai"] and "claude-3-5-haiku-20241022" in models["anthropic"]
        assert models["down"] == []
        health = await manager.check_provider_health()
        assert health == {"openai": True, "anthropic": True, "limited": False, "badkey": False, "down": False}


def test_from_config(tmp_path, mock: MockServer):
    path = tmp_path / "byway.yaml"
    path.write_text(f"providers:\n  - name: oa\n    type: openai\n    api_key: k\n    base_url: {mock.url}/openai/v1\n")
    manager = LLMManager.from_config(str(path))
    assert manager.providers[0].name == "oa"


async def test_detailed_health_after_traffic(mock: MockServer):
    async with manager_for(mock) as manager:
        for _ in range(3):
            await manager.chat_completion(ChatCompletionRequest(
                messages=[ChatMessage(role="user", content="Hello")], model="openai:gpt-4o-mini"))
        with pytest.raises(ProviderError):
            await manager.chat_completion(ChatCompletionRequest(
                messages=[ChatMessage(role="user", content="x")], model="down:gpt-4o-mini"))
        health = await manager.check_provider_health(detailed=True)
        openai_health = health["openai"]
        assert openai_health.status == "healthy" and openai_health.last_check_ok is True
        assert openai_health.requests == 4 and openai_health.errors == 0  # 3 answers and the check
        assert openai_health.latency_p50_ms is not None and openai_health.latency_p95_ms is not None
        down = health["down"]
        assert down.status == "degraded" and down.error_rate == 1.0 and down.last_check_ok is False
        assert "500" in (down.last_error or "") or "failed" in down.reason
        assert health["badkey"].last_check_ok is False and health["badkey"].circuit == "closed"
