"""OpenAI embeddings: ``POST /openai/v1/embeddings``, float lists or base64 float32 (what the SDK asks by default).

Vectors are deterministic: unit-length, seeded by the model and the input text, of the model's
size (1536; 3072 for ``*-large``) or ``dimensions``. Usage counts ``ceil(len(text)/4)`` per text
input and the length of a token-array input.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import sys
from array import array
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import openai_common, tokens
from byway.mock.openai_wire import decode_json
from byway.mock.problem import bad_request

_KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
MAX_INPUTS = 2048


def vector(model: str, text: str, dimensions: int) -> array:
    """The unit float32 vector for ``text``."""
    rng = random.Random(hashlib.sha256(f"{model}\0{text}".encode()).digest())
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return array("f", (x / norm for x in raw))


def default_dimensions(model: str) -> int:
    return 3072 if model.endswith("-large") else 1536


async def embeddings(request: web.Request) -> web.Response:
    openai_common.check_bearer(request)
    return await answer(request, deployment=None)


async def answer(request: web.Request, *, deployment: str | None) -> web.Response:
    """The embeddings answer; Azure passes its ``deployment``, which stands for the model."""
    body = decode_json(await request.read())
    if not isinstance(body, dict):
        raise bad_request("Invalid type for request body: expected an object.")
    for key in body:
        if key not in _KNOWN:
            raise bad_request(f"Unrecognized request argument supplied: {key}", code="unknown_parameter")
    model = deployment or body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("you must provide a model parameter")
    openai_common.check_model(model)
    texts, counts = _inputs(body.get("input"))
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise bad_request(f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.",
                          param="encoding_format", code="invalid_value")
    dimensions = _dimensions(body.get("dimensions"), model)
    data = []
    for index, text in enumerate(texts):
        vec = vector(model, text, dimensions)
        data.append({"object": "embedding", "index": index, "embedding": _encode(vec, fmt)})
    used = sum(counts)
    answer = {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": used, "total_tokens": used}}
    return web.Response(body=msgspec.json.encode(answer), content_type="application/json",
                        headers=openai_common.headers(request))


def _encode(vec: array, fmt: str) -> Any:
    if fmt == "float":
        return vec.tolist()
    if sys.byteorder != "little":
        vec = array("f", vec)
        vec.byteswap()
    return base64.b64encode(vec.tobytes()).decode()


def _inputs(value: Any) -> tuple[list[str], list[int]]:
    """Each input as text (token arrays joined by spaces) and its token count."""
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, list) and value and all(isinstance(t, int) for t in value):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_INPUTS:
        raise bad_request("'$.input' is invalid. Please check the API reference: "
                          "https://platform.openai.com/docs/api-reference.", param="input")
    texts, counts = [], []
    for item in value:
        if isinstance(item, str) and item:
            texts.append(item)
            counts.append(tokens.text_tokens(len(item)))
        elif isinstance(item, list) and item and all(isinstance(t, int) for t in item):
            texts.append(" ".join(map(str, item)))
            counts.append(len(item))
        else:
            raise bad_request("'$.input' is invalid. Please check the API reference: "
                              "https://platform.openai.com/docs/api-reference.", param="input")
    return texts, counts


def _dimensions(value: Any, model: str) -> int:
    if value is None:
        return default_dimensions(model)
    if model == "text-embedding-ada-002":
        raise bad_request("This model does not support specifying dimensions.", param="dimensions")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= default_dimensions(model):
        raise bad_request(f"Invalid 'dimensions': expected an integer between 1 and {default_dimensions(model)}.",
                          param="dimensions", code="invalid_value")
    return value
