import pytest

from byway.config import parse_config
from byway.core import ModelNotFoundError, PermissionDeniedError, UpstreamUnavailableError
from byway.core.principal import LIBRARY, Principal
from byway.routing.targets import Router


def router() -> Router:
    config = parse_config({
        "providers": [
            {"name": "oa", "type": "openai", "models": ["gpt-4o-mini", "gpt-4o"], "priority": 2},
            {"name": "groq", "type": "groq", "models": ["llama-3.1-8b-instant", "gpt-4o-mini"], "priority": 1},
            {"name": "ollama", "type": "ollama"},
            {"name": "off", "type": "openai", "enabled": False},
        ],
        "routes": [
            {"name": "smart", "targets": ["oa:gpt-4o", "groq:llama-3.1-8b-instant"]},
            {"name": "one", "mode": "exclusive", "targets": ["oa:gpt-4o", "groq:llama-3.1-8b-instant"]},
            {"name": "dark", "mode": "off", "targets": ["oa:gpt-4o"]},
        ],
    })
    return Router(config.providers, config.routes)


def names(targets):
    return [(t.provider.name, t.model) for t in targets]


def test_provider_prefix_splits_at_first_colon():
    r = router()
    assert names(r.resolve("oa:gpt-4o-mini", LIBRARY)) == [("oa", "gpt-4o-mini")]
    assert names(r.resolve("ollama:llama3.1:8b", LIBRARY)) == [("ollama", "llama3.1:8b")]


def test_bare_name_prefers_default_provider_then_priority():
    r = router()
    assert names(r.resolve("gpt-4o-mini", LIBRARY)) == [("groq", "gpt-4o-mini")]
    caller = Principal(id="u", kind="key", default_provider="oa")
    assert names(r.resolve("gpt-4o-mini", caller)) == [("oa", "gpt-4o-mini")]
    assert names(r.resolve("gpt-4o", caller)) == [("oa", "gpt-4o")]


def test_routes_and_modes():
    r = router()
    assert names(r.resolve("smart", LIBRARY)) == [("oa", "gpt-4o"), ("groq", "llama-3.1-8b-instant")]
    assert names(r.resolve("one", LIBRARY)) == [("oa", "gpt-4o")]
    with pytest.raises(UpstreamUnavailableError, match="switched off") as info:
        r.resolve("dark", LIBRARY)
    assert info.value.status == 503


def test_unknown_model_lists_what_is_available():
    r = router()
    with pytest.raises(ModelNotFoundError) as info:
        r.resolve("gpt-9", LIBRARY)
    assert info.value.status == 404 and info.value.code == "model_not_found"
    assert "oa:gpt-4o-mini" in info.value.message and "smart" in info.value.message
    with pytest.raises(ModelNotFoundError, match="does not offer the model 'gpt-9'"):
        r.resolve("oa:gpt-9", LIBRARY)


def test_disabled_provider_is_a_clear_error():
    with pytest.raises(UpstreamUnavailableError, match="provider 'off' is disabled"):
        router().resolve("off:gpt-4o", LIBRARY)


def test_allowed_models_restrict_a_key():
    r = router()
    key = Principal(id="k", kind="key", role="member", allowed_models=frozenset({"oa:*", "smart"}))
    assert names(r.resolve("oa:gpt-4o", key)) == [("oa", "gpt-4o")]
    assert names(r.resolve("smart", key))[0] == ("oa", "gpt-4o")
    with pytest.raises(PermissionDeniedError):
        r.resolve("groq:llama-3.1-8b-instant", key)
    assert r.available(key) == ["smart", "oa:gpt-4o-mini", "oa:gpt-4o"]
