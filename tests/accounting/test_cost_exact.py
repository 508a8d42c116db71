"""The recorded cost is exact: for each case, a provider's answer (its usage in that provider's own wire shape) is
served to the engine from a local server, and the cost the engine records equals, to the last decimal, the
reference genai-prices computes on its own: its usage extractor for that provider reads the same answer (how
the provider bills: which counts include which) and its ``calc_price`` prices it.

So a case fails if an adapter maps the wire usage differently from how the provider bills (Anthropic's
``input_tokens`` leaving out cache reads and writes, Gemini's thinking tokens counted apart from candidates,
xAI's reasoning tokens left out of ``completion_tokens``), or if our pricing departs from the catalogue's
(cached input, cache writes, tiers by prompt size).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from genai_prices import calc_price, extract_usage

from byway.core import ChatRequest, Message, TextPart
from byway.engine import Engine
from byway.providers.config import ProviderConfig, ProviderType

Json = dict[str, Any]


def openai_body(model: str, usage: Json) -> Json:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1760000000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage}


def openai_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> Json:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def anthropic_body(model: str, fresh: int, output: int, *, read: int = 0, written: int = 0) -> Json:
    """Anthropic's ``input_tokens`` is the prompt after the last cache breakpoint: reads and writes are apart."""
    return {"id": "msg_01", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": fresh, "cache_creation_input_tokens": written, "cache_read_input_tokens": read,
                      "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
                      "output_tokens": output, "service_tier": "standard"}}


def gemini_body(model: str, prompt: int, candidates: int, *, thoughts: int = 0, cached: int = 0) -> Json:
    """Gemini's ``candidatesTokenCount`` leaves thinking out; ``thoughtsTokenCount`` holds it."""
    meta: Json = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                  "totalTokenCount": prompt + candidates + thoughts,
                  "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
                  "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": candidates}]}
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
        meta["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    return {"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"}, "finishReason": "STOP",
                            "index": 0}], "usageMetadata": meta, "modelVersion": model, "responseId": "resp-1"}


def bedrock_body(fresh: int, output: int, *, read: int = 0, written: int = 0) -> Json:
    """Bedrock Converse: ``inputTokens`` leaves the cache reads and writes out."""
    usage: Json = {"inputTokens": fresh, "outputTokens": output, "totalTokens": fresh + read + written + output}
    if read or written:
        usage |= {"cacheReadInputTokens": read, "cacheWriteInputTokens": written}
    return {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn",
            "usage": usage, "metrics": {"latencyMs": 321}}


def cohere_body(billed_in: int, billed_out: int) -> Json:
    """Cohere bills ``billed_units``; ``tokens`` also counts its own prompt template."""
    return {"id": "c0ffee", "finish_reason": "COMPLETE",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
            "usage": {"billed_units": {"input_tokens": billed_in, "output_tokens": billed_out},
                      "tokens": {"input_tokens": billed_in + 230, "output_tokens": billed_out + 2}}}


