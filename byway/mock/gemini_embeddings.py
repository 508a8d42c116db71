"""Embeddings for the Gemini and Vertex mocks.

- Gemini ``:batchEmbedContents``: ``{"requests": [{"model": "models/m", "content": {"parts": [{"text"}]},
  "taskType", "outputDimensionality"}]}`` (at most 100, each naming the URL's model) answers
  ``{"embeddings": [{"values": [...]}]}``; ``:embedContent`` takes one ``content`` and answers ``{"embedding"}``.
  Gemini reports no token usage for these.
- Vertex ``:predict``: ``{"instances": [{"content", "task_type"}], "parameters": {"outputDimensionality"}}``
  answers ``{"predictions": [{"embeddings": {"values", "statistics": {"token_count", "truncated"}}}],
  "metadata": {"billableCharacterCount"}}``; ``gemini-embedding-*`` models take one instance per request.

Vectors are the shared deterministic unit vectors (seeded by model and text), 3072 long for
``gemini-embedding-*`` and 768 for the others, or ``outputDimensionality``.
"""

from __future__ import annotations

from typing import Any

from byway.mock import tokens
from byway.mock.gemini_wire import check_fields, field
from byway.mock.openai_embeddings import vector
from byway.mock.problem import bad_request

MAX_BATCH = 100
MAX_INSTANCES = 250
TASK_TYPES = frozenset({"TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
                        "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION",
                        "CODE_RETRIEVAL_QUERY"})
_KNOWN_EMBED = frozenset({"model", "content", "taskType", "title", "outputDimensionality", "embedContentConfig"})


def default_dimensions(model: str) -> int:
    return 3072 if model.startswith("gemini-embedding") else 768


def _dimensions(value: Any, model: str, where: str) -> int:
    if value is None:
        return default_dimensions(model)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= default_dimensions(model):
        raise bad_request(f"* {where}.output_dimensionality: must be between 1 and {default_dimensions(model)}.")
    return value


def _task(value: Any, where: str) -> None:
    if value is not None and value not in TASK_TYPES:
        raise bad_request(f"Invalid value at '{where}.task_type' "
                          f"(type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), \"{value}\"")


def _text(content: Any, where: str) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        raise bad_request(f"* {where}.content.parts: contents.parts must not be empty.")
    return " ".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _one(request: Any, model: str, where: str) -> list[float]:
    if not isinstance(request, dict):
        raise bad_request(f"Invalid value at '{where}', expected an EmbedContentRequest")
    check_fields(request, _KNOWN_EMBED, where)
    named = request.get("model")
    if named is not None and named != f"models/{model}":
        raise bad_request(f"* {where}.model: the model {named!r} differs from the model in the URL, models/{model}")
    _task(field(request, "taskType"), where)
    dimensions = _dimensions(field(request, "outputDimensionality"), model, where)
    return vector(model, _text(request.get("content"), where), dimensions).tolist()


def batch_answer(body: dict[str, Any], model: str) -> dict[str, Any]:
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("* BatchEmbedContentsRequest.requests: requests must not be empty.")
    if len(requests) > MAX_BATCH:
        raise bad_request(f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one batch.")
    return {"embeddings": [{"values": _one(r, model, f"BatchEmbedContentsRequest.requests[{n}]")}
                           for n, r in enumerate(requests)]}


def single_answer(body: dict[str, Any], model: str) -> dict[str, Any]:
    return {"embedding": {"values": _one(body, model, "EmbedContentRequest")}}


def predict_answer(body: dict[str, Any], model: str) -> dict[str, Any]:
    if "embedding" not in model:
        raise bad_request(f"mock: {model} does not answer :predict; only text embedding models do")
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        raise bad_request("instances must be a non-empty list.")
    limit = 1 if model.startswith("gemini-embedding") else MAX_INSTANCES
    if len(instances) > limit:
        raise bad_request(f"Unable to submit request because the model {model} supports at most {limit} "
                          f"instance{'s' if limit > 1 else ''} per request.")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    dimensions = _dimensions(field(parameters, "outputDimensionality"), model, "parameters")
    predictions, characters = [], 0
    for n, instance in enumerate(instances):
        text = instance.get("content") if isinstance(instance, dict) else None
        if not isinstance(text, str):
            raise bad_request(f"instances[{n}].content must be a string.")
        _task(field(instance, "taskType"), f"instances[{n}]")
        characters += len(text)
        predictions.append({"embeddings": {
            "values": vector(model, text, dimensions).tolist(),
            "statistics": {"token_count": tokens.text_tokens(len(text)), "truncated": False}}})
    return {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}
