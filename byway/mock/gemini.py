"""Gemini (Generative Language API) and Vertex AI mocks: their routes and handlers.

Gemini, under ``/gemini`` (``genai.Client(api_key=..., http_options={"base_url": URL + "/gemini"})``):

- ``POST /gemini/v1beta/models/{m}:generateContent`` and ``:streamGenerateContent`` (``alt=sse``),
  ``:countTokens``, ``:batchEmbedContents``, ``:embedContent``;
- ``GET /gemini/v1beta/models`` (``pageSize``, ``pageToken``) and ``GET /gemini/v1beta/models/{m}``;
- the same under ``v1`` (google-genai's default) and ``v1alpha``, as Gemini serves its three versions.

The key goes in ``x-goog-api-key`` (or ``?key=``). No key is Gemini's 403 ``PERMISSION_DENIED``; a key starting
with ``bad`` is its 400 ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID`` (Gemini answers a bad key with a
400, not a 401). A model named ``no-such-…`` is a 404 ``NOT_FOUND`` in Gemini's words.

Vertex, under ``/vertex`` (``genai.Client(vertexai=True, ..., http_options={"base_url": URL + "/vertex"})``):

- ``POST /vertex/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent``,
  ``:streamGenerateContent``, ``:countTokens``, ``:predict`` (text embeddings);
- ``GET /vertex/v1beta1/publishers/google/models`` (the Model Garden list);
- ``POST /vertex/token``, the OAuth token endpoint whose tokens those routes require (``gemini_vertex``).

Replies, tool calls, JSON mode and token counts come from the shared ``brain`` (see ``gemini_wire`` and
``gemini_answer`` for the Gemini specifics), errors are Google's envelope (``gemini_errors``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from byway.mock import gemini_embeddings, gemini_vertex
from byway.mock.brain import prompt_tokens
from byway.mock.gemini_answer import answer, json_response
from byway.mock.gemini_errors import api_key_invalid
from byway.mock.gemini_wire import decode_generate, decode_json, field
from byway.mock.problem import Problem

MISSING_MODEL_PREFIX = "no-such-"
GEMINI_VERSIONS = ("v1beta", "v1", "v1alpha")
VERTEX_VERSIONS = ("v1", "v1beta1")
_TEXT_METHODS = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
_EMBED_METHODS = ("embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent")
MODELS = (  # name, display name, input limit, output limit, methods, thinks
    ("gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, _TEXT_METHODS, True),
    ("gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, _TEXT_METHODS, True),
    ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", 1048576, 65536, _TEXT_METHODS, True),
    ("gemini-2.0-flash", "Gemini 2.0 Flash", 1048576, 8192, _TEXT_METHODS, False),
    ("gemini-3-flash-preview", "Gemini 3 Flash Preview", 1048576, 65536, _TEXT_METHODS, True),
    ("gemini-embedding-001", "Gemini Embedding 001", 2048, 1, _EMBED_METHODS, False),
    ("text-embedding-004", "Text Embedding 004", 2048, 1, _EMBED_METHODS, False),
)
_PAGE = 50


# -- checks -----------------------------------------------------------------------------------------------------


def check_key(request: web.Request) -> None:
    key = (request.headers.get("x-goog-api-key") or request.query.get("key") or "").strip()
    if not key:
        raise Problem(403, "Method doesn't allow unregistered callers (callers without established identity). "
                           "Please use API Key or other form of API consumer identity to call this API.")
    if key.startswith("bad"):
        raise api_key_invalid()


def check_gemini(request: web.Request, method: str) -> str:
    """The model of a Gemini model route, once the version, key and model are good."""
    version = request.match_info["version"]
    if version not in GEMINI_VERSIONS:
        raise Problem(404, f"Invalid URL: unknown API version {version}")
    check_key(request)
    model = request.match_info.get("model", "")
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f"models/{model} is not found for API version {version}, or is not supported for "
                           f"{method}. Call ModelService.ListModels to see the list of available models and their "
                           "supported methods.")
    return model


def check_vertex(request: web.Request) -> str:
    """The model of a Vertex model route, once the version, token and model are good."""
    info = request.match_info
    if info["version"] not in VERTEX_VERSIONS:
        raise Problem(404, f"Invalid URL: unknown API version {info['version']}")
    gemini_vertex.check_bearer(request)
    model = info["model"]
    if model.startswith(MISSING_MODEL_PREFIX):
        raise Problem(404, f"Publisher Model `projects/{info['project']}/locations/{info['location']}/publishers/"
                           f"google/models/{model}` was not found or your project does not have access to it. "
                           "Please ensure you are using a valid model version. For more information, see: "
                           "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions")
    return model


# -- Gemini -----------------------------------------------------------------------------------------------------


async def generate_content(request: web.Request) -> web.StreamResponse:
    return await _gemini_generate(request, stream=False)


async def stream_generate_content(request: web.Request) -> web.StreamResponse:
    return await _gemini_generate(request, stream=True)


async def _gemini_generate(request: web.Request, *, stream: bool) -> web.StreamResponse:
    model = check_gemini(request, "streamGenerateContent" if stream else "generateContent")
    req = decode_generate(decode_json(await request.read()), model)
    return await answer(request, req, stream=stream, vertex=False)


async def count_tokens(request: web.Request) -> web.Response:
    model = check_gemini(request, "countTokens")
    return _count(decode_json(await request.read()), model, vertex=False)


def _count(body: dict, model: str, *, vertex: bool) -> web.Response:
    inner = field(body, "generateContentRequest")
    req = decode_generate(inner if isinstance(inner, dict) else body, model)
    total = prompt_tokens(req.ask)
    answer_body: dict = {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}
    if vertex:
        answer_body["totalBillableCharacters"] = sum(len(p) for t in req.ask.turns for p in t.content
                                                     if isinstance(p, str))
    return json_response(answer_body)


async def batch_embed_contents(request: web.Request) -> web.Response:
    model = check_gemini(request, "batchEmbedContents")
    return json_response(gemini_embeddings.batch_answer(decode_json(await request.read()), model))


async def embed_content(request: web.Request) -> web.Response:
    model = check_gemini(request, "embedContent")
    return json_response(gemini_embeddings.single_answer(decode_json(await request.read()), model))


def _model_entry(entry: tuple) -> dict:
    name, display, limit_in, limit_out, methods, thinks = entry
    model = {"name": f"models/{name}", "version": "001", "displayName": display, "description": display,
             "inputTokenLimit": limit_in, "outputTokenLimit": limit_out, "supportedGenerationMethods": list(methods)}
    if methods is _TEXT_METHODS:
        model.update({"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": thinks})
    return model


async def list_models(request: web.Request) -> web.Response:
    check_gemini(request, "list")
    try:
        size = min(max(int(request.query.get("pageSize", _PAGE)), 1), 1000)
        start = int(request.query.get("pageToken") or 0)
    except ValueError:
        raise Problem(400, "Invalid value for pageSize or pageToken") from None
    page = MODELS[start:start + size]
    body: dict = {"models": [_model_entry(m) for m in page]}
    if start + size < len(MODELS):
        body["nextPageToken"] = str(start + size)
    return json_response(body)


async def get_model(request: web.Request) -> web.Response:
    name = check_gemini(request, "get")
    entry = next((m for m in MODELS if m[0] == name), (name, name, 1048576, 8192, _TEXT_METHODS, False))
    return json_response(_model_entry(entry))


# -- Vertex -----------------------------------------------------------------------------------------------------


async def vertex_generate_content(request: web.Request) -> web.StreamResponse:
    model = check_vertex(request)
    req = decode_generate(decode_json(await request.read()), model)
    return await answer(request, req, stream=False, vertex=True)


async def vertex_stream_generate_content(request: web.Request) -> web.StreamResponse:
    model = check_vertex(request)
    req = decode_generate(decode_json(await request.read()), model)
    return await answer(request, req, stream=True, vertex=True)


async def vertex_count_tokens(request: web.Request) -> web.Response:
    model = check_vertex(request)
    return _count(decode_json(await request.read()), model, vertex=True)


async def vertex_predict(request: web.Request) -> web.Response:
    model = check_vertex(request)
    return json_response(gemini_embeddings.predict_answer(decode_json(await request.read()), model))


async def vertex_publisher_models(request: web.Request) -> web.Response:
    gemini_vertex.check_bearer(request)
    models = [{"name": f"publishers/google/models/{m[0]}", "versionId": "001", "openSourceCategory": "PROPRIETARY",
               "launchStage": "GA", "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/"
                                                              f"publishers/google/models/{m[0]}@001"}
              for m in MODELS]
    return json_response({"publisherModels": models})


_GEMINI = "/gemini/{version}/models"
_VERTEX = "/vertex/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", _GEMINI + "/{model}:generateContent", generate_content),
    ("POST", _GEMINI + "/{model}:streamGenerateContent", stream_generate_content),
    ("POST", _GEMINI + "/{model}:countTokens", count_tokens),
    ("POST", _GEMINI + "/{model}:batchEmbedContents", batch_embed_contents),
    ("POST", _GEMINI + "/{model}:embedContent", embed_content),
    ("GET", _GEMINI, list_models),
    ("GET", _GEMINI + "/{model}", get_model),
    ("POST", _VERTEX + ":generateContent", vertex_generate_content),
    ("POST", _VERTEX + ":streamGenerateContent", vertex_stream_generate_content),
    ("POST", _VERTEX + ":countTokens", vertex_count_tokens),
    ("POST", _VERTEX + ":predict", vertex_predict),
    ("GET", "/vertex/v1beta1/publishers/google/models", vertex_publisher_models),
    ("POST", gemini_vertex.TOKEN_PATH, gemini_vertex.token),
)