def xai_usage(prompt: int, completion: int, reasoning: int, cached: int) -> Json:
    """xAI counts reasoning apart from ``completion_tokens``: its total adds all three."""
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion + reasoning,
            "prompt_tokens_details": {"text_tokens": prompt, "audio_tokens": 0, "image_tokens": 0,
                                      "cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


class Case(NamedTuple):
    id: str
    type: str  # our provider type
    model: str
    body: Json  # the provider's answer
    catalogue: str  # genai-prices' provider id
    extractor: tuple[str, str]  # (provider id, api flavour) of the genai-prices usage extractor for the body
    tokens: tuple[int, int, int, int, int]  # the usage we must record: in, out, cached, cache write, reasoning


CASES: tuple[Case, ...] = (
    Case("openai-gpt-4o-cached", "openai", "gpt-4o", openai_body("gpt-4o-2024-08-06", openai_usage(
        12_000, 800, cached=9_984)), "openai", ("openai", "chat"), (12_000, 800, 9_984, 0, 0)),
    Case("openai-gpt-4o-mini", "openai", "gpt-4o-mini", openai_body("gpt-4o-mini", openai_usage(1_537, 311)),
         "openai", ("openai", "chat"), (1_537, 311, 0, 0, 0)),
    Case("openai-o4-mini-reasoning", "openai", "o4-mini", openai_body("o4-mini-2025-04-16", openai_usage(
        5_000, 3_000, cached=2_048, reasoning=2_496)), "openai", ("openai", "chat"), (5_000, 3_000, 2_048, 0, 2_496)),
    Case("openai-o3-reasoning", "openai", "o3", openai_body("o3-2025-04-16", openai_usage(
        20_011, 7_777, cached=19_968, reasoning=7_000)), "openai", ("openai", "chat"),
         (20_011, 7_777, 19_968, 0, 7_000)),
    Case("azure-gpt-4o-cached", "azure", "gpt-4o", openai_body("gpt-4o-2024-11-20", openai_usage(
        3_000, 500, cached=1_024)), "azure", ("openai", "chat"), (3_000, 500, 1_024, 0, 0)),
    Case("anthropic-sonnet-4-read-and-write", "anthropic", "claude-sonnet-4-20250514", anthropic_body(
        "claude-sonnet-4-20250514", 120, 900, read=20_000, written=3_000), "anthropic", ("anthropic", "default"),
         (23_120, 900, 20_000, 3_000, 0)),
    Case("anthropic-haiku-write-only", "anthropic", "claude-3-5-haiku-latest", anthropic_body(
        "claude-3-5-haiku-20241022", 50, 200, written=4_000), "anthropic", ("anthropic", "default"),
         (4_050, 200, 0, 4_000, 0)),
    Case("anthropic-sonnet-4-5-over-200k", "anthropic", "claude-sonnet-4-5", anthropic_body(
        "claude-sonnet-4-5-20250929", 150_000, 1_000, read=60_000, written=5_000), "anthropic",
         ("anthropic", "default"), (215_000, 1_000, 60_000, 5_000, 0)),
    Case("gemini-2.5-flash-thinking", "gemini", "gemini-2.5-flash", gemini_body(
        "gemini-2.5-flash", 4_000, 500, thoughts=1_200, cached=2_048), "google", ("google", "default"),
         (4_000, 1_700, 2_048, 0, 1_200)),
    Case("gemini-2.5-pro-under-200k", "gemini", "gemini-2.5-pro", gemini_body(
        "gemini-2.5-pro", 150_000, 2_000, thoughts=3_000, cached=65_536), "google", ("google", "default"),
         (150_000, 5_000, 65_536, 0, 3_000)),
    Case("gemini-2.5-pro-over-200k", "gemini", "gemini-2.5-pro", gemini_body(
        "gemini-2.5-pro", 250_000, 2_000, thoughts=3_000, cached=131_072), "google", ("google", "default"),
         (250_000, 5_000, 131_072, 0, 3_000)),
    Case("gemini-1.5-pro-over-128k", "gemini", "gemini-1.5-pro", gemini_body("gemini-1.5-pro-002", 130_000, 1_000),
         "google", ("google", "default"), (130_000, 1_000, 0, 0, 0)),
    Case("gemini-1.5-pro-under-128k", "gemini", "gemini-1.5-pro", gemini_body("gemini-1.5-pro-002", 127_000, 1_000),
         "google", ("google", "default"), (127_000, 1_000, 0, 0, 0)),
    Case("bedrock-claude-read-and-write", "bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", bedrock_body(
        100, 700, read=5_000, written=2_000), "aws", ("aws", "default"), (7_100, 700, 5_000, 2_000, 0)),
    Case("bedrock-nova-pro", "bedrock", "amazon.nova-pro-v1:0", bedrock_body(2_345, 678), "aws",
         ("aws", "default"), (2_345, 678, 0, 0, 0)),
    Case("mistral-large", "mistral", "mistral-large-latest", openai_body("mistral-large-latest", openai_usage(
        2_000, 400)), "mistral", ("mistral", "default"), (2_000, 400, 0, 0, 0)),
    Case("groq-llama-3.3", "groq", "llama-3.3-70b-versatile", openai_body("llama-3.3-70b-versatile", openai_usage(
        801, 153)), "groq", ("groq", "default"), (801, 153, 0, 0, 0)),
    Case("groq-gpt-oss-reasoning-cached", "groq", "openai/gpt-oss-120b", openai_body(
        "openai/gpt-oss-120b", openai_usage(3_000, 900, cached=2_560, reasoning=600)), "groq", ("groq", "default"),
         (3_000, 900, 2_560, 0, 600)),
    Case("deepseek-chat-cache-hit", "deepseek", "deepseek-chat", openai_body("deepseek-chat", {
        **openai_usage(5_000, 300, cached=4_096), "prompt_cache_hit_tokens": 4_096, "prompt_cache_miss_tokens": 904}),
         "deepseek", ("deepseek", "chat"), (5_000, 300, 4_096, 0, 0)),
    Case("deepseek-reasoner", "deepseek", "deepseek-reasoner", openai_body("deepseek-reasoner", {
        **openai_usage(1_200, 2_000, cached=1_024, reasoning=1_500), "prompt_cache_hit_tokens": 1_024,
        "prompt_cache_miss_tokens": 176}), "deepseek", ("deepseek", "chat"), (1_200, 2_000, 1_024, 0, 1_500)),
    Case("xai-grok-4-reasoning-apart", "xai", "grok-4", openai_body("grok-4-0709", xai_usage(351, 53, 223, 148)),
         "x-ai", ("x-ai", "chat"), (351, 276, 148, 0, 223)),
    Case("xai-grok-3-mini-reasoning-apart", "xai", "grok-3-mini", openai_body("grok-3-mini", xai_usage(
        670, 63, 83, 601)), "x-ai", ("x-ai", "chat"), (670, 146, 601, 0, 83)),
    Case("cohere-command-r-plus", "cohere", "command-r-plus", cohere_body(1_200, 300), "cohere",
         ("cohere", "default"), (1_200, 300, 0, 0, 0)),
    Case("openrouter-no-reported-cost", "openrouter", "openai/gpt-4o-mini", openai_body(
        "openai/gpt-4o-mini", openai_usage(2_222, 111, cached=1_024)), "openrouter", ("openrouter", "chat"),
         (2_222, 111, 1_024, 0, 0)),
    Case("fireworks-llama", "fireworks", "accounts/fireworks/models/llama-v3p1-8b-instruct", openai_body(
        "accounts/fireworks/models/llama-v3p1-8b-instruct", openai_usage(1_000, 200)), "fireworks",
         ("fireworks", "chat"), (1_000, 200, 0, 0, 0)),
    Case("together-llama", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", openai_body(
        "meta-llama/Llama-3.3-70B-Instruct-Turbo", openai_usage(1_000, 200)), "together", ("openai", "chat"),
         (1_000, 200, 0, 0, 0)),
)


