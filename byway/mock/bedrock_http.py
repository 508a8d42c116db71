"""What every Bedrock mock route shares: the credential check, the unknown-model rule and the answer headers.

- A SigV4 ``Authorization`` header must be well formed: credential scope ``KEY/YYYYMMDD/region/bedrock/
  aws4_request``, signed headers including ``host`` and ``x-amz-date``, an ``X-Amz-Date`` of the scope's day
  and a 64-hex-digit signature. The signature itself is not checked (the mock knows no secrets).
- A Bedrock API key may come instead as a bearer token.
- An access key id or API key starting with ``bad`` is a 403 ``UnrecognizedClientException``; no
  credentials, a 403 ``MissingAuthenticationTokenException``.
- A model id starting with ``no-such-`` (after a cross-region prefix such as ``us.``) is the 400
  ``ValidationException`` "The provided model identifier is invalid." that Bedrock answers.
"""

from __future__ import annotations

import re

import msgspec
from aiohttp import web

from byway.mock.bedrock_errors import problem
from byway.mock.bedrock_wire import invalid
from byway.mock.state import request_id_of

MISSING_MODEL_PREFIX = "no-such-"
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.")
_SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/\s,]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request,\s*"
                    r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$")
_BAD_TOKEN = "The security token included in the request is invalid."


def check_auth(request: web.Request) -> None:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise problem(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer":
        if not token.strip() or token.strip().startswith("bad"):
            raise problem(403, "UnrecognizedClientException", _BAD_TOKEN)
        return
    match = _SIGV4.match(header)
    if match is None:
        raise problem(403, "IncompleteSignatureException",
                      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. "
                      f"Authorization={header[:80]}")
    key, day, _region, service, signed, _ = match.groups()
    if service != "bedrock":
        raise problem(403, "InvalidSignatureException", f"Credential should be scoped to correct service: "
                                                        f"'bedrock', not '{service}'.")
    names = signed.split(";")
    date = request.headers.get("X-Amz-Date", "")
    if "host" not in names or "x-amz-date" not in names or not date:
        raise problem(403, "IncompleteSignatureException", "Signed headers must include host and x-amz-date.")
    if not date.startswith(day):
        raise problem(403, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from "
                                                        "ISO-8601 version of date from HTTP.")
    if key.startswith("bad"):
        raise problem(403, "UnrecognizedClientException", _BAD_TOKEN)


def bare(model: str) -> str:
    """The model id without a cross-region prefix (``us.``)."""
    return next((model[len(p):] for p in _GEO_PREFIXES if model.startswith(p)), model)


def check_model(model: str) -> None:
    if bare(model).startswith(MISSING_MODEL_PREFIX):
        raise invalid("The provided model identifier is invalid.")


def headers(request: web.Request) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id_of(request)}


def json_answer(request: web.Request, body: object, extra: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), content_type="application/json",
                        headers={**headers(request), **(extra or {})})
