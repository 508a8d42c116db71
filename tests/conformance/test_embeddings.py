"""``POST /v1/embeddings`` through ``byway serve`` for every provider type that has an embeddings API,
in both encodings, with the official openai SDK."""

from __future__ import annotations

import math

import pytest

from byway.core.embeddings import vector_from_base64
from tests.conformance.conftest import Clients

MODELS = {  # provider name in the conformance config -> an embeddings model of that provider
    "openai": "text-embedding-3-small",
    "azure": "text-embedding-3-small",
    "gemini": "gemini-embedding-001",
    "vertex": "text-embedding-005",
    "bedrock": "amazon.titan-embed-text-v2:0",
    "cohere": "embed-english-v3.0",
    "mistral": "mistral-embed",
    "together": "BAAI/bge-large-en-v1.5",
    "fireworks": "nomic-ai/nomic-embed-text-v1.5",
    "ollama": "nomic-embed-text",
    "vllm": "bge-small",
}


@pytest.mark.parametrize("encoding", ["float", "base64"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_two_texts_give_two_distinct_unit_vectors(clients: Clients, name: str, encoding: str) -> None:
    raw = clients.openai.embeddings.with_raw_response.create(
        model=f"{name}:{MODELS[name]}", input=["the cat sat", "on the mat"],
        encoding_format=encoding)  # type: ignore[arg-type]
    result = raw.parse()
    assert [d.index for d in result.data] == [0, 1]
    first, second = (vector_from_base64(d.embedding) if isinstance(d.embedding, str) else d.embedding
                     for d in result.data)
    assert len(first) == len(second) > 0
    assert first != second
    assert math.isclose(math.fsum(x * x for x in first), 1.0, rel_tol=1e-3)
    assert result.usage.prompt_tokens > 0
    assert raw.headers["x-byway-provider"] == name


@pytest.mark.parametrize("name", ["anthropic", "groq", "deepseek"])
def test_providers_without_embeddings_say_so(clients: Clients, name: str) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        clients.openai.embeddings.create(model=f"{name}:some-model", input="x")
    assert info.value.code == "embeddings_not_supported"