@pytest.fixture
async def canned() -> AsyncIterator[str]:
    """A local server answering every request under ``/{case id}/`` with that case's body."""
    bodies = {case.id: msgspec.json.encode(case.body) for case in CASES}

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.match_info["case"]], content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{case}/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def provider_for(case: Case, url: str) -> ProviderConfig:
    credentials: dict[str, str] = {"api_key": "test-key"}
    if case.type == "bedrock":
        credentials = {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "secret", "region": "us-east-1"}
    return ProviderConfig(provider_type=ProviderType(case.type), name=case.id, base_url=f"{url}/{case.id}",
                          **credentials)


def reference(case: Case) -> Decimal:
    provider_id, flavour = case.extractor
    answer = {k: v for k, v in case.body.items() if k not in ("model", "modelVersion")}  # priced as case.model
    billed = extract_usage(answer, provider_id=provider_id, api_flavor=flavour).usage
    return calc_price(billed, case.model, provider_id=case.catalogue).total_price


def test_the_table_spans_the_families_and_mixes() -> None:
    assert len(CASES) >= 12
    assert {c.type for c in CASES} >= {"openai", "anthropic", "gemini", "bedrock", "mistral", "groq", "deepseek",
                                       "xai", "cohere"}
    assert any(c.tokens[2] and c.tokens[3] for c in CASES if c.type == "anthropic")  # cache read and write
    assert any(c.tokens[4] for c in CASES if c.type == "gemini")  # thinking
    assert all(c.tokens[4] for c in CASES if c.id.startswith(("openai-o", "xai-")))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_recorded_cost_equals_the_catalogue_reference(case: Case, canned: str) -> None:
    engine = Engine([provider_for(case, canned)])
    try:
        done = await engine.complete(ChatRequest(model=f"{case.id}:{case.model}",
                                                 messages=[Message(role="user", parts=[TextPart("hi")])]))
    finally:
        await engine.close()
    usage = done.response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.cache_write_tokens,
            usage.reasoning_tokens) == case.tokens
    expected = reference(case)
    assert expected > 0
    assert isinstance(done.response.cost, Decimal)
    assert done.response.cost == expected
    assert engine.spend.by_provider == {case.id: expected}


def test_tier_cases_straddle_their_thresholds() -> None:
    """The tiered cases are priced differently on either side of the threshold (so they test the tier)."""
    by_id = {c.id: c for c in CASES}
    under, over = reference(by_id["gemini-1.5-pro-under-128k"]), reference(by_id["gemini-1.5-pro-over-128k"])
    # the same 1,000 output tokens: $5/M under 128k prompt tokens, $10/M over; input $1.25/M then $2.5/M
    assert under == Decimal(127_000) * Decimal("1.25") / 1_000_000 + Decimal(1_000) * 5 / 1_000_000
    assert over == Decimal(130_000) * Decimal("2.5") / 1_000_000 + Decimal(1_000) * 10 / 1_000_000
