"""The canonical embeddings request and response."""

from __future__ import annotations

import base64
import sys
from array import array
from decimal import Decimal
from typing import Any, Literal

import msgspec

from byway.core.usage import Usage

# What the text is for; providers that ask (Cohere, Gemini, Bedrock Titan/Cohere) get it,
# the others ignore it. ``None`` lets each adapter use its provider's general-purpose default.
InputType = Literal["search_document", "search_query", "classification", "clustering"]


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    """Texts to embed with ``model`` (the provider's own model name once routed).

    ``dimensions`` asks for shorter vectors where the model supports it. ``extra``
    holds fields the client sent that have no canonical place; adapters of the
    client's own wire family pass them on.
    """

    model: str
    inputs: list[str]
    dimensions: int | None = None
    input_type: InputType | None = None
    user: str | None = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class EmbeddingResponse(msgspec.Struct, kw_only=True):
    """One vector per input, in input order. ``usage.input_tokens`` is what the provider billed
    (or an estimate when it says nothing; ``estimated`` tells which)."""

    vectors: list[list[float]]
    usage: Usage = msgspec.field(default_factory=Usage)
    model: str = ""
    provider: str = ""
    estimated: bool = False
    cost: Decimal | None = None  # USD, set by the engine from the price catalogue


def vector_to_base64(vector: list[float]) -> str:
    """OpenAI's ``encoding_format: base64``: the vector as little-endian float32, base64-encoded."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def vector_from_base64(text: str) -> list[float]:
    packed = array("f")
    packed.frombytes(base64.b64decode(text))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tolist()
