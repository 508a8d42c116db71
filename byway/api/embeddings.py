"""The client-facing OpenAI embeddings codec: ``POST /v1/embeddings`` request and response.

``input`` may be a string or a list of strings. Token-id arrays are refused with a clear
400: they only mean something to the tokenizer of one OpenAI model, and Byway routes to
many providers. ``input_type`` (search_document, search_query, classification,
clustering) is accepted as an extension for providers that want it (Cohere, Gemini).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from byway.api._openai_invalid import invalid_from_validation, malformed_json
from byway.core import EmbeddingRequest, EmbeddingResponse, InvalidRequestError
from byway.core.embeddings import InputType, vector_to_base64

MAX_INPUTS = 2048  # OpenAI's own limit per request


class _Request(msgspec.Struct, forbid_unknown_fields=False):
    model: str
    input: str | list[str | int | list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None
    input_type: InputType | None = None


_DECODER = msgspec.json.Decoder(_Request)
_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANY = msgspec.json.Decoder()
_KNOWN = frozenset(_Request.__struct_fields__)


class DecodedEmbeddings(msgspec.Struct):
    request: EmbeddingRequest
    encoding_format: Literal["float", "base64"]


def decode_request(body: bytes) -> DecodedEmbeddings:
    try:
        wire = _DECODER.decode(body)
        fields = _FIELDS.decode(body)
    except msgspec.ValidationError as exc:
        raise invalid_from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise malformed_json(exc) from None
    except UnicodeDecodeError:
        raise InvalidRequestError("The JSON body is not valid UTF-8.", param=None) from None
    inputs = [wire.input] if isinstance(wire.input, str) else wire.input
    if not inputs:
        raise InvalidRequestError("'input' must not be empty.", param="input")
    if len(inputs) > MAX_INPUTS:
        raise InvalidRequestError(f"'input' holds {len(inputs)} items; at most {MAX_INPUTS} are allowed.",
                                  param="input")
    texts: list[str] = []
    for i, item in enumerate(inputs):
        if not isinstance(item, str):
            # a flat list of ints is one input given as token ids; a list of lists is several
            where = "input" if isinstance(item, int) else f"input[{i}]"
            raise InvalidRequestError("'input' as token ids is not supported: send the text itself, so that any "
                                      "provider can embed it.", param=where)
        if not item:
            raise InvalidRequestError(f"'input[{i}]' is an empty string.", param=f"input[{i}]")
        texts.append(item)
    if not wire.model:
        raise InvalidRequestError("'model' must not be empty.", param="model")
    if wire.dimensions is not None and wire.dimensions < 1:
        raise InvalidRequestError("'dimensions' must be at least 1.", param="dimensions")
    extra: dict[str, Any] = {k: _ANY.decode(v) for k, v in fields.items() if k not in _KNOWN}
    request = EmbeddingRequest(model=wire.model, inputs=texts, dimensions=wire.dimensions,
                               input_type=wire.input_type, user=wire.user, extra=extra)
    return DecodedEmbeddings(request, wire.encoding_format)


def encode_response(response: EmbeddingResponse, encoding_format: str) -> bytes:
    """The ``{"object": "list", ...}`` body, vectors as JSON floats or base64 float32."""
    base64 = encoding_format == "base64"
    data = [{"object": "embedding", "index": i, "embedding": vector_to_base64(v) if base64 else v}
            for i, v in enumerate(response.vectors)]
    tokens = response.usage.input_tokens
    return msgspec.json.encode({"object": "list", "data": data, "model": response.model,
                                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
