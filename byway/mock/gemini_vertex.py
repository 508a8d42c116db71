"""The Vertex AI mock: its OAuth token endpoint and the bearer tokens it checks.

``POST /vertex/token`` imitates Google's token endpoint for the JWT bearer grant: the form body must have
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and an ``assertion`` that is a three-part JWT whose
claims hold ``iss``, ``scope`` and an ``exp`` in the future, and whose ``aud`` is this endpoint's own URL (or
Google's token URL, which google-auth always puts there whatever the key file's ``token_uri``). The
signature is not verified; instead an ``iss`` starting with ``bad`` is refused as a bad signature, so tests can
drive a failed exchange. Refusals are OAuth's ``{"error", "error_description"}`` with status 400. The answer is
``{"access_token", "expires_in": 3599, "token_type": "Bearer"}``.

Tokens are stateless: an HMAC (with a per-process secret) over the account and expiry, so every mock server of
the process accepts them. The Vertex routes want ``Authorization: Bearer <such a token>`` and answer 401
``UNAUTHENTICATED`` in Google's shape otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from typing import Any

import msgspec
from aiohttp import web

from byway.mock.gemini_errors import VERTEX_SERVICE, error_info
from byway.mock.problem import Problem

TOKEN_PATH = "/vertex/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
TOKEN_SECONDS = 3599
TOKEN_PREFIX = "ya29.mock."
_SECRET = secrets.token_bytes(32)
_FAULT_PREFIX = "/fault/"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue(account: str, now: float | None = None) -> str:
    """A token for ``account`` valid for ``TOKEN_SECONDS``."""
    payload = _b64encode(msgspec.json.encode({"sub": account, "exp": int((now or time.time()) + TOKEN_SECONDS)}))
    mac = _b64encode(hmac.new(_SECRET, payload.encode(), hashlib.sha256).digest())
    return f"{TOKEN_PREFIX}{payload}.{mac}"


def token_account(token: str) -> str | None:
    """The account a token was issued to, None when it is forged or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    payload, _, mac = token[len(TOKEN_PREFIX):].partition(".")
    expected = _b64encode(hmac.new(_SECRET, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        claims = msgspec.json.decode(_b64decode(payload))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
        return None
    return str(claims.get("sub", ""))


def check_bearer(request: web.Request) -> str:
    """The account behind the request's bearer token; 401 in Google's shape without a valid one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        message = ("Request is missing required authentication credential. Expected OAuth 2 access token, login "
                   "cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        raise _unauthenticated(message, "CREDENTIALS_MISSING")
    account = token_account(token.strip())
    if account is None:
        message = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                   "other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
        raise _unauthenticated(message, "ACCESS_TOKEN_TYPE_UNSUPPORTED")
    return account


def _unauthenticated(message: str, reason: str) -> Problem:
    body = {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED",
                      "details": [error_info(reason, VERTEX_SERVICE)]}}
    return Problem(401, message, family_body=body)


def _refuse(error: str, description: str) -> Problem:
    return Problem(400, description, family_body={"error": error, "error_description": description})


def _own_url(request: web.Request) -> str:
    """The URL this request was sent to, without a ``/fault/<spec>`` prefix or query."""
    path = request.path
    if path.startswith(_FAULT_PREFIX):
        path = "/" + path[len(_FAULT_PREFIX):].partition("/")[2]
    return f"{request.scheme}://{request.host}{path}"


def _claims(assertion: str) -> dict[str, Any]:
    pieces = assertion.split(".")
    if len(pieces) != 3 or not all(pieces):
        raise _refuse("invalid_grant", "Invalid JWT: the assertion must be a signed JWT (header.claims.signature).")
    try:
        header, claims = msgspec.json.decode(_b64decode(pieces[0])), msgspec.json.decode(_b64decode(pieces[1]))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _refuse("invalid_grant", "Invalid JWT: the header or claims are not base64url JSON.") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise _refuse("invalid_grant", "Invalid JWT: the assertion must be signed with RS256.")
    return claims


async def token(request: web.Request) -> web.Response:
    """``POST /vertex/token``: the JWT bearer grant."""
    form = await request.post()
    grant = form.get("grant_type")
    if grant != GRANT_TYPE:
        raise _refuse("unsupported_grant_type", f"Invalid grant_type: {grant}")
    assertion = form.get("assertion")
    if not isinstance(assertion, str):
        raise _refuse("invalid_request", "Missing required parameter: assertion")
    claims = _claims(assertion)
    audience = _own_url(request)
    if claims.get("aud") not in (audience, GOOGLE_TOKEN_URL):
        raise _refuse("invalid_grant", f"Invalid JWT: the audience must be the token URL {audience}.")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise _refuse("invalid_grant", "Invalid JWT: the iss claim (the service account's email) is missing.")
    if issuer.startswith("bad"):
        raise _refuse("invalid_grant", "Invalid JWT Signature.")
    if not claims.get("scope"):
        raise _refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float) or exp <= now or exp - iat > 3600:
        raise _refuse("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                                       "reasonable timeframe. Check your iat and exp values in the JWT claim.")
    body = {"access_token": issue(issuer, now), "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", charset="UTF-8",
                        headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})
