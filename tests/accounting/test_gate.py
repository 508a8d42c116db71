"""The gate in the engine: budgets and rate limits on the caller and on each target, with failover past a
target whose own limit refuses, and the worst case reserved at that target's prices."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from byway.config import RouteConfig
from byway.core import BudgetExceededError, ChatRequest, Message, ProviderError, RateLimitError, TextPart
from byway.core.principal import Limit, Principal
from byway.engine import Engine
from byway.mock import MockServer, running
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType

PRICE = {"gpt-4o-mini": ModelPrice(input=Decimal(1000), output=Decimal(1000))}  # 0.001 USD a token


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


def _provider(mock: MockServer, name: str, **kw: object) -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.OPENAI, name=name, api_key="sk", prices=PRICE,
                          base_url=f"{mock.url}/openai/v1", models=["gpt-4o-mini"], **kw)  # type: ignore[arg-type]


def _request(model: str = "pair", max_tokens: int = 10) -> ChatRequest:
    return ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart("hello there")])],
                       max_tokens=max_tokens)


async def test_a_target_over_its_budget_hands_over_to_the_next(mock: MockServer) -> None:
    engine = Engine([_provider(mock, "first", monthly_budget=Decimal("0.02")), _provider(mock, "second")],
                    [RouteConfig(name="pair", targets=["first:gpt-4o-mini", "second:gpt-4o-mini"])])
    try:
        served_by = [(await engine.complete(_request())).target.provider.name for _ in range(4)]
        # "first" reserves (prompt estimate + 10) tokens' worth each time and books the real cost after;
        # once what it spent leaves less than a worst case, "second" serves
        assert served_by[0] == "first" and served_by[-1] == "second"
        spent = engine.gate.budgets.spent("provider:first")
        assert 0 < spent <= Decimal("0.02")
        [state] = engine.gate.budgets.snapshot()
        assert state.reserved == 0
    finally:
        await engine.close()


async def test_the_callers_budget_refuses_with_402_naming_it(mock: MockServer) -> None:
    engine = Engine([_provider(mock, "oa")])
    caller = Principal(id="key_1", kind="key", role="member", user_id="usr_1",
                       limits=(Limit(scope="key:key_1", monthly_budget=Decimal("0.001")),))
    try:
        with pytest.raises(BudgetExceededError) as refused:
            await engine.complete(_request("oa:gpt-4o-mini"), caller)
        assert refused.value.status == 402 and "key:key_1" in refused.value.message
        assert engine.spend.total == 0
    finally:
        await engine.close()


async def test_a_failed_call_gives_its_reservation_back(mock: MockServer) -> None:
    broken = ProviderConfig(provider_type=ProviderType.OPENAI, name="broken", api_key="sk", prices=PRICE,
                            base_url=f"{mock.url}/fault/status=500/openai/v1", models=["gpt-4o-mini"],
                            monthly_budget=Decimal("1"), retries=0)
    engine = Engine([broken])
    try:
        with pytest.raises(ProviderError):
            await engine.complete(_request("broken:gpt-4o-mini"))
        [state] = engine.gate.budgets.snapshot()
        assert (state.spent, state.reserved) == (0, 0)
    finally:
        await engine.close()


async def test_caller_rate_limit_and_token_correction(mock: MockServer) -> None:
    engine = Engine([_provider(mock, "oa")])
    caller = Principal(id="key_2", kind="key", role="member", user_id="usr_2",
                       limits=(Limit(scope="user:usr_2", rpm=2),))
    try:
        for _ in range(2):
            await engine.complete(_request("oa:gpt-4o-mini"), caller)
        with pytest.raises(RateLimitError) as limited:
            await engine.complete(_request("oa:gpt-4o-mini"), caller)
        assert limited.value.status == 429 and "user:usr_2" in limited.value.message
        assert 58 <= limited.value.retry_after <= 60
        assert int(limited.value.headers()["retry-after"]) in (59, 60)
    finally:
        await engine.close()


async def test_a_streamed_answer_settles_its_budget_too(mock: MockServer) -> None:
    engine = Engine([_provider(mock, "oa", monthly_budget=Decimal("5"))])
    try:
        request = _request("oa:gpt-4o-mini")
        request.stream = True
        events = [e async for e in engine.events(request)]
        assert events
        [state] = engine.gate.budgets.snapshot()
        assert state.reserved == 0 and state.spent == engine.spend.total > 0
    finally:
        await engine.close()
