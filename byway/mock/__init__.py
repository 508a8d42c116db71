"""Mock LLM providers: faithful, deterministic imitations of the provider APIs, for tests and demos.

One aiohttp server answers every family by path prefix, so a provider's ``base_url`` points at
``http://HOST:PORT/<family>/...``:

==================================================================  ==============================
path                                                                imitates
==================================================================  ==============================
``POST /openai/v1/chat/completions``                                OpenAI Chat Completions (JSON, SSE)
``POST /openai/v1/embeddings``                                      OpenAI embeddings (float, base64)
``GET  /openai/v1/models``, ``/openai/v1/models/{model}``           OpenAI model list
``POST /azure/openai/deployments/{d}/chat/completions?api-version=``  Azure OpenAI (``api-key`` header)
``POST /azure/openai/deployments/{d}/embeddings?api-version=``      Azure OpenAI embeddings
``POST /anthropic/v1/messages``                                     Anthropic Messages (JSON, SSE)
``POST /anthropic/v1/messages/count_tokens``                        Anthropic token counting
``GET  /anthropic/v1/models``, ``/anthropic/v1/models/{model}``     Anthropic model list
``POST /gemini/{v1beta,v1,v1alpha}/models/{m}:generateContent``     Gemini (also ``:streamGenerateContent``
                                                                    ``?alt=sse``, ``:countTokens``,
                                                                    ``:embedContent``, ``:batchEmbedContents``)
``GET  /gemini/v1beta/models``                                      Gemini model list
``POST /vertex/v1/projects/{p}/locations/{l}/publishers/google/``   Vertex AI (the Gemini payloads, a Bearer
``models/{m}:generateContent|streamGenerateContent|predict``         token from ``POST /vertex/token``)
``POST /vertex/token``                                              OAuth token endpoint (JWT bearer grant)
``POST /bedrock/model/{id}/converse``, ``/converse-stream``         Bedrock Converse (JSON, binary event
                                                                    stream); SigV4 checked for shape
``POST /bedrock/model/{id}/invoke``                                 Bedrock embeddings (Titan, Cohere)
``GET  /bedrock/foundation-models``                                 Bedrock model list
``POST /cohere/v2/chat``, ``/cohere/v2/embed``                      Cohere v2 (JSON, SSE with event types)
``GET  /cohere/v1/models``                                          Cohere model list
``POST /ollama/api/chat``, ``/ollama/api/embed``                    Ollama native (JSON, NDJSON)
``GET  /ollama/api/tags``; ``/ollama/v1/...``                       Ollama models; its OpenAI-compatible API
``/{vendor}/v1/chat/completions``, ``/embeddings``, ``/models``     OpenAI-compatible vendors (``vendors``):
                                                                    mistral, groq, deepseek, openrouter,
                                                                    together, xai, huggingface, fireworks
``GET  /_mock/stats``, ``GET /_mock/requests``, ``POST /_mock/reset``  counters, request log, reset
``GET  /_mock/pixel.png``                                           a 1x1 PNG, for image-URL tests
==================================================================  ==============================

The official SDKs work unchanged: ``openai.OpenAI(base_url=URL + "/openai/v1")``,
``openai.AzureOpenAI(azure_endpoint=URL + "/azure", api_version=...)``,
``anthropic.Anthropic(base_url=URL + "/anthropic")``,
``genai.Client(api_key=..., http_options=HttpOptions(base_url=URL + "/gemini"))``,
``boto3.client("bedrock-runtime", endpoint_url=URL + "/bedrock", ...)``,
``cohere.ClientV2(base_url=URL + "/cohere")``.

Behaviour (the same for every family; details in ``brain``, ``tokens`` and ``schema_sample``):

- The reply is ``"Echo: <last user message>"``, images described as ``[image image/png 68 bytes]``
  (data URLs and base64: media type and decoded size) or ``[image <url>]``.
- Tools offered, tool choice not ``none``, last turn a user message: the forced tool, else the
  first one, is called with arguments sampled from its JSON schema (place-like string properties
  take a capitalised word of the user text, else "Paris"); "both"/"several" in the text makes two
  calls. When the conversation ends with tool results, the reply quotes them:
  ``"Tool results: get_weather: Sunny; ..."`` (unless the tool choice forces another call).
- JSON mode (OpenAI ``response_format``, Anthropic ``output_config.format``) answers a sample of
  the schema, or ``{"reply": "Echo: ..."}`` for a bare ``json_object``.
- Stop sequences cut the text; ``max_tokens`` truncates it (``length`` / ``max_tokens``).
  OpenAI reasoning models (``o1``/``o3``/``o4``/``gpt-5``…) and Anthropic extended thinking
  reason ``"Considering: <user text>"`` (hidden reasoning tokens / a thinking block).
- Tokens: text is ``ceil(chars / 4)``; a prompt is 3 + per message (4 + its text + 85 per image)
  + per tool (8 + name, description and schema). Prompts over 1024 tokens report a cached
  prefix (largest multiple of 1024 below the size): OpenAI ``cached_tokens`` always; Anthropic
  only when the request uses ``cache_control`` (read = that prefix, written = half the rest).
- Auth: no key is a 401; a key starting with ``bad`` is refused in each provider's way (Gemini: a
  400 ``API_KEY_INVALID``; Bedrock: an access key id starting with ``bad``, 403; Vertex: a service
  account whose email starts with ``bad`` gets no token). A model (or Azure deployment)
  named ``no-such-…`` is a 404 (``model_not_found`` / ``not_found_error`` / ``DeploymentNotFound``).
  Malformed JSON, unknown parameters, missing fields and inconsistent tool turns are 400s,
  each in the provider's own error shape; Anthropic also needs ``anthropic-version``.
- Identifiers have the providers' shapes (``chatcmpl-``, ``call_``, ``msg_01``, ``toolu_01``) and
  come from a per-server sequence; answers carry ``x-request-id`` / ``request-id`` headers.

Faults, in the ``x-mock-fault: <spec>`` header or a ``/fault/<spec>/`` path prefix before the
family (``http://127.0.0.1:PORT/fault/status=500/openai/v1`` as a base URL), ``<spec>`` being
comma-separated ``key=value``: ``status=N`` (that error, in the family's shape),
``retry_after=S`` (``retry-after`` on 429/503), ``latency_ms=N`` (delay before answering),
``cut_after=N`` (streams: drop the connection after N events), ``stall_ms=N`` (streams: pause
between events), ``times=N`` (only the first N requests carrying this exact spec are struck;
e.g. ``status=429,retry_after=1,times=1`` fails once, then succeeds), ``error_after=N``
(Ollama streams: an ``{"error": ...}`` line under status 200 after N events).

Entry points: ``create_app()`` (the aiohttp application), ``serve(host, port)`` (blocking, for
``byway mock``), and ``running(port=0)``, a context manager yielding a ``MockServer`` served from a
background thread (``.url``, ``.stats()``, ``.requests()``, ``.reset()``).
"""

from byway.mock.app import create_app
from byway.mock.server import MockServer, running, serve

__all__ = ["MockServer", "create_app", "running", "serve"]
