"""``LLMManager``: the engine for Python programs, with no server, accounts or database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, Literal, overload

import msgspec

from byway.config import RouteConfig, load_config
from byway.core import (
    ChatRequest,
    ChatResponse,
    ImagePart,
    Message,
    Part,
    ProviderError,
    ResponseFormat,
    StreamEvent,
    TextPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.engine import Engine
from byway.providers.config import ProviderConfig
from byway.routing.health import Health


class ChatMessage(msgspec.Struct, kw_only=True):
    """A message in the simple form: ``content`` is text or a list of parts; a ``tool`` message
    answers the call ``tool_call_id``; an assistant message may carry ``tool_calls``."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[Part] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCallPart] | None = None

    def to_message(self) -> Message:
        parts: list[Part]
        if self.content is None:
            parts = []
        elif isinstance(self.content, str):
            parts = [TextPart(self.content)]
        else:
            parts = list(self.content)
        if self.role == "tool":
            if not self.tool_call_id:
                raise ValueError("a tool message needs tool_call_id")
            content = [p for p in parts if isinstance(p, TextPart | ImagePart)]
            return Message("tool", [ToolResultPart(self.tool_call_id, content, name=self.name)])
        if self.tool_calls:
            parts.extend(self.tool_calls)
        return Message(self.role, parts, self.name)


class ChatCompletionRequest(msgspec.Struct, kw_only=True):
    messages: list[ChatMessage | Message]
    model: str
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None

    def to_request(self, *, stream: bool = False) -> ChatRequest:
        return ChatRequest(
            model=self.model,
            messages=[m.to_message() if isinstance(m, ChatMessage) else m for m in self.messages],
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens, stop=self.stop,
            seed=self.seed, tools=self.tools, tool_choice=self.tool_choice, response_format=self.response_format,
            user=self.user, stream=stream, include_usage=stream)


class CostAnalysis(msgspec.Struct):
    total_cost: Decimal
    provider_costs: dict[str, Decimal]
    requests: dict[str, int]
    unpriced_requests: int


class LLMManager:
    """One object in front of several providers.

    >>> manager = LLMManager([ProviderConfig(provider_type=ProviderType.OPENAI, api_key="sk-...")])
    >>> response = await manager.chat_completion(ChatCompletionRequest(
    ...     messages=[ChatMessage(role="user", content="Hello")], model="gpt-4o-mini"))
    """

    def __init__(self, providers: list[ProviderConfig], routes: list[RouteConfig] | None = None) -> None:
        self.providers = list(providers)
        self.engine = Engine(self.providers, routes)

    @classmethod
    def from_config(cls, path: str) -> LLMManager:
        config = load_config(path)
        return cls(config.providers, config.routes)

    async def chat_completion(self, request: ChatCompletionRequest | ChatRequest) -> ChatResponse:
        """Answer ``request``; the response carries ``usage``, ``cost`` and the ``provider`` that answered."""
        canonical = request if isinstance(request, ChatRequest) else request.to_request()
        if canonical.stream:
            canonical = msgspec.structs.replace(canonical, stream=False)
        done = await self.engine.complete(canonical)
        return done.response

    async def stream(self, request: ChatCompletionRequest | ChatRequest) -> AsyncIterator[StreamEvent]:
        """The answer as canonical events (TextDelta, ToolCallStart, ..., Finish, UsageReport)."""
        canonical = request.to_request(stream=True) if isinstance(request, ChatCompletionRequest) else \
            msgspec.structs.replace(request, stream=True, include_usage=True)
        async for event in self.engine.events(canonical):
            yield event

    def get_cost_analysis(self) -> CostAnalysis:
        tally = self.engine.spend
        return CostAnalysis(total_cost=tally.total, provider_costs=dict(tally.by_provider),
                            requests=dict(tally.requests), unpriced_requests=tally.unpriced)

    async def list_models(self) -> dict[str, list[str]]:
        """Each provider's live model list (its configured catalogue when it cannot be asked)."""
        results = await asyncio.gather(*(self._models(p) for p in self.providers))
        return {p.name: models for p, models in zip(self.providers, results, strict=True)}

    async def _models(self, provider: ProviderConfig) -> list[str]:
        try:
            return await self.engine.list_models(provider)
        except ProviderError:
            return list(provider.models or ())

    @overload
    async def check_provider_health(self, detailed: Literal[False] = False) -> dict[str, bool]: ...

    @overload
    async def check_provider_health(self, detailed: Literal[True]) -> dict[str, Health]: ...

    async def check_provider_health(self, detailed: bool = False) -> dict[str, bool] | dict[str, Health]:
        """Check every provider now (its cheapest authenticated call): whether each answers, or with
        ``detailed=True`` its verdict (healthy / degraded / down, with the reason), latency p50/p95, error
        rate and circuit state, from this check and the traffic so far."""
        reports = await asyncio.gather(*(self.engine.check(p) for p in self.providers))
        if detailed:
            return {p.name: report for p, report in zip(self.providers, reports, strict=True)}
        return {p.name: bool(report.last_check_ok) for p, report in zip(self.providers, reports, strict=True)}

    async def close(self) -> None:
        await self.engine.close()

    async def __aenter__(self) -> LLMManager:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
