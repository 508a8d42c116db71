"""Model resolution with a caller's own providers (``Personal``), and how a credential becomes a
provider connection: pure functions, no I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from byway.accounting.prices import PriceBook
from byway.accounts.provider import credential_price, offered, provider_config
from byway.config import parse_config
from byway.core import (
    ChatRequest,
    Message,
    ModelNotFoundError,
    PermissionDeniedError,
    TextPart,
    UpstreamUnavailableError,
    Usage,
)
from byway.core.principal import Principal
from byway.providers.config import ProviderConfig, ProviderType
from byway.routing.targets import Defaults, Offered, Personal, Router, fit
from byway.vault import Secret
from tests.accounts.conftest import Gateway
from tests.accounts.records import credential


def offer(name: str, **fields: object) -> Offered:
    c = credential(name, **fields)
    return offered(c, provider_config(c, Secret.api_key(f"sk-{name}")))


def router(personal: Personal | None) -> Router:
    config = parse_config({"providers": [
        {"name": "oa", "type": "openai", "models": ["gpt-4o-mini", "gpt-4o"], "priority": 1},
        {"name": "an", "type": "anthropic", "models": ["claude-3-5-haiku-latest"], "priority": 2}],
        "routes": [{"name": "smart", "targets": ["oa:gpt-4o", "an:claude-3-5-haiku-latest"]}]})
    return Router(config.providers, config.routes, personal=lambda p: personal if p.kind == "key" else None)


BOB = Principal(id="key_bob", kind="key", role="member", user_id="usr_bob")


def pick(r: Router, model: str, principal: Principal = BOB) -> list[tuple[str, str]]:
    return [(t.provider.name, t.model) for t in r.resolve(model, principal)]


def test_a_credential_is_named_alone_or_with_a_model() -> None:
    mine = Personal([offer("mine", model="gpt-4o", temperature=0.3)])
    r = router(mine)
    assert pick(r, "mine") == [("mine", "gpt-4o")]
    assert pick(r, "mine:o3-mini") == [("mine", "o3-mini")]
    assert r.resolve("mine", BOB)[0].defaults == Defaults(temperature=0.3)
    assert pick(r, "oa:gpt-4o") == [("oa", "gpt-4o")] and pick(r, "smart")[0] == ("oa", "gpt-4o")
    with pytest.raises(ModelNotFoundError, match="use mine:MODEL"):
        r.resolve("mine:", BOB)
    library = Principal(id="lib", kind="library")
    with pytest.raises(ModelNotFoundError):
        r.resolve("mine", library)  # nobody else sees it


def test_own_names_shadow_the_config_and_routes_and_catalogues_limit() -> None:
    mine = Personal([offer("oa", models=["gpt-4o-mini"], model="gpt-4o-mini"), offer("smart", model="gpt-4o")])
    r = router(mine)
    assert r.resolve("oa:gpt-4o-mini", BOB)[0].provider.api_key == "sk-oa"
    assert pick(r, "smart") == [("smart", "gpt-4o")]
    with pytest.raises(ModelNotFoundError, match="credential 'oa' does not offer the model 'gpt-4o'"):
        r.resolve("oa:gpt-4o", BOB)
    assert router(None).resolve("oa:gpt-4o", BOB)[0].provider.api_key is None


def test_bare_models_default_then_own_then_shared_then_config() -> None:
    own = offer("mine", models=["house", "gpt-4o-mini"], priority=5)
    shared = offer("team", models=["house", "team-only"], priority=1, user_id="usr_admin", shared=True)
    r = router(Personal([own, shared]))
    assert pick(r, "house") == [("mine", "house")]
    assert pick(r, "team-only") == [("team", "team-only")]
    assert pick(r, "gpt-4o-mini") == [("mine", "gpt-4o-mini")]
    assert pick(r, "gpt-4o") == [("oa", "gpt-4o")]
    prefers_oa = Principal(id="k", kind="key", role="member", user_id="usr_bob", default_provider="oa")
    assert pick(r, "gpt-4o-mini", prefers_oa) == [("oa", "gpt-4o-mini")]
    prefers_team = Principal(id="k", kind="key", role="member", user_id="usr_bob", default_provider="team")
    assert pick(r, "house", prefers_team) == [("team", "house")]
    with pytest.raises(ModelNotFoundError) as info:
        r.resolve("nothing", BOB)
    assert "mine:house" in info.value.message and "team:team-only" in info.value.message
    assert r.available(BOB)[:4] == ["mine:house", "mine:gpt-4o-mini", "team:house", "team:team-only"]


def test_inactive_credentials_and_allowed_models() -> None:
    r = router(Personal([offer("off", is_active=False, models=["gpt-4o"])]))
    with pytest.raises(UpstreamUnavailableError) as info:
        r.resolve("off", BOB)
    assert info.value.status == 503 and info.value.code == "provider_disabled"
    assert pick(r, "gpt-4o") == [("oa", "gpt-4o")]  # skipped when looking through catalogues
    assert "off:gpt-4o" not in r.available(BOB)
    narrow = Principal(id="k", kind="key", role="member", user_id="usr_bob", allowed_models=frozenset({"mine:*"}))
    r = router(Personal([offer("mine")]))
    assert pick(r, "mine", narrow) == [("mine", "gpt-4o-mini")]
    with pytest.raises(PermissionDeniedError):
        r.resolve("oa:gpt-4o", narrow)
    assert r.available(narrow) == ["mine:gpt-4o-mini"]


def request(**fields: object) -> ChatRequest:
    fields.setdefault("model", "m")
    return ChatRequest(messages=[Message("user", [TextPart("hi")])], **fields)  # type: ignore[arg-type]


def test_fit_fills_unset_settings_and_clamps_max_tokens() -> None:
    defaults = Defaults(temperature=0.2, top_p=0.9, max_tokens=100)
    filled = fit(request(), defaults, None)
    assert (filled.temperature, filled.top_p, filled.max_tokens) == (0.2, 0.9, 100)
    given = fit(request(temperature=1.0, max_tokens=10), defaults, None)
    assert (given.temperature, given.top_p, given.max_tokens) == (1.0, 0.9, 10)
    assert fit(request(), defaults, 50).max_tokens == 50
    assert fit(request(max_tokens=20), None, 50).max_tokens == 20
    assert fit(request(max_tokens=80), None, 50).max_tokens == 50
    untouched = request(temperature=0.5)
    assert fit(untouched, None, None) is untouched
    r = router(Personal([offer("mine", temperature=0.7)], max_tokens=30))
    planned, targets = r.plan(request(model="mine", temperature=None), BOB)
    assert (planned.temperature, planned.max_tokens, targets[0].provider.name) == (0.7, 30, "mine")


def test_credential_connections_per_type() -> None:
    aws = credential("aws", provider_type="bedrock", extra={"region": "eu-west-1"}, base_url=None)
    provider = provider_config(aws, Secret({"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s3cr3t"}))
    assert (provider.provider_type, provider.region, provider.aws_access_key_id, provider.api_key) == \
        (ProviderType.BEDROCK, "eu-west-1", "AKIA1", None)
    gcp = credential("gcp", provider_type="vertex", extra={"project": "p1", "location": "europe-west4"})
    provider = provider_config(gcp, Secret({"credentials_json": '{"client_email": "a"}'}))
    assert (provider.project, provider.location, provider.credentials_json) == ("p1", "europe-west4",
                                                                               '{"client_email": "a"}')
    az = credential("az", provider_type="azure", extra={"api_version": "2024-10-21"}, rate_limit_rpm=60,
                    rate_limit_tpm=90000, monthly_budget=Decimal("5"), priority=3, is_active=False)
    provider = provider_config(az, Secret.api_key("az-key"))
    assert (provider.api_version, provider.rpm_limit, provider.monthly_budget, provider.priority, provider.enabled) \
        == ("2024-10-21", 60, Decimal("5"), 3, False)
    assert provider.tpm_limit == 90000
    assert provider_config(credential("free"), Secret.api_key("k")).tpm_limit is None
    assert "az-key" not in repr(Secret.api_key("az-key"))


def test_a_credentials_own_price_applies_to_every_model() -> None:
    priced = credential("priced", cost_per_1k_input=Decimal("0.5"), cost_per_1k_output=Decimal("1.5"))
    provider = provider_config(priced, Secret.api_key("k"))
    usage = Usage(input_tokens=2000, output_tokens=1000)
    book = PriceBook()
    assert book.cost(provider, "gpt-4o-mini", usage) == Decimal("2.5")
    assert book.cost(provider, "some-unknown-model", usage) == Decimal("2.5")
    plain = provider_config(credential("plain"), Secret.api_key("k"))
    assert plain.prices is None and book.cost(plain, "some-unknown-model", usage) is None
    assert credential_price(Decimal("1"), None) is None
    assert isinstance(ProviderConfig(provider_type=ProviderType.OPENAI).name, str)


async def test_auto_switch_adds_the_users_fallback_provider(gateway: Gateway) -> None:
    ann = await gateway.member("ann-fallback@example.com")
    await gateway.credential(ann, "flaky", "sk-ann", validate=False,
                             base_url=f"{gateway.mock_url}/fault/status=500/openai/v1")
    failed = await gateway.chat(ann, "flaky:gpt-4o-mini")
    assert failed.status_code == 502  # no fallback yet
    prefs = {"fallback_provider": "an", "auto_switch_provider": True}
    put = await gateway.call("PUT", "/api/me/preferences", ann, json=prefs)
    assert put.status_code == 200, put.text
    served = await gateway.chat(ann, "flaky:gpt-4o-mini")
    assert served.status_code == 200, served.text
    assert served.headers["x-byway-provider"] == "an"
    assert served.headers["x-byway-model"] == "claude-3-5-haiku-latest"  # the fallback's own default model
    assert served.headers["x-byway-attempts"] == "2"
    off = await gateway.call("PUT", "/api/me/preferences", ann, json={**prefs, "auto_switch_provider": False})
    assert off.status_code == 200
    assert (await gateway.chat(ann, "flaky:gpt-4o-mini")).status_code == 502
