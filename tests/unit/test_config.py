import os
import stat
from decimal import Decimal

import pytest

from byway.config import ConfigError, load_config, parse_config, providers_from_env
from byway.providers.config import ProviderType
from byway.server.bootstrap import settle


def test_full_contract_example_parses(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_KEY_FOR_TEST", "sk-test-123")
    path = tmp_path / "byway.yaml"
    path.write_text("""
database_url: sqlite:///byway-data/byway.db
master_key: byw-master-0123456789abcdef
secret_key: 0123456789abcdef0123456789abcdef
providers:
  - name: oa
    type: openai
    api_key: env:OPENAI_KEY_FOR_TEST
    base_url: http://127.0.0.1:9200/openai/v1/
    models: [gpt-4o-mini, gpt-4o]
    priority: 1
    weight: 1
    rpm_limit: 600
    tpm_limit: 200000
    monthly_budget: 100.00
    timeout: 120
    proxy: http://proxy.internal:3128
    enabled: true
    prices:
      gpt-4o-mini: {input: 0.15, output: 0.60, cached_input: 0.075}
  - name: an
    type: anthropic
    api_key: sk-ant
routes:
  - name: smart
    mode: fallback
    targets: [an:claude-3-5-haiku-latest, oa:gpt-4o-mini]
    retries: 2
allow_private_base_urls: false
""")
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    config = load_config(path)
    oa = config.providers[0]
    assert oa.api_key == "sk-test-123"
    assert oa.base_url == "http://127.0.0.1:9200/openai/v1"  # trailing slash dropped
    assert oa.provider_type is ProviderType.OPENAI
    assert oa.monthly_budget == Decimal("100.00")
    assert oa.prices["gpt-4o-mini"].cached_input == Decimal("0.075")
    assert isinstance(oa.prices["gpt-4o-mini"].input, Decimal)
    assert config.routes[0].targets == ["an:claude-3-5-haiku-latest", "oa:gpt-4o-mini"]
    assert config.routes[0].retries == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"providers": [{"name": "oa", "type": "openai", "priority": "high"}]},
     "config error: providers[0].priority: expected `int`, got `str`"),
    ({"providers": [{"name": "oa", "type": "opnai"}]}, "config error: providers[0].type: invalid enum value 'opnai'"),
    ({"providers": [{"name": "oa", "type": "openai", "colour": "red"}]}, "providers[0]: object contains unknown field `colour`"),
    ({"providers": [{"name": "oa", "type": "openai", "api_key": "env:BYWAY_TEST_UNSET_VAR"}]},
     "config error: providers[0].api_key: environment variable BYWAY_TEST_UNSET_VAR is not set"),
    ({"providers": [{"name": "a:b", "type": "openai"}]}, "providers[0].name: 'a:b' may not contain ':'"),
    ({"providers": [{"name": "x", "type": "openai"}, {"name": "x", "type": "groq"}]}, "providers[1].name: 'x' is used twice"),
    ({"providers": [{"name": "x", "type": "openai_compatible"}]}, "providers[0].base_url: required for type openai_compatible"),
    ({"providers": [{"name": "x", "type": "openai", "base_url": "ftp://x"}]}, "providers[0].base_url: must start with http"),
    ({"providers": [{"name": "x", "type": "openai", "timeout": 0}]}, "providers[0].timeout: must be positive"),
    ({"routes": [{"name": "r", "targets": ["nope:m"]}]}, "routes[0].targets[0]: 'nope:m' is not provider:model"),
    ({"routes": [{"name": "r", "targets": ["x:m"], "mode": "sometimes"}], "providers": [{"name": "x", "type": "openai"}]},
     "routes[0].mode"),
    ({"secret_key": "short"}, "config error: secret_key: must be at least 32 characters"),
    (["not", "a", "mapping"], "the file must hold a mapping"),
])
def test_config_errors_name_the_field(data, message):
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: [\n  - name: x\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_env_keys_become_shared_providers_named_after_type():
    env = {"OPENAI_API_KEY": "sk-1", "GOOGLE_API_KEY": "g-1", "HF_TOKEN": "hf-1",
           "AZURE_OPENAI_API_KEY": "az", "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
           "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "us-east-1",
           "OLLAMA_BASE_URL": "http://localhost:11434", "MISTRAL_API_KEY": "m"}
    found = {p.name: p for p in providers_from_env(env, taken={"mistral"})}
    assert set(found) == {"openai", "gemini", "huggingface", "azure", "bedrock", "ollama"}
    assert found["openai"].api_key == "sk-1"
    assert found["gemini"].api_key == "g-1"
    assert found["azure"].base_url == "https://x.openai.azure.com"
    assert found["bedrock"].region == "us-east-1" and found["bedrock"].aws_secret_access_key == "SK"
    assert found["ollama"].base_url == "http://localhost:11434/v1"


def test_first_start_generates_keys_in_private_files(tmp_path):
    config = parse_config({})
    env = {"BYWAY_DATA_DIR": str(tmp_path / "data")}
    first = settle(config, env)
    assert first.master_key_generated and first.master_key.startswith("byw-master-")
    assert first.database_url == f"sqlite:///{tmp_path / 'data' / 'byway.db'}"
    for name in ("master.key", "secret.key"):
        mode = stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode)
        assert mode == 0o600
    second = settle(config, env)
    assert not second.master_key_generated
    assert (second.master_key, second.secret_key) == (first.master_key, first.secret_key)
    overridden = settle(config, {**env, "BYWAY_MASTER_KEY": "m" * 20, "BYWAY_DATABASE_URL": "sqlite:///x.db"})
    assert overridden.master_key == "m" * 20 and overridden.database_url == "sqlite:///x.db"
