"""OpenAI's ``/embeddings`` for every OpenAI-family provider: the request body and the answer.

Vectors are asked for as base64 (float32), a quarter of the bytes of JSON floats, whatever
encoding the client wants; the client codec re-encodes.
"""

from __future__ import annotations

import msgspec

from byway.core import EmbeddingRequest, EmbeddingResponse, UpstreamUnavailableError, Usage
from byway.core.embeddings import vector_from_base64


class _Item(msgspec.Struct):
    embedding: str | list[float]
    index: int = 0


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    total_tokens: int = 0


class _List(msgspec.Struct):
    data: list[_Item]
    model: str = ""
    usage: _Usage | None = None


_DECODER = msgspec.json.Decoder(_List)


def build_body(request: EmbeddingRequest) -> bytes:
    body: dict[str, object] = dict(request.extra)
    body["model"] = request.model
    body["input"] = request.inputs
    body["encoding_format"] = "base64"
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user is not None:
        body["user"] = request.user
    return msgspec.json.encode(body)


def parse_embeddings(provider: str, request: EmbeddingRequest, body: bytes) -> EmbeddingResponse:
    try:
        listing = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable embeddings answer ({exc})", provider=provider,
                                       upstream_status=200) from exc
    items = sorted(listing.data, key=lambda item: item.index)
    if len(items) != len(request.inputs):
        raise UpstreamUnavailableError(f"{provider}: {len(items)} embeddings for {len(request.inputs)} inputs",
                                       provider=provider, upstream_status=200)
    vectors = [vector_from_base64(i.embedding) if isinstance(i.embedding, str) else i.embedding for i in items]
    tokens = listing.usage.prompt_tokens if listing.usage else 0
    return EmbeddingResponse(vectors=vectors, usage=Usage(input_tokens=tokens), model=listing.model or request.model,
                             estimated=listing.usage is None)
