"""Embeddings on Bedrock: ``POST /model/{id}/invoke`` bodies for the embedding model families, and their answers.

- Amazon Titan text embeddings (``amazon.titan-embed-text-v1``, ``-v2:0``; the image model's text side,
  ``amazon.titan-embed-image-v1``) take one ``inputText`` per call, so each input is its own call; v2 takes
  ``dimensions`` (256, 512, 1024), the image model ``embeddingConfig.outputEmbeddingLength``, v1 neither.
  The answer is ``{"embedding": [...], "inputTextTokenCount": n}``.
- Cohere Embed (``cohere.embed-english-v3``, ``-multilingual-v3``, ``cohere.embed-v4:0``) takes up to 96
  ``texts`` per call and requires ``input_type`` (default ``search_document``); ``embedding_types`` is
  always ``["float"]``, so the answer is ``{"embeddings": {"float": [[...]]}}`` (the older
  ``{"embeddings": [[...]]}`` is read too). v4 takes ``output_dimension``. Cohere's answer on Bedrock
  counts no tokens: usage is then estimated (a token per four characters) and marked ``estimated``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    EmbeddingRequest,
    EmbeddingResponse,
    InvalidRequestError,
    UpstreamUnavailableError,
    Usage,
)
from byway.core.usage import estimate_tokens
from byway.providers.bedrock_request import base_model

COHERE_BATCH = 96


class _Titan(msgspec.Struct):
    embedding: list[float] | None = None
    embeddingsByType: dict[str, list[float]] | None = None
    inputTextTokenCount: int = 0


class _BilledUnits(msgspec.Struct):
    input_tokens: int = 0


class _Meta(msgspec.Struct):
    billed_units: _BilledUnits | None = None


class _Cohere(msgspec.Struct):
    embeddings: dict[str, list[list[float]]] | list[list[float]] = msgspec.field(default_factory=list)
    meta: _Meta | None = None


_TITAN = msgspec.json.Decoder(_Titan)
_COHERE = msgspec.json.Decoder(_Cohere)


def _family(model: str) -> str:
    base = base_model(model)
    if base.startswith("amazon.titan-embed"):
        return "titan"
    if base.startswith("cohere.embed"):
        return "cohere"
    raise InvalidRequestError(f"{model!r} is not an embedding model Byway speaks to on Bedrock "
                              "(Amazon Titan or Cohere Embed)", param="model", code="embeddings_not_supported")


def embedding_bodies(request: EmbeddingRequest) -> list[bytes]:
    """The JSON bodies of the ``invoke`` calls that embed ``request.inputs``, in input order."""
    if not request.inputs:
        raise InvalidRequestError("input must hold at least one text", param="input")
    if _family(request.model) == "titan":
        return [msgspec.json.encode(_titan_body(request, text)) for text in request.inputs]
    return [msgspec.json.encode(_cohere_body(request, request.inputs[at:at + COHERE_BATCH]))
            for at in range(0, len(request.inputs), COHERE_BATCH)]


def _titan_body(request: EmbeddingRequest, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"inputText": text}
    if request.dimensions is not None:
        base = base_model(request.model)
        if base.startswith("amazon.titan-embed-text-v1"):
            raise InvalidRequestError(f"{request.model} does not take dimensions", param="dimensions")
        if base.startswith("amazon.titan-embed-image"):
            body["embeddingConfig"] = {"outputEmbeddingLength": request.dimensions}
        else:
            body["dimensions"] = request.dimensions
    return body


def _cohere_body(request: EmbeddingRequest, texts: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"texts": texts, "input_type": request.input_type or "search_document",
                            "embedding_types": ["float"]}
    if request.dimensions is not None:
        if not base_model(request.model).startswith("cohere.embed-v4"):
            raise InvalidRequestError(f"{request.model} does not take dimensions", param="dimensions")
        body["output_dimension"] = request.dimensions
    return body


def parse_embedding_bodies(provider: str, request: EmbeddingRequest, bodies: list[bytes]) -> EmbeddingResponse:
    """The answers to ``embedding_bodies``' calls, in the same order, as one response."""
    try:
        if _family(request.model) == "titan":
            return _parse_titan(provider, request, bodies)
        return _parse_cohere(provider, request, bodies)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable embeddings answer ({exc})", provider=provider,
                                       upstream_status=200) from exc


def _parse_titan(provider: str, request: EmbeddingRequest, bodies: list[bytes]) -> EmbeddingResponse:
    vectors: list[list[float]] = []
    tokens = 0
    for body in bodies:
        answer = _TITAN.decode(body)
        vector = answer.embedding
        if vector is None and answer.embeddingsByType:
            vector = answer.embeddingsByType.get("float")
        if vector is None:
            raise UpstreamUnavailableError(f"{provider}: embeddings answer without an embedding",
                                           provider=provider, upstream_status=200)
        vectors.append(vector)
        tokens += answer.inputTextTokenCount
    return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=tokens), model=request.model,
                             provider=provider)


def _parse_cohere(provider: str, request: EmbeddingRequest, bodies: list[bytes]) -> EmbeddingResponse:
    vectors: list[list[float]] = []
    billed = 0
    counted = True
    for body in bodies:
        answer = _COHERE.decode(body)
        batch = answer.embeddings.get("float", []) if isinstance(answer.embeddings, dict) else answer.embeddings
        vectors.extend(batch)
        units = answer.meta.billed_units if answer.meta is not None else None
        if units is None:
            counted = False
        else:
            billed += units.input_tokens
    if len(vectors) != len(request.inputs):
        raise UpstreamUnavailableError(f"{provider}: {len(vectors)} embeddings for {len(request.inputs)} inputs",
                                       provider=provider, upstream_status=200)
    if counted:
        return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=billed), model=request.model,
                                 provider=provider)
    estimate = sum(estimate_tokens(text) for text in request.inputs)
    return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=estimate), model=request.model,
                             provider=provider, estimated=True)
