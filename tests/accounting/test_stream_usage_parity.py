"""Streamed equals non-streamed: the same exchange, asked for whole and as a stream, records the same tokens and
the same cost, for every provider family, against the mock providers through the engine.

A stream is metered from its ``UsageReport`` events (what ``Accumulator`` gathers); a family whose stream
reported less than its whole answer would be billed less streamed. Each exchange is run with
``Engine.complete`` and with ``Engine.events``; OpenAI-style families also as the server passes a stream on to
an OpenAI client (``open_stream`` with ``passthrough``, decoding only what metering needs).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest

from byway.core import Accumulator, ChatRequest, Message, TextPart, Tool, Usage
from byway.engine import Engine
from byway.mock import MockServer, running
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType
from byway.providers.openai_stream import OpenAIStreamDecoder
from tests.vectors import cassette

WEATHER = Tool(name="get_weather", description="The weather in a city",
               parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
# ~1.5k prompt tokens by the mock's count (a token per 4 characters): over its 1024-token cache block, so the
# families that report prompt caching report a cached prefix, and the echoed answer is long.
LONG_TEXT = " ".join(f"Paragraph {i}: the quick brown fox jumps over the lazy dog near the river bank."
                     for i in range(70))
LOCAL_PRICE = {"llama3.1:8b": ModelPrice(input=Decimal("0.11"), output=Decimal("0.33"))}


class Family(NamedTuple):
    label: str
    type: str
    model: str
    path: str  # the mock's path prefix for the family
    settings: dict[str, Any] = {}  # more ProviderConfig fields
    cache_extra: dict[str, Any] | None = None  # extra request fields that turn the provider's prompt cache on
    extra_family: str | None = None
    reasoning_effort: str | None = None
    caches: bool = False  # the long exchange reports cached prompt tokens
    reasons: bool = False  # the answers report reasoning tokens
    priced: bool = True  # the model has a price (catalogue, config, or the provider's own figure)


FAMILIES: tuple[Family, ...] = (
    Family("openai", "openai", "gpt-4o-mini", "/openai/v1", caches=True),
    Family("openai-reasoning", "openai", "o4-mini", "/openai/v1", caches=True, reasons=True),
    Family("azure", "azure", "gpt-4o-mini", "/azure", {"api_version": "2024-10-21"}, caches=True),
    Family("anthropic", "anthropic", "claude-3-5-haiku-latest", "/anthropic",
           cache_extra={"cache_control": {"type": "ephemeral"}}, extra_family="anthropic", caches=True),
    Family("anthropic-thinking", "anthropic", "claude-sonnet-4-20250514", "/anthropic",
           cache_extra={"cache_control": {"type": "ephemeral"}}, extra_family="anthropic", reasoning_effort="low",
           caches=True),
    Family("gemini", "gemini", "gemini-2.0-flash", "/gemini", caches=True),
    Family("gemini-thinking", "gemini", "gemini-2.5-flash", "/gemini", caches=True, reasons=True),
    Family("vertex", "vertex", "gemini-2.5-flash", "/vertex", caches=True, reasons=True),
    Family("bedrock", "bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", "/bedrock",
           {"aws_access_key_id": "AKIAMOCKEXAMPLE", "aws_secret_access_key": "mock-secret", "region": "us-east-1"},
           cache_extra={"requestMetadata": {"marker": "cachePoint"}}, caches=True),
    Family("cohere", "cohere", "command-r-plus", "/cohere"),
    Family("cohere-reasoning", "cohere", "command-a-reasoning-08-2025", "/cohere", priced=False),
    Family("ollama", "ollama", "llama3.1:8b", "/ollama", {"prices": LOCAL_PRICE}),
    Family("ollama-openai", "ollama", "llama3.1:8b", "/ollama", {"api": "openai", "prices": LOCAL_PRICE}),
    Family("mistral", "mistral", "mistral-small-latest", "/mistral/v1", caches=True),
    Family("groq", "groq", "llama-3.3-70b-versatile", "/groq/v1", caches=True),
    Family("together", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "/together/v1", caches=True),
    Family("xai", "xai", "grok-3-mini", "/xai/v1", caches=True),
    Family("openrouter", "openrouter", "openai/gpt-4o-mini", "/openrouter/v1", caches=True),
    Family("deepseek", "deepseek", "deepseek-chat", "/deepseek/v1", caches=True),
    Family("fireworks", "fireworks", "accounts/fireworks/models/llama-v3p1-8b-instruct", "/fireworks/v1",
           caches=True),
    Family("huggingface", "huggingface", "meta-llama/Llama-3.3-70B-Instruct", "/huggingface/v1",
           {"prices": {"meta-llama/Llama-3.3-70B-Instruct": ModelPrice(input=Decimal("0.6"), output=Decimal("0.6"))}},
           caches=True),
)
EXCHANGES = ("text", "tool_call", "long")
# The OpenAI-style families, and whether our request must carry stream_options.include_usage: the others
# (Mistral refuses the field, Groq does not accept it) report usage in the last chunk unasked.
OPENAI_STYLE = {"openai": True, "openai-reasoning": True, "azure": True, "ollama-openai": True, "together": True,
                "xai": True, "openrouter": True, "deepseek": True, "fireworks": True, "huggingface": True,
                "mistral": False, "groq": False}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def service_account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path_factory.mktemp("vertex") / "service-account.json"
    path.write_bytes(msgspec.json.encode({
        "type": "service_account", "project_id": "byway-test", "private_key_id": "mock-key-1", "private_key": pem,
        "client_email": "gateway@byway-test.iam.gserviceaccount.com", "client_id": "1234567890",
        "token_uri": "http://placeholder.invalid/token"}))
    return path


def provider_for(family: Family, mock: MockServer, service_account: Path) -> ProviderConfig:
    settings = dict(family.settings)
    if family.type == "vertex":
        account = msgspec.json.decode(service_account.read_bytes())
        account["token_uri"] = mock.url + "/vertex/token"
        settings.update(project="byway-test", location="us-central1",
                        credentials_json=msgspec.json.encode(account).decode())
    elif family.type not in ("bedrock", "ollama"):
        settings["api_key"] = f"{family.type}-mock-key"
    return ProviderConfig(provider_type=ProviderType(family.type), name=family.label, base_url=mock.url + family.path,
                          **settings)


def request_for(family: Family, exchange: str, *, stream: bool) -> ChatRequest:
    text = {"text": "Hello there, how are you today?", "tool_call": "What is the weather in Bergen?",
            "long": LONG_TEXT}[exchange]
    extra = family.cache_extra if exchange == "long" else None
    return ChatRequest(
        model=f"{family.label}:{family.model}", messages=[Message(role="user", parts=[TextPart(text)])],
        tools=[WEATHER] if exchange == "tool_call" else None, max_tokens=4000, stream=stream,
        reasoning_effort=family.reasoning_effort, extra=extra, extra_family=family.extra_family if extra else None)


class Tally(NamedTuple):
    spent: Decimal
    unpriced: int


def tally(engine: Engine) -> Tally:
    return Tally(engine.spend.total, engine.spend.unpriced)


def recorded_cost(before: Tally, after: Tally) -> Decimal | None:
    """What the engine recorded for the one call between two tallies."""
    if after.unpriced != before.unpriced:
        assert after.unpriced == before.unpriced + 1 and after.spent == before.spent
        return None
    return after.spent - before.spent


async def run_both(family: Family, exchange: str, mock: MockServer,
                   service_account: Path) -> tuple[Usage, Decimal | None, Usage, Decimal | None]:
    engine = Engine([provider_for(family, mock, service_account)])
    try:
        mock.reset()
        before = tally(engine)
        done = await engine.complete(request_for(family, exchange, stream=False))
        whole_cost = recorded_cost(before, tally(engine))
        assert done.response.cost == whole_cost
        mock.reset()
        accumulated = Accumulator()
        before = tally(engine)
        async for event in engine.events(request_for(family, exchange, stream=True)):
            accumulated.add(event)
        streamed_cost = recorded_cost(before, tally(engine))
        if exchange == "tool_call":
            assert [p.name for p in accumulated.response().parts if hasattr(p, "name")] == ["get_weather"]
        return done.response.usage, whole_cost, accumulated.usage, streamed_cost
    finally:
        await engine.close()


@pytest.mark.parametrize("exchange", EXCHANGES)
@pytest.mark.parametrize("family", FAMILIES, ids=[f.label for f in FAMILIES])
async def test_streamed_usage_and_cost_equal_the_whole_answers(family: Family, exchange: str, mock: MockServer,
                                                               service_account: Path) -> None:
    whole, whole_cost, streamed, streamed_cost = await run_both(family, exchange, mock, service_account)
    assert streamed == whole  # every field: input, output, cached, cache write, reasoning, provider cost
    assert streamed_cost == whole_cost
    assert whole.input_tokens > 0 and whole.output_tokens > 0
    if family.priced:
        assert isinstance(whole_cost, Decimal) and whole_cost > 0
    else:
        assert whole_cost is None
    if exchange == "long":
        assert whole.output_tokens > 300  # the long prompt is echoed back
        if family.caches:
            assert 0 < whole.cached_tokens < whole.input_tokens
    else:
        assert whole.cached_tokens == 0
    if family.reasons:
        assert 0 < whole.reasoning_tokens < whole.output_tokens
    if family.type in ("anthropic", "bedrock") and exchange == "long":
        assert whole.cache_write_tokens > 0  # Anthropic and Bedrock Claude report cache writes apart


@pytest.mark.parametrize("label", sorted(OPENAI_STYLE))
async def test_openai_style_streams_ask_for_usage_where_the_api_takes_it(label: str, mock: MockServer,
                                                                         service_account: Path) -> None:
    """Our request carries ``stream_options.include_usage`` (OpenAI only reports a stream's usage when asked),
    even when the client did not ask for usage itself; the two vendors that refuse the field get none and
    report usage unasked."""
    family = next(f for f in FAMILIES if f.label == label)
    engine = Engine([provider_for(family, mock, service_account)])
    try:
        mock.reset()
        request = request_for(family, "text", stream=True)
        assert request.include_usage is False
        accumulated = Accumulator()
        async for event in engine.events(request):
            accumulated.add(event)
    finally:
        await engine.close()
    bodies = [r["body"] for r in mock.requests() if r["path"].endswith("/chat/completions")]
    assert len(bodies) == 1 and bodies[0]["stream"] is True
    if OPENAI_STYLE[label]:
        assert bodies[0]["stream_options"] == {"include_usage": True}
    else:
        assert "stream_options" not in bodies[0]
    assert accumulated.usage.input_tokens > 0 and accumulated.usage.output_tokens > 0


@pytest.mark.parametrize("exchange", EXCHANGES)
@pytest.mark.parametrize("label", sorted(OPENAI_STYLE))
async def test_a_stream_passed_through_undecoded_is_metered_like_the_whole_answer(
        label: str, exchange: str, mock: MockServer, service_account: Path) -> None:
    """The server passes an OpenAI-style stream on to an OpenAI client as it came, decoding only the frames the
    gateway needs (``lean``): the usage chunk among them. Its metering equals the whole answer's."""
    family = next(f for f in FAMILIES if f.label == label)
    engine = Engine([provider_for(family, mock, service_account)])
    try:
        done = await engine.complete(request_for(family, exchange, stream=False))
        stream = await engine.open_stream(request_for(family, exchange, stream=True), passthrough="openai")
        accumulated, frames, decoded = Accumulator(), 0, 0
        try:
            async for batch in stream.batches():
                for frame in batch:
                    frames += frame.count  # a frame passed on undecoded may hold a run of the provider's events
                    decoded += bool(frame.events)
                    for event in frame.events:
                        accumulated.add(event)
        finally:
            stream.close()
        metered = engine.finish_stream(stream, accumulated, frames)
    finally:
        await engine.close()
    # passed on undecoded: only the opening frame and the frame with the usage were read, although with
    # include_usage every frame says "usage": null
    assert decoded == 2 and frames > 4
    assert metered.estimated is False
    assert metered.usage == done.response.usage
    assert metered.cost == done.response.cost


RECORDED_STREAMS = (("test_openai", "test_run_stream_sync_streams_real_model"),
                    ("test_openai", "test_openai_moderation_stream"),
                    ("test_deepseek", "test_deepseek_model_thinking_stream"))


def _decode(raw: bytes, *, lean: bool) -> tuple[Usage, int]:
    decoder = OpenAIStreamDecoder("recorded")
    decoder.lean = lean
    frames = decoder.feed(raw) + decoder.close()
    accumulated = Accumulator()
    for frame in frames:
        for event in frame.events:
            accumulated.add(event)
    return accumulated.usage, sum(1 for f in frames if f.events)


@pytest.mark.parametrize(("folder", "name"), RECORDED_STREAMS)
def test_recorded_streams_with_null_usage_chunks_are_metered_in_lean_mode(folder: str, name: str) -> None:
    """Real streams asked with include_usage say ``"usage":null`` in every chunk and carry the usage object once
    at the end: decoding only that chunk gives the same usage as decoding them all, and the recorded figures."""
    streams = [i for i in cassette(folder, name).interactions if i.response.is_stream]
    assert streams
    for interaction in streams:
        assert interaction.request.body["stream_options"] == {"include_usage": True}
        raw = interaction.response.body_bytes()
        assert raw.count(b'"usage":null') >= 4 and raw.count(b'"usage":{') == 1
        full, decoded_full = _decode(raw, lean=False)
        lean, decoded_lean = _decode(raw, lean=True)
        assert lean == full
        assert decoded_lean == 2 < decoded_full
        chunks = [msgspec.json.decode(line[5:]) for line in raw.splitlines()
                  if line.startswith(b"data:") and line[5:].strip() != b"[DONE]"]
        (recorded,) = [c["usage"] for c in chunks if c.get("usage")]
        assert (full.input_tokens, full.output_tokens) == (recorded["prompt_tokens"], recorded["completion_tokens"])
        assert full.cached_tokens == (recorded.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
