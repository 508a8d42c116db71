"""Azure OpenAI: ``/azure/openai/deployments/{deployment}/chat/completions|embeddings?api-version=…``.

Answers like OpenAI, with Azure's differences: the ``api-key`` header (or a bearer token), the
deployment in the path standing for the model, a 404 "Resource not found" without
``api-version``, Azure's own bodies for 401 and unknown deployments (``no-such-…``), and
content-filter results in answers and a first stream chunk with empty ``choices``.
"""

from __future__ import annotations

from aiohttp import web

from byway.mock import openai_chat, openai_common, openai_embeddings
from byway.mock.openai_wire import decode_chat
from byway.mock.problem import Problem

_ACCESS_DENIED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
                  "valid key for an active subscription and use a correct regional API endpoint for your resource.")
_NOT_FOUND = "Resource not found"


def _check(request: web.Request) -> str:
    """The deployment named by the path, after Azure's auth, api-version and deployment checks."""
    key = request.headers.get("api-key", "").strip()
    if not key:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else ""
    if not key or key.startswith("bad"):
        raise Problem(401, _ACCESS_DENIED, family_body={"error": {"code": "401", "message": _ACCESS_DENIED}})
    if not request.query.get("api-version"):
        raise Problem(404, _NOT_FOUND, family_body={"error": {"code": "404", "message": _NOT_FOUND}})
    deployment = request.match_info["deployment"]
    if deployment.startswith(openai_common.MISSING_MODEL_PREFIX):
        message = ("The API deployment for this resource does not exist. If you created the deployment within the "
                   "last 5 minutes, please wait a moment and try again.")
        raise Problem(404, message, family_body={"error": {"code": "DeploymentNotFound", "message": message}})
    return deployment


async def chat_completions(request: web.Request) -> web.StreamResponse:
    deployment = _check(request)
    chat = decode_chat(await request.read(), model=deployment)
    return await openai_chat.answer(request, chat, model=deployment, azure=True)


async def embeddings(request: web.Request) -> web.Response:
    deployment = _check(request)
    return await openai_embeddings.answer(request, deployment=deployment)
