"""The Vertex AI mock, driven by ``google-genai`` in Vertex mode with service-account credentials whose token_uri
is the mock's own token endpoint; the token endpoint and bearer checks over plain HTTP."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai
from google.auth import crypt, jwt
from google.auth.exceptions import RefreshError
from google.genai import errors, types
from google.oauth2 import service_account

from byway.mock import MockServer
from tests.mock.rawhttp import post_json, raw_request

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                       serialization.NoEncryption()).decode()
EMAIL = "svc@proj-1.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MODEL_PATH = "/vertex/v1/projects/proj-1/locations/us-central1/publishers/google/models"


def credentials(mock: MockServer, email: str = EMAIL) -> service_account.Credentials:
    info = {"type": "service_account", "project_id": "proj-1", "private_key_id": "k1", "private_key": PEM,
            "client_email": email, "client_id": "1", "token_uri": mock.url + "/vertex/token"}
    return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])


def vertex_client(mock: MockServer, creds: service_account.Credentials | None = None) -> genai.Client:
    return genai.Client(vertexai=True, project="proj-1", location="us-central1",
                        credentials=creds or credentials(mock),
                        http_options=types.HttpOptions(base_url=mock.url + "/vertex", api_version="v1",
                                                       retry_options=types.HttpRetryOptions(attempts=1)))


@pytest.fixture(scope="module")
def client(mock: MockServer) -> Iterator[genai.Client]:
    client = vertex_client(mock)
    yield client
    client.close()


def assertion(claims: dict, signer: crypt.Signer | None = None) -> str:
    return jwt.encode(signer or crypt.RSASigner.from_string(PEM, "k1"), claims).decode()


def claims(mock: MockServer, **changes: object) -> dict:
    now = int(time.time())
    return {"iss": EMAIL, "scope": SCOPE, "aud": mock.url + "/vertex/token", "iat": now, "exp": now + 3600, **changes}


def exchange(mock: MockServer, grant: str = GRANT, assertion_text: str = "") -> tuple[int, dict]:
    answer = raw_request(mock.url + "/vertex/token", urlencode({"grant_type": grant, "assertion": assertion_text})
                         .encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    return answer.status, answer.json


# -- through the SDK ---------------------------------------------------------------------------------------------


def test_text_and_stream(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.0-flash", contents="Hello Vertex")
    assert response.text == "Echo: Hello Vertex"
    assert response.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
    assert response.create_time is not None and response.model_version == "gemini-2.0-flash"
    pieces = [c.text for c in client.models.generate_content_stream(model="gemini-2.5-pro", contents="Hi there")]
    assert pieces == ["Echo:", " Hi", " there"]


def test_function_calling_round_trip(client: genai.Client) -> None:
    weather = types.FunctionDeclaration(name="get_weather", parameters_json_schema={
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[weather])],
                                         automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    chat = client.chats.create(model="gemini-3-flash-preview", config=config)
    first = chat.send_message("Weather in Bergen?")
    [call] = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Bergen"})
    assert len(call.id) == 8  # Vertex gives its calls ids
    second = chat.send_message(types.Part.from_function_response(name="get_weather", response={"output": "Rain"}))
    assert second.text == "Tool results: get_weather: Rain"


def test_embeddings_and_tokens(client: genai.Client) -> None:
    result = client.models.embed_content(model="text-embedding-005", contents=["alpha", "beta gamma"],
                                         config=types.EmbedContentConfig(output_dimensionality=12,
                                                                         task_type="RETRIEVAL_QUERY"))
    assert [len(e.values) for e in result.embeddings] == [12, 12]
    assert [e.statistics.token_count for e in result.embeddings] == [2, 3]
    assert client.models.count_tokens(model="gemini-2.0-flash", contents="Hello Vertex").total_tokens == 10


def test_errors(mock: MockServer, client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="no-such-model", contents="hi")
    assert (missing.value.code, missing.value.status) == (404, "NOT_FOUND")
    assert missing.value.message.startswith("Publisher Model `projects/proj-1/locations/us-central1/publishers/google/"
                                            "models/no-such-model` was not found")
    refused = vertex_client(mock, credentials(mock, email="bad-svc@proj-1.iam.gserviceaccount.com"))
    with pytest.raises(RefreshError, match=r"invalid_grant: Invalid JWT Signature\."):
        refused.models.generate_content(model="gemini-2.0-flash", contents="hi")
    refused.close()


# -- token endpoint and bearer checks ----------------------------------------------------------------------------


def test_token_endpoint_issues_bearer_tokens(mock: MockServer) -> None:
    status, body = exchange(mock, assertion_text=assertion(claims(mock)))
    assert status == 200
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3599) and body["access_token"].startswith("ya29.")
    answer = post_json(mock.url + MODEL_PATH + "/gemini-2.0-flash:generateContent",
                       {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                       {"Authorization": f"Bearer {body['access_token']}"})
    assert answer.status == 200 and answer.json["candidates"][0]["content"]["parts"] == [{"text": "Echo: hi"}]


@pytest.mark.parametrize(("grant", "make", "error", "description"), [
    ("client_credentials", lambda m: assertion(claims(m)), "unsupported_grant_type",
     "Invalid grant_type: client_credentials"),
    (GRANT, lambda m: "only.two", "invalid_grant",
     "Invalid JWT: the assertion must be a signed JWT (header.claims.signature)."),
    (GRANT, lambda m: assertion(claims(m, aud="https://elsewhere.example/token")), "invalid_grant",
     None),
    (GRANT, lambda m: assertion(claims(m, iss="bad-svc@x")), "invalid_grant", "Invalid JWT Signature."),
    (GRANT, lambda m: assertion(claims(m, exp=int(time.time()) - 10)), "invalid_grant",
     "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and "
     "exp values in the JWT claim."),
    (GRANT, lambda m: assertion(claims(m, scope="")), "invalid_scope",
     "Invalid OAuth scope or ID token audience provided."),
])
def test_token_endpoint_refusals(mock: MockServer, grant: str, make, error: str, description: str | None) -> None:
    status, body = exchange(mock, grant, make(mock))
    assert status == 400 and body["error"] == error
    expected = description or f"Invalid JWT: the audience must be the token URL {mock.url}/vertex/token."
    assert body["error_description"] == expected


def test_googles_own_audience_is_accepted(mock: MockServer) -> None:
    status, _ = exchange(mock, assertion_text=assertion(claims(mock, aud="https://oauth2.googleapis.com/token")))
    assert status == 200


def test_bearer_required(mock: MockServer) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    url = mock.url + MODEL_PATH + "/gemini-2.0-flash:generateContent"
    missing = post_json(url, body)
    assert missing.status == 401
    error = missing.json["error"]
    assert (error["status"], error["details"][0]["reason"]) == ("UNAUTHENTICATED", "CREDENTIALS_MISSING")
    assert error["details"][0]["metadata"] == {"service": "aiplatform.googleapis.com"}
    forged = "ya29.mock." + base64.urlsafe_b64encode(msgspec.json.encode({"sub": "x", "exp": 2 ** 40})).decode() + ".x"
    for token in (forged, "not-a-token"):
        refused = post_json(url, body, {"Authorization": f"Bearer {token}"})
        assert refused.status == 401 and refused.json["error"]["details"][0]["reason"] == "ACCESS_TOKEN_TYPE_UNSUPPORTED"


def test_predict_and_model_garden(mock: MockServer) -> None:
    _, token = exchange(mock, assertion_text=assertion(claims(mock)))
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    many = post_json(mock.url + MODEL_PATH + "/gemini-embedding-001:predict",
                     {"instances": [{"content": "a"}, {"content": "b"}]}, auth)
    assert many.status == 400 and "supports at most 1 instance per request" in many.json["error"]["message"]
    one = post_json(mock.url + MODEL_PATH + "/gemini-embedding-001:predict",
                    {"instances": [{"content": "abcdefgh", "task_type": "CLUSTERING"}]}, auth)
    [prediction] = one.json["predictions"]
    assert len(prediction["embeddings"]["values"]) == 3072
    assert prediction["embeddings"]["statistics"] == {"token_count": 2, "truncated": False}
    assert one.json["metadata"] == {"billableCharacterCount": 8}
    garden = raw_request(mock.url + "/vertex/v1beta1/publishers/google/models", headers=auth)
    names = [m["name"] for m in garden.json["publisherModels"]]
    assert "publishers/google/models/gemini-2.5-flash" in names
    wrong_version = post_json(mock.url + "/vertex/v2/projects/p/locations/l/publishers/google/models/m:generateContent",
                              {"contents": []}, auth)
    assert wrong_version.status == 404
