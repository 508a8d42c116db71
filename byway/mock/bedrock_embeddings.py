"""Bedrock embeddings: ``POST /bedrock/model/{id}/invoke`` for Amazon Titan and Cohere Embed.

- Titan text v2 (``amazon.titan-embed-text-v2:0``): ``inputText`` (one text per call), ``dimensions`` 256,
  512 or 1024 (default 1024), ``normalize``; the answer is ``{"embedding", "embeddingsByType",
  "inputTextTokenCount"}``. Titan text v1 takes ``inputText`` only (1536 dimensions); the image model's text
  side takes ``embeddingConfig.outputEmbeddingLength``.
- Cohere Embed (``cohere.embed-english-v3``, ``-multilingual-v3``, ``cohere.embed-v4:0``): up to 96 ``texts``,
  a required ``input_type``; with ``embedding_types`` (always for v4) the answer is
  ``{"embeddings": {"float": [...]}, "response_type": "embeddings_by_type"}``, else a plain list
  (``embeddings_floats``). v3 vectors have 1024 dimensions, v4 1536 or ``output_dimension``.

Vectors are the OpenAI mock's: deterministic, unit length, seeded by model and text. Tokens follow ``tokens``
and are also sent in the ``X-Amzn-Bedrock-Input-Token-Count`` header, as Bedrock does.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import tokens
from byway.mock.bedrock_errors import problem
from byway.mock.bedrock_http import bare, check_auth, check_model, json_answer
from byway.mock.bedrock_wire import invalid
from byway.mock.openai_embeddings import vector

# family -> (default size, sizes it takes, the body keys it knows)
_TITAN: dict[str, tuple[int, tuple[int, ...], frozenset[str]]] = {
    "amazon.titan-embed-text-v2": (1024, (256, 512, 1024),
                                   frozenset({"inputText", "dimensions", "normalize", "embeddingTypes"})),
    "amazon.titan-embed-text-v1": (1536, (), frozenset({"inputText"})),
    "amazon.titan-embed-image-v1": (1024, (256, 384, 1024), frozenset({"inputText", "inputImage", "embeddingConfig"})),
}
_COHERE_TYPES = ("search_document", "search_query", "classification", "clustering")
COHERE_MAX_TEXTS = 96


async def invoke(request: web.Request) -> web.Response:
    check_auth(request)
    model = request.match_info["model"]
    check_model(model)
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise problem(400, "ValidationException", "Malformed input request, please reformat your input and try "
                                                  "again.") from None
    if not isinstance(body, dict):
        raise invalid("Malformed input request: #: expected type: JSONObject, please reformat your input and try "
                      "again.")
    bare_id = bare(model)
    family = next((name for name in _TITAN if bare_id.startswith(name)), None)
    if family is not None:
        return _titan(request, model, family, body)
    if bare_id.startswith("cohere.embed"):
        return _cohere(request, model, bare_id, body)
    raise invalid(f"The mock invokes only embedding models (Titan, Cohere Embed), not {model}.")


def _titan(request: web.Request, model: str, family: str, body: dict[str, Any]) -> web.Response:
    default, allowed, known = _TITAN[family]
    for key in body:
        if key not in known:
            raise invalid(f"Malformed input request: extraneous key [{key}] is not permitted, please reformat your "
                          "input and try again.")
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        raise invalid("Malformed input request: #: required key [inputText] not found, please reformat your input "
                      "and try again.")
    config = body.get("embeddingConfig")
    dims = body.get("dimensions", config.get("outputEmbeddingLength") if isinstance(config, dict) else None)
    if dims is None:
        dims = default
    elif dims not in allowed:
        raise invalid(f"Malformed input request: #/dimensions: {dims} is not a valid enum value, please reformat "
                      "your input and try again.")
    count = tokens.text_tokens(len(text))
    values = vector(model, text, dims).tolist()
    answer = {"embedding": values, "embeddingsByType": {"float": values}, "inputTextTokenCount": count}
    return json_answer(request, answer, {"X-Amzn-Bedrock-Input-Token-Count": str(count)})


def _cohere(request: web.Request, model: str, base: str, body: dict[str, Any]) -> web.Response:
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise invalid("Malformed input request: #/texts: expected a list of strings, please reformat your input "
                      "and try again.")
    if len(texts) > COHERE_MAX_TEXTS:
        raise invalid(f"Malformed input request: #/texts: expected maximum item count: {COHERE_MAX_TEXTS}, found: "
                      f"{len(texts)}, please reformat your input and try again.")
    if body.get("input_type") not in _COHERE_TYPES:
        raise invalid("Malformed input request: #: required key [input_type] not found, please reformat your "
                      "input and try again.")
    v4 = base.startswith("cohere.embed-v4")
    dims = body.get("output_dimension", 1536 if v4 else 1024)
    if "output_dimension" in body and (not v4 or dims not in (256, 512, 1024, 1536)):
        raise invalid("Malformed input request: #/output_dimension is not valid for this model, please reformat "
                      "your input and try again.")
    vectors = [vector(model, text, dims).tolist() for text in texts]
    answer: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, model + "\0".join(texts))), "texts": texts}
    if body.get("embedding_types") or v4:
        answer.update(embeddings={"float": vectors}, response_type="embeddings_by_type")
    else:
        answer.update(embeddings=vectors, response_type="embeddings_floats")
    count = sum(tokens.text_tokens(len(t)) for t in texts)
    return json_answer(request, answer, {"X-Amzn-Bedrock-Input-Token-Count": str(count)})
