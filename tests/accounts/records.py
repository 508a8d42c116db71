"""Store records made by hand, for tests of what is built from them."""

from __future__ import annotations

from datetime import UTC, datetime

from byway.store import Credential

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def credential(name: str, **fields: object) -> Credential:
    values: dict[str, object] = dict(
        id=f"cred_{name}", user_id="usr_bob", shared=False, provider_type="openai", name=name, kek_version=1,
        key_hint="sk-…", base_url="http://mock/openai/v1", model="gpt-4o-mini", models=None, is_active=True,
        is_default=False, is_valid=True, temperature=None, top_p=None, max_tokens=None, rate_limit_rpm=None,
        rate_limit_tpm=None, monthly_budget=None, priority=100, cost_per_1k_input=None, cost_per_1k_output=None, extra=None,
        created_at=NOW, updated_at=NOW)
    values.update(fields)
    return Credential(**values)  # type: ignore[arg-type]
