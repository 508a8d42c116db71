"""The management API's routing table: every ``/api`` route with its handler and what it takes and
answers. The table drives both dispatch (``match``) and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from byway.accounts import inputs, shapes
from byway.server.management import catalog, credentials, keys, monitoring, preferences, schemas, usage, users
from byway.server.management.http import Call, Reply

Handler = Callable[[Call], Awaitable[Reply]]


class Route(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str  # with {name} segments
    handler: Handler
    summary: str
    tag: str
    body: Any = None  # the request document type
    answer: Any = None  # the response document type (None: no body)
    status: int = 200
    admin: bool = False  # admins only
    public: bool = False  # no authentication
    query: tuple[tuple[str, str], ...] = ()  # (name, description)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))


async def _openapi(call: Call) -> Reply:
    from byway.server.management.openapi import document

    return Reply(200, document(ROUTES))


_LOG_QUERY = (("provider", "a provider (or credential) name"), ("model", "a model name"),
              ("status", "a status code, error or success"), ("user_id", "admins: one user's"),
              ("key_id", "one gateway key's"), ("from", "YYYY-MM-DD (UTC)"), ("to", "YYYY-MM-DD, counted"),
              ("limit", "at most 1000 (default 100)"), ("offset", "records to skip"))

ROUTES: tuple[Route, ...] = (
    Route(method="GET", path="/api/openapi.json", handler=_openapi, summary="This API's OpenAPI 3.1 document",
          tag="meta", answer=dict[str, Any], public=True),
    Route(method="GET", path="/api/me", handler=users.me, summary="Who the caller is", tag="users",
          answer=schemas.MeOut),
    Route(method="POST", path="/api/users", handler=users.create_user, summary="Create a user", tag="users",
          body=inputs.UserInput, answer=shapes.UserOut, status=201, admin=True),
    Route(method="GET", path="/api/users", handler=users.list_users, tag="users",
          summary="List users (a member sees only themselves)", answer=schemas.UserList),
    Route(method="GET", path="/api/users/{id}", handler=users.get_user, summary="Get a user", tag="users",
          answer=shapes.UserOut),
    Route(method="PATCH", path="/api/users/{id}", handler=users.update_user, tag="users",
          summary="Change a user (a member: only their own email and password)", body=inputs.UserChange,
          answer=shapes.UserOut),
    Route(method="DELETE", path="/api/users/{id}", handler=users.delete_user, tag="users",
          summary="Delete a user with their keys, credentials and preferences", status=204, admin=True),
    Route(method="POST", path="/api/keys", handler=keys.create_key, tag="keys",
          summary="Create a gateway API key (the answer holds the key, shown only once)", body=inputs.KeyInput,
          answer=shapes.NewKeyOut, status=201),
    Route(method="GET", path="/api/keys", handler=keys.list_keys, summary="List gateway API keys", tag="keys",
          answer=schemas.KeyList, query=(("user_id", "admins: only this user's keys"),)),
    Route(method="GET", path="/api/keys/{id}", handler=keys.get_key, summary="Get a gateway API key", tag="keys",
          answer=shapes.KeyOut),
    Route(method="DELETE", path="/api/keys/{id}", handler=keys.revoke_key, tag="keys",
          summary="Revoke a gateway API key (from the next request on)", status=204),
    Route(method="POST", path="/api/credentials", handler=credentials.create_credential, tag="credentials",
          summary="Add a provider credential (checked with the provider first unless validate is false)",
          body=inputs.CredentialInput, answer=shapes.CredentialOut, status=201),
    Route(method="GET", path="/api/credentials", handler=credentials.list_credentials, tag="credentials",
          summary="List the caller's and the shared credentials (admins: all)", answer=schemas.CredentialList),
    Route(method="POST", path="/api/credentials/validate", handler=credentials.validate_credential,
          tag="credentials", summary="Check a key with the provider without storing it",
          body=inputs.ValidationInput, answer=shapes.ValidationOut),
    Route(method="GET", path="/api/credentials/{id}", handler=credentials.get_credential, tag="credentials",
          summary="Get a credential", answer=shapes.CredentialOut),
    Route(method="PATCH", path="/api/credentials/{id}", handler=credentials.update_credential, tag="credentials",
          summary="Change a credential (a new key is checked again unless validate is false)",
          body=inputs.CredentialChange, answer=shapes.CredentialOut),
    Route(method="DELETE", path="/api/credentials/{id}", handler=credentials.delete_credential, tag="credentials",
          summary="Delete a credential", status=204),
    Route(method="POST", path="/api/credentials/{id}/test", handler=credentials.test_credential,
          tag="credentials", summary="Check a stored credential with its provider now", answer=shapes.CheckOut),
    Route(method="GET", path="/api/provider-types", handler=catalog.provider_types, tag="catalog",
          summary="Every provider type: what it needs, where to get a key, default and suggested models",
          answer=schemas.ProviderTypeList),
    Route(method="GET", path="/api/models", handler=catalog.models, tag="catalog",
          summary="A credential's live model list (without credential: the models the caller may use)",
          answer=schemas.ModelList, query=(("credential", "a credential id"),)),
    Route(method="GET", path="/api/me/preferences", handler=preferences.get_preferences, tag="preferences",
          summary="The caller's preferences", answer=shapes.PreferencesOut),
    Route(method="PUT", path="/api/me/preferences", handler=preferences.put_preferences, tag="preferences",
          summary="Replace the caller's preferences", body=inputs.PreferencesInput, answer=shapes.PreferencesOut),
    Route(method="GET", path="/api/providers/health", handler=monitoring.provider_health, tag="monitoring",
          summary="Every provider connection's health: verdict with reason, latency p50/p95, error rate, circuit",
          answer=monitoring.HealthList, admin=True, query=(("check", "true: check every configured provider now"),)),
    Route(method="GET", path="/api/providers/status", handler=monitoring.provider_status, tag="monitoring",
          summary="Each provider connection: type, enabled, models, health verdict, circuit, requests, error rate",
          answer=schemas.ProviderStatusList, admin=True),
    Route(method="GET", path="/api/providers/metrics", handler=monitoring.provider_metrics, tag="monitoring",
          summary="Every provider's statistics since start or the last reset, with totals",
          answer=schemas.ProviderMetricsList, admin=True),
    Route(method="GET", path="/api/providers/metrics/{provider}", handler=monitoring.one_provider_metrics,
          tag="monitoring", summary="One provider's statistics (a config name, or credential:ID)",
          answer=monitoring.ProviderMetrics, admin=True),
    Route(method="POST", path="/api/providers/metrics/reset", handler=monitoring.reset_metrics, tag="monitoring",
          summary="Start the provider statistics afresh", status=204, admin=True),
    Route(method="GET", path="/api/providers/costs", handler=monitoring.provider_costs, tag="monitoring",
          summary="A month's cost per provider and model (from the usage records), and since start",
          answer=schemas.ProviderCostsOut, admin=True, query=(("period", "YYYY-MM (UTC); default: this month"),)),
    Route(method="GET", path="/api/usage/summary", handler=usage.usage_summary, tag="usage",
          summary="A month's spend, budget, remaining and utilization, in all and per provider",
          answer=schemas.UsageSummaryOut, query=(("period", "YYYY-MM (UTC); default: this month"),)),
    Route(method="GET", path="/api/usage", handler=usage.usage_grouped, tag="usage",
          summary="Requests, tokens, cost and errors per day, provider, model, key or user",
          answer=schemas.UsageGroupList, query=(("group_by", "day (default), provider, model, key or user"),
                                               ("from", "YYYY-MM-DD (UTC); default: this month's first day"),
                                               ("to", "YYYY-MM-DD, counted; default: this month's last day"))),
    Route(method="GET", path="/api/usage/export", handler=usage.usage_export, tag="usage",
          summary="The usage records as CSV (text/csv, one row per record, streamed)",
          query=(("format", "csv"), ("from", "YYYY-MM-DD (UTC); default: this month's first day"),
                 ("to", "YYYY-MM-DD, counted; default: this month's last day"))),
    Route(method="GET", path="/api/logs", handler=usage.request_logs, tag="usage",
          summary="The caller's usage records (admins: everyone's), newest first", answer=schemas.UsageLogList,
          query=_LOG_QUERY),
    Route(method="GET", path="/api/providers/logs", handler=usage.provider_logs, tag="monitoring",
          summary="Every user's usage records, newest first", answer=schemas.UsageLogList, admin=True,
          query=_LOG_QUERY),
    Route(method="GET", path="/api/providers/logs/{provider}", handler=usage.provider_logs, tag="monitoring",
          summary="One provider's usage records (every user's), newest first", answer=schemas.UsageLogList,
          admin=True, query=_LOG_QUERY[1:]),
    Route(method="GET", path="/api/alerts", handler=usage.list_alerts, tag="usage",
          summary="Budget alerts (a member: their own), newest first", answer=schemas.AlertList,
          query=(("period", "YYYY-MM (UTC): only this month's"),)),
)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route for ``method`` and ``path`` with its path parameters, and whether the path exists
    under another method (for 405)."""
    parts = tuple(path.strip("/").split("/"))
    other_method = False
    for route in ROUTES:
        params = _params(route.segments, parts)
        if params is None:
            continue
        if route.method == method:
            return route, params, False
        other_method = True
    return None, {}, other_method


def _params(pattern: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, parts, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params
