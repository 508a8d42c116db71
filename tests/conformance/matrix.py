"""The conformance matrix: which provider types, which features, and what each provider cannot do.

Every provider type is configured against the mock servers three times: as it is, with a key the
provider refuses (``<name>-badkey``) and behind a 429 fault (``<name>-limited``). OpenAI-family
vendors point at the mock's flavour of OpenAI for that vendor (``byway.mock.vendors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Row(NamedTuple):
    type: str
    name: str  # the provider's name in the gateway config, the prefix in "name:model"
    model: str
    family_path: str  # the mock's path prefix for this provider's wire family


ROWS: tuple[Row, ...] = (
    Row("openai", "openai", "gpt-4o-mini", "/openai/v1"),
    Row("azure", "azure", "gpt-4o-mini", "/azure"),
    Row("anthropic", "anthropic", "claude-3-5-haiku-latest", "/anthropic"),
    Row("gemini", "gemini", "gemini-2.0-flash", "/gemini"),
    Row("vertex", "vertex", "gemini-2.0-flash", "/vertex"),
    Row("bedrock", "bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", "/bedrock"),
    Row("mistral", "mistral", "mistral-small-latest", "/mistral/v1"),
    Row("groq", "groq", "llama-3.3-70b-versatile", "/groq/v1"),
    Row("together", "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "/together/v1"),
    Row("cohere", "cohere", "command-r-plus", "/cohere"),
    Row("xai", "xai", "grok-3-mini", "/xai/v1"),
    Row("openrouter", "openrouter", "openai/gpt-4o-mini", "/openrouter/v1"),
    Row("huggingface", "huggingface", "meta-llama/Llama-3.3-70B-Instruct", "/huggingface/v1"),
    Row("ollama", "ollama", "llama3.1:8b", "/ollama"),
    Row("deepseek", "deepseek", "deepseek-chat", "/deepseek/v1"),
    Row("fireworks", "fireworks", "accounts/fireworks/models/llama-v3p1-8b-instruct", "/fireworks/v1"),
    Row("openai_compatible", "vllm", "qwen2.5-7b-instruct", "/openai/v1"),
)
BY_NAME = {row.name: row for row in ROWS}

CLIENTS = ("openai", "anthropic")
FEATURES: dict[str, str] = {  # column id -> heading
    "text": "text",
    "stream": "stream",
    "tools": "tools",
    "stream_tools": "streamed tools",
    "tool_results": "tool results",
    "image": "image in",
    "json": "JSON mode",
    "stop_max": "stop / max tokens",
    "usage": "usage",
    "errors": "errors",
}

# (client or None for both, provider type, feature) -> why the cell cannot be offered
UNSUPPORTED: dict[tuple[str | None, str, str], str] = {
    (None, "deepseek", "image"): "DeepSeek's chat API takes no image input.",
}


def unsupported(client: str, row: Row, feature: str) -> str | None:
    return UNSUPPORTED.get((client, row.type, feature)) or UNSUPPORTED.get((None, row.type, feature))


def _fault(mock: str, row: Row, spec: str) -> str:
    return f"{mock}/fault/{spec}{row.family_path}"


def provider_entries(row: Row, mock: str, work: Path) -> str:
    """The YAML list items for ``row``: the provider, its bad-key twin and its rate-limited twin."""
    ok = _entry(row, row.name, mock + row.family_path, mock, work, bad=False)
    bad = _entry(row, row.name + "-badkey", mock + row.family_path, mock, work, bad=True)
    limited = _entry(row, row.name + "-limited", _fault(mock, row, "status=429,retry_after=3"), mock, work,
                     bad=False)
    return ok + bad + limited


def _entry(row: Row, name: str, base_url: str, mock: str, work: Path, *, bad: bool) -> str:
    key = "bad-key" if bad else f"{row.type}-mock-key"
    lines = [f"  - name: {name}", f"    type: {row.type}", f"    base_url: {base_url}"]
    if row.type == "bedrock":
        lines += [f"    aws_access_key_id: {'bad' if bad else ''}AKIAMOCKEXAMPLE",
                  "    aws_secret_access_key: mock-secret-access-key", "    region: us-east-1"]
    elif row.type == "vertex":
        token_uri = f"{mock}/fault/status=401/vertex/token" if bad else f"{mock}/vertex/token"
        lines += ["    project: byway-test", "    location: us-central1",
                  f"    credentials_file: {_service_account(work, token_uri, bad)}"]
    elif row.type == "azure":
        lines += [f"    api_key: {key}", '    api_version: "2024-10-21"']
    elif row.type != "ollama":
        lines.append(f"    api_key: {key}")
    return "\n".join(lines) + "\n"


def _service_account(work: Path, token_uri: str, bad: bool) -> Path:
    """A service-account JSON with a fresh RSA key whose token endpoint is the mock's."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = work / ("service-account-bad.json" if bad else "service-account.json")
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        path.write_text(json.dumps({
            "type": "service_account", "project_id": "byway-test", "private_key_id": "mock-key-1",
            "private_key": pem, "client_email": "gateway@byway-test.iam.gserviceaccount.com",
            "client_id": "1234567890", "token_uri": token_uri}))
    return path


def config_yaml(mock: str, work: Path) -> str:
    entries = "".join(provider_entries(row, mock, work) for row in ROWS)
    return f"allow_private_image_urls: true\nproviders:\n{entries}"
