"""``/api/openapi.json`` describes every /api route, with schemas that resolve and match what is served."""

from __future__ import annotations

from typing import Any

from byway.server.management.routes import ROUTES
from tests.accounts.conftest import Gateway


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


# What CONTRACT §5 promises under /api.
CONTRACT_ROUTES = {
    ("POST", "/api/users"), ("GET", "/api/users"), ("PATCH", "/api/users/{id}"), ("DELETE", "/api/users/{id}"),
    ("POST", "/api/keys"), ("GET", "/api/keys"), ("DELETE", "/api/keys/{id}"),
    ("POST", "/api/credentials"), ("GET", "/api/credentials"), ("GET", "/api/credentials/{id}"),
    ("PATCH", "/api/credentials/{id}"), ("DELETE", "/api/credentials/{id}"), ("POST", "/api/credentials/{id}/test"),
    ("POST", "/api/credentials/validate"), ("GET", "/api/provider-types"), ("GET", "/api/models"),
    ("GET", "/api/me/preferences"), ("PUT", "/api/me/preferences"),
    ("GET", "/api/usage/summary"), ("GET", "/api/usage"), ("GET", "/api/usage/export"), ("GET", "/api/logs"),
    ("GET", "/api/providers/status"), ("GET", "/api/providers/metrics"), ("GET", "/api/providers/metrics/{provider}"),
    ("GET", "/api/providers/logs"), ("GET", "/api/providers/logs/{provider}"), ("GET", "/api/providers/costs"),
    ("GET", "/api/providers/health"), ("POST", "/api/providers/metrics/reset"),
}


async def test_the_document_covers_every_route(gateway: Gateway) -> None:
    answer = await gateway.client.get("/api/openapi.json")  # no key needed
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"] == "3.1.0" and doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    described = {(method.upper(), path) for path, item in doc["paths"].items() for method in item}
    assert described == {(r.method, r.path) for r in ROUTES}
    assert CONTRACT_ROUTES <= described
    operations = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operations) == len(set(operations)) == len(described)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    create = doc["paths"]["/api/credentials"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "404", "409", "422"}
    body = schemas[create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert body["required"] == ["provider_type"] and body["additionalProperties"] is False
    types = schemas["ProviderType"]["enum"] if "ProviderType" in schemas else body["properties"]["provider_type"]["enum"]
    assert "bedrock" in types and len(types) == 17
    shown = schemas["CredentialOut"]["properties"]
    assert "key_hint" in shown and "api_key" not in shown and "monthly_spent" in shown
    assert doc["paths"]["/api/credentials/{id}/test"]["post"]["parameters"][0] == {
        "name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    assert doc["paths"]["/api/openapi.json"]["get"]["security"] == []


async def test_unknown_paths_and_methods(gateway: Gateway) -> None:
    missing = await gateway.call("GET", "/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_url"
    wrong = await gateway.call("PUT", "/api/keys")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    anonymous = await gateway.client.get("/api/credentials")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "authentication_error"


async def test_the_rate_limit_fields_are_described_as_whole_numbers_of_1_or_more(gateway: Gateway) -> None:
    doc = (await gateway.client.get("/api/openapi.json")).json()
    schemas = doc["components"]["schemas"]

    def body_of(path: str, method: str) -> dict[str, Any]:
        ref = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]

    for path, method, fields in [("/api/users", "post", ("rpm_limit", "tpm_limit")),
                                 ("/api/users/{id}", "patch", ("rpm_limit", "tpm_limit")),
                                 ("/api/credentials", "post", ("rate_limit_rpm", "rate_limit_tpm")),
                                 ("/api/credentials/{id}", "patch", ("rate_limit_rpm", "rate_limit_tpm"))]:
        properties = body_of(path, method)["properties"]
        for field in fields:
            choices = properties[field]["anyOf"]
            assert {"type": "integer", "minimum": 1} in choices and {"type": "null"} in choices, (path, field)
    assert {"rpm_limit", "tpm_limit"} <= set(schemas["UserOut"]["required"])
    assert {"rate_limit_rpm", "rate_limit_tpm"} <= set(schemas["CredentialOut"]["required"])
