"""The usage API through a real ``byway serve``: summary, grouped usage, CSV export, request logs and
budget alerts, over records written into the gateway's database (two members, the master key, an unknown
price, a failure, a past month); its totals equal the sum of its records to the last decimal, and a
member never sees another's records. The last test makes real requests through the mock OpenAI and reads
their records back through the same API."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from byway.accounting.budgets import Alert
from byway.core.periods import current_period, month_range
from byway.core.usage_record import AttemptRecord, UsageRecord
from byway.mock import MockServer
from byway.store import Store
from tests.serving import serving

MASTER = "byw-master-usage-api-0123456789abcdef"


def _config(work: Path, mock: MockServer) -> Path:
    config = work / "byway.yaml"
    config.write_text(f"""
allow_private_base_urls: true
providers:
  - name: oa
    type: openai
    api_key: sk-usage-api
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini]
    monthly_budget: 50
""")
    return config


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def get(self, path: str, key: str = MASTER, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"authorization": f"Bearer {key}"})

    def ok(self, path: str, key: str = MASTER, **params: Any) -> Any:
        answer = self.get(path, key, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict[str, Any], key: str = MASTER) -> dict[str, Any]:
        answer = self.http.post(path, json=body, headers={"authorization": f"Bearer {key}"})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]


class Member:
    def __init__(self, user_id: str, key: str, key_id: str) -> None:
        self.user_id = user_id
        self.key = key
        self.key_id = key_id


def _member(api: Api, email: str, budget: str | None) -> Member:
    user = api.post("/api/users", {"email": email, "role": "member", "monthly_budget": budget})
    key = api.post("/api/keys", {"name": "usage", "user_id": user["id"]})
    return Member(user["id"], key["key"], key["id"])


def _record(n: int, when: datetime, who: Member | None, provider: str = "oa", cost: str | None = "0",
            **kw: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "request_id": f"req_usage_api_{n:04d}", "created_at": when.timestamp(),
        "user_id": who.user_id if who else None, "key_id": who.key_id if who else None, "credential": None,
        "provider": provider, "model": "gpt-4o-mini", "endpoint": "chat.completions", "stream": False,
        "tokens_in": 10, "tokens_out": 4, "cost": Decimal(cost) if cost is not None else None, "latency_ms": 50.0,
        "attempts": (AttemptRecord(provider, kw.get("model", "gpt-4o-mini"), kw.pop("upstream", 200), 40.0),)}
    values.update(kw)
    return UsageRecord(**values)


async def _write(database_url: str, records: list[UsageRecord], alerts: list[Alert]) -> None:
    async with Store.open(database_url) as store:
        await store.usage.insert(records)
        for alert in alerts:
            await store.alerts.insert(alert)


class Scene:
    def __init__(self, api: Api, alice: Member, bob: Member, records: list[UsageRecord]) -> None:
        self.api = api
        self.alice = alice
        self.bob = bob
        self.records = records


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, mock: MockServer) -> Iterator[Scene]:
    work = tmp_path_factory.mktemp("usage-api")
    with serving(_config(work, mock), work, MASTER) as url:
        api = Api(url)
        alice = _member(api, "alice@example.com", "10")
        bob = _member(api, "bob@example.com", "2.5")
        mine = api.post("/api/credentials", {"provider_type": "openai", "name": "mine", "api_key": "sk-alice-own",
                                             "base_url": f"{mock.url}/openai/v1", "validate": False,
                                             "monthly_budget": "3"}, alice.key)
        api.post("/api/credentials", {"provider_type": "openai", "name": "team", "api_key": "sk-team-shared",
                                      "base_url": f"{mock.url}/openai/v1", "validate": False, "shared": True,
                                      "monthly_budget": "7"})
        start, _ = month_range(current_period())
        hour = timedelta(hours=1)
        records = [
            _record(1, start + hour, alice, cost="0.0000039000"),
            _record(2, start + 2 * hour, alice, "mine", cost=None, credential=mine["id"], model="gpt-4o",
                    tokens_in=100, tokens_out=50, estimated=True),
            _record(3, start + 3 * hour, alice, tokens_in=0, tokens_out=0, status_code=502, success=False,
                    error="every target failed", upstream=500),
            _record(4, start + timedelta(days=1, hours=1), alice, "team", cost="0.25", cached_tokens=30,
                    reasoning_tokens=12, stream=True, ttft_ms=12.5),
            _record(5, start + 2.5 * hour, bob, cost="1.5000000001", tokens_in=2000, tokens_out=300),
            _record(6, start + timedelta(days=1), bob, "team", cost="0.75"),
            _record(7, start + 4 * hour, None, cost="0.1"),
            _record(8, datetime(2025, 3, 15, 12, tzinfo=UTC), alice, cost="9"),
            _record(9, datetime(2025, 3, 16, 12, tzinfo=UTC), bob, cost="4"),
        ]
        now = datetime.now(UTC).timestamp()
        alerts = [
            Alert(scope=f"user:{alice.user_id}", period="2025-03", user_id=alice.user_id, percent=80,
                  spent=Decimal("9"), budget=Decimal("10"), at=now - 10),
            Alert(scope=f"user:{bob.user_id}", period=current_period(), user_id=bob.user_id, percent=80,
                  spent=Decimal("2.2500000001"), budget=Decimal("2.5"), at=now - 5),
            Alert(scope=f"credential:{mine['id']}", period=current_period(), user_id=alice.user_id, percent=90,
                  spent=Decimal("2.8"), budget=Decimal("3"), at=now),
        ]
        asyncio.run(_write(f"sqlite:///{work / 'data' / 'byway.db'}", records, alerts))
        yield Scene(api, alice, bob, records)


def _sum(costs: list[str | None]) -> Decimal:
    return sum((Decimal(c) for c in costs if c is not None), Decimal(0))


def _all_logs(api: Api, key: str, **params: Any) -> list[dict[str, Any]]:
    return api.ok("/api/logs", key, limit=1000, **params)["data"]  # type: ignore[no-any-return]


def test_the_summary_equals_the_sum_of_the_logs(scene: Scene) -> None:
    api, alice, bob = scene.api, scene.alice, scene.bob
    for key in (MASTER, alice.key, bob.key):
        summary = api.ok("/api/usage/summary", key)
        this_month = [r for r in _all_logs(api, key) if r["created_at"][:7] == current_period()]
        assert Decimal(summary["total_spent"]) == _sum([r["cost"] for r in this_month])
        assert summary["requests"] == len(this_month)
        for row in summary["by_provider"]:
            theirs = [r for r in this_month if r["provider"] == row["provider"]]
            assert Decimal(row["spent"]) == _sum([r["cost"] for r in theirs]) and row["requests"] == len(theirs)

    everyone = api.ok("/api/usage/summary")
    assert everyone["period"] == current_period()
    assert Decimal(everyone["total_spent"]) == Decimal("2.6000039001")
    assert (everyone["requests"], everyone["errors"], everyone["unpriced_requests"]) == (7, 1, 1)
    assert Decimal(everyone["total_budget"]) == Decimal("12.5")  # every user's budget (the first admin has none)
    assert Decimal(everyone["remaining"]) == Decimal("9.8999960999")
    assert everyone["utilization"] == "0.208"  # to 4 places, written without trailing zeros
    rows = {r["provider"]: r for r in everyone["by_provider"]}
    assert [r["provider"] for r in everyone["by_provider"]] == ["oa", "team", "mine"]
    assert rows["oa"]["requests"] == 4 and rows["oa"]["budget"] == "50" and rows["oa"]["error_rate"] == 0.25
    assert (rows["oa"]["tokens_in"], rows["oa"]["tokens_out"]) == (2020, 308)
    assert rows["oa"]["avg_latency_ms"] == 50.0
    assert Decimal(rows["team"]["budget"]) == Decimal(7)  # the gateway's own shared credential
    assert rows["mine"]["budget"] is None and rows["mine"]["unpriced_requests"] == 1  # Alice's, not the admin's


def test_a_members_summary_holds_their_budgets(scene: Scene) -> None:
    mine = scene.api.ok("/api/usage/summary", scene.alice.key)
    assert Decimal(mine["total_spent"]) == Decimal("0.2500039") and mine["requests"] == 4
    assert Decimal(mine["total_budget"]) == Decimal(10) and Decimal(mine["remaining"]) == Decimal("9.7499961")
    assert mine["utilization"] == "0.025"
    rows = {r["provider"]: r for r in mine["by_provider"]}
    assert set(rows) == {"oa", "mine", "team"}
    assert (Decimal(rows["mine"]["budget"]), Decimal(rows["team"]["budget"]), Decimal(rows["oa"]["budget"])) == (
        Decimal(3), Decimal(7), Decimal(50))
    assert rows["oa"]["error_rate"] == 0.5 and rows["oa"]["errors"] == 1
    bob = scene.api.ok("/api/usage/summary", scene.bob.key)
    assert Decimal(bob["total_spent"]) == Decimal("2.2500000001")
    assert Decimal(bob["remaining"]) == Decimal("0.2499999999") and bob["utilization"] == "0.9"
    assert {r["provider"] for r in bob["by_provider"]} == {"oa", "team"}


def test_a_past_month_and_a_month_without_usage(scene: Scene) -> None:
    march = scene.api.ok("/api/usage/summary", period="2025-03")
    assert Decimal(march["total_spent"]) == Decimal(13) and march["requests"] == 2
    assert Decimal(scene.api.ok("/api/usage/summary", scene.alice.key, period="2025-03")["total_spent"]) == 9
    empty = scene.api.ok("/api/usage/summary", scene.alice.key, period="2024-01")
    assert (empty["total_spent"], empty["requests"], empty["by_provider"]) == ("0", 0, [])
    assert empty["utilization"] == "0" and Decimal(empty["remaining"]) == 10


def test_a_member_sees_only_their_own_records(scene: Scene) -> None:
    api, alice, bob = scene.api, scene.alice, scene.bob
    hers = _all_logs(api, alice.key)
    assert sorted(r["request_id"] for r in hers) == [f"req_usage_api_{n:04d}" for n in (1, 2, 3, 4, 8)]
    assert {r["user_id"] for r in hers} == {alice.user_id}
    assert _all_logs(api, alice.key, user_id=bob.user_id) == []
    assert _all_logs(api, alice.key, key_id=bob.key_id) == []
    assert {r["user_id"] for r in _all_logs(api, bob.key)} == {bob.user_id}
    assert len(_all_logs(api, MASTER)) == len(scene.records)
    for path in ("/api/providers/logs", "/api/providers/logs/oa"):
        refused = api.get(path, alice.key)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    users = api.ok("/api/usage", alice.key, group_by="user")["data"]
    assert [(g["group"], g["requests"]) for g in users] == [(alice.user_id, 4)]


def test_logs_carry_every_field_newest_first_and_filter(scene: Scene) -> None:
    api, alice = scene.api, scene.alice
    logs = _all_logs(api, MASTER)
    assert [r["created_at"] for r in logs] == sorted((r["created_at"] for r in logs), reverse=True)
    streamed = next(r for r in logs if r["request_id"] == "req_usage_api_0004")
    assert streamed == {
        "request_id": "req_usage_api_0004", "created_at": streamed["created_at"], "user_id": alice.user_id,
        "key_id": alice.key_id, "credential": None, "provider": "team", "model": "gpt-4o-mini",
        "endpoint": "chat.completions", "stream": True, "tokens_in": 10, "tokens_out": 4, "cached_tokens": 30,
        "cache_write_tokens": 0, "reasoning_tokens": 12, "cost": "0.25", "estimated": False,
        "latency_ms": 50.0, "ttft_ms": 12.5, "status_code": 200, "success": True, "error": None,
        "attempts": [{"provider": "team", "model": "gpt-4o-mini", "status": 200, "latency_ms": 40.0}]}
    assert datetime.fromisoformat(streamed["created_at"]) == month_range(current_period())[0] + timedelta(days=1,
                                                                                                         hours=1)
    unpriced = next(r for r in logs if r["request_id"] == "req_usage_api_0002")
    assert unpriced["cost"] is None and unpriced["estimated"] is True and unpriced["credential"] is not None
    assert [r["request_id"] for r in api.ok("/api/logs", status="error")["data"]] == ["req_usage_api_0003"]
    assert [r["request_id"] for r in api.ok("/api/logs", status="502")["data"]] == ["req_usage_api_0003"]
    assert len(api.ok("/api/logs", status="success", limit=1000)["data"]) == 8
    page = [r["request_id"] for r in api.ok("/api/logs", limit=3, offset=2)["data"]]
    assert page == [r["request_id"] for r in logs[2:5]]
    assert {r["provider"] for r in api.ok("/api/logs", provider="team")["data"]} == {"team"}
    assert [r["request_id"] for r in api.ok("/api/logs", model="gpt-4o")["data"]] == ["req_usage_api_0002"]
    march = api.ok("/api/logs", **{"from": "2025-03-01", "to": "2025-03-15"})["data"]
    assert [r["request_id"] for r in march] == ["req_usage_api_0008"]  # "to" is counted; the 16th is not
    team = api.ok("/api/providers/logs/team")["data"]
    assert sorted(r["request_id"] for r in team) == ["req_usage_api_0004", "req_usage_api_0006"]
    assert len(api.ok("/api/providers/logs", limit=1000)["data"]) == len(scene.records)
    assert len(api.ok("/api/providers/logs", limit=1)["data"]) == 1


def test_grouped_usage_sums_to_the_summary(scene: Scene) -> None:
    api = scene.api
    for key in (MASTER, scene.alice.key):
        summary = api.ok("/api/usage/summary", key)
        for group_by in ("day", "provider", "model", "key", "user"):
            grouped = api.ok("/api/usage", key, group_by=group_by)
            assert grouped["group_by"] == group_by and grouped["from"].endswith("-01")
            assert sum((Decimal(g["cost"]) for g in grouped["data"]), Decimal(0)) == Decimal(summary["total_spent"])
            assert sum(g["requests"] for g in grouped["data"]) == summary["requests"]
            assert sum(g["unpriced_requests"] for g in grouped["data"]) == summary["unpriced_requests"]
    days = api.ok("/api/usage")["data"]  # by day by default
    first = month_range(current_period())[0].date()
    assert [(d["group"], d["requests"]) for d in days] == [(first.isoformat(), 5),
                                                           ((first + timedelta(days=1)).isoformat(), 2)]
    assert Decimal(days[1]["cost"]) == Decimal(1) and days[1]["cached_tokens"] == 30
    assert days[1]["reasoning_tokens"] == 12
    keys = api.ok("/api/usage", group_by="key")["data"]
    assert keys[-1]["group"] is None and Decimal(keys[-1]["cost"]) == Decimal("0.1")  # the master key's
    march = api.ok("/api/usage", group_by="user", **{"from": "2025-03-01", "to": "2025-03-31"})
    assert sorted((g["group"], Decimal(g["cost"])) for g in march["data"]) == sorted(
        [(scene.alice.user_id, Decimal(9)), (scene.bob.user_id, Decimal(4))])


def test_the_csv_export_sums_to_the_summary(scene: Scene) -> None:
    api = scene.api
    for key, expected in ((MASTER, 7), (scene.alice.key, 4), (scene.bob.key, 2)):
        answer = api.get("/api/usage/export", key, format="csv")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/csv; charset=utf-8"
        assert answer.headers["content-disposition"].startswith('attachment; filename="byway-usage-')
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(rows) == expected
        assert list(rows[0]) == ["request_id", "created_at", "user_id", "key_id", "credential", "provider", "model",
                                 "endpoint", "stream", "tokens_in", "tokens_out", "cached_tokens",
                                 "cache_write_tokens", "reasoning_tokens", "cost", "estimated", "latency_ms",
                                 "ttft_ms", "status_code", "success", "error", "attempts"]
        summary = api.ok("/api/usage/summary", key)
        assert _sum([r["cost"] or None for r in rows]) == Decimal(summary["total_spent"])
        assert sum(int(r["tokens_in"]) for r in rows) == summary["tokens_in"]
    rows = list(csv.DictReader(io.StringIO(api.get("/api/usage/export").text)))
    bob_big = next(r for r in rows if r["request_id"] == "req_usage_api_0005")
    assert bob_big["cost"] == "1.5000000001" and bob_big["success"] == "true" and bob_big["user_id"] == scene.bob.user_id
    unpriced = next(r for r in rows if r["request_id"] == "req_usage_api_0002")
    assert unpriced["cost"] == "" and unpriced["estimated"] == "true"
    march = list(csv.DictReader(io.StringIO(api.get("/api/usage/export", **{"from": "2025-03-16",
                                                                                "to": "2025-03-16"}).text)))
    assert [r["request_id"] for r in march] == ["req_usage_api_0009"]


def test_alerts_are_listed_for_their_owner(scene: Scene) -> None:
    api, alice, bob = scene.api, scene.alice, scene.bob
    everyone = api.ok("/api/alerts")["data"]
    assert [a["user_id"] for a in everyone] == [alice.user_id, bob.user_id, alice.user_id]  # newest first
    hers = api.ok("/api/alerts", alice.key)["data"]
    assert [(a["scope"].split(":")[0], a["period"], a["percent"]) for a in hers] == [
        ("credential", current_period(), 90), ("user", "2025-03", 80)]
    assert hers[0]["spent"] == "2.8" and hers[0]["budget"] == "3"
    assert hers[0]["delivered_at"] is None
    assert [a["scope"] for a in api.ok("/api/alerts", alice.key, period="2025-03")["data"]] == [
        f"user:{alice.user_id}"]
    assert [a["scope"] for a in api.ok("/api/alerts", bob.key)["data"]] == [f"user:{bob.user_id}"]


@pytest.mark.parametrize(("path", "params", "param"), [
    ("/api/usage", {"group_by": "week"}, "group_by"),
    ("/api/usage", {"from": "2025-13-01"}, "from"),
    ("/api/usage", {"to": "yesterday"}, "to"),
    ("/api/usage", {"from": "2025-03-02", "to": "2025-03-01"}, "from"),
    ("/api/usage/summary", {"period": "2025-3"}, "period"),
    ("/api/usage/summary", {"period": "2025-00"}, "period"),
    ("/api/usage/export", {"format": "xlsx"}, "format"),
    ("/api/usage/export", {"to": "2025-02-30"}, "to"),
    ("/api/logs", {"limit": "1001"}, "limit"),
    ("/api/logs", {"limit": "0"}, "limit"),
    ("/api/logs", {"limit": "ten"}, "limit"),
    ("/api/logs", {"offset": "-1"}, "offset"),
    ("/api/logs", {"status": "teapot"}, "status"),
    ("/api/providers/logs", {"limit": "5000"}, "limit"),
    ("/api/alerts", {"period": "March"}, "period"),
])
def test_bad_query_values_answer_422_naming_the_parameter(scene: Scene, path: str, params: dict[str, str],
                                                          param: str) -> None:
    answer = scene.api.get(path, **params)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["code"] == "invalid_value"
    assert error["message"].startswith(param)


# --- real requests through the gateway ----------------------------------------------------------------------


def test_requests_then_usage(tmp_path: Path, mock: MockServer) -> None:
    """Two members' requests through the mock OpenAI (plain and streamed): each has its record under its
    request id, and the summary's totals are the sum of those records, exactly."""
    with serving(_config(tmp_path, mock), tmp_path, MASTER) as url:
        api = Api(url)
        members = {"ada": _member(api, "ada@example.com", "5"), "bo": _member(api, "bo@example.com", None)}
        made: dict[str, list[tuple[str, str | None]]] = {name: [] for name in members}
        for name, member, count in (("ada", members["ada"], 3), ("bo", members["bo"], 2)):
            client = openai.OpenAI(base_url=url + "/v1", api_key=member.key, max_retries=0, timeout=30)
            for n in range(count):
                raw = client.chat.completions.with_raw_response.create(
                    model="oa:gpt-4o-mini", messages=[{"role": "user", "content": f"{name} asks {n}"}])
                made[name].append((raw.headers["x-byway-request-id"], raw.headers.get("x-byway-cost-usd")))
            with client.chat.completions.with_streaming_response.create(
                    model="oa:gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": f"{name} streams"}]) as streamed:
                list(streamed.iter_lines())
                made[name].append((streamed.headers["x-byway-request-id"], None))

        everything = _all_logs(api, MASTER)
        assert sorted(r["request_id"] for r in everything) == sorted(i for m in made.values() for i, _ in m)
        for name, member in members.items():
            logs = _all_logs(api, member.key)
            assert sorted(r["request_id"] for r in logs) == sorted(i for i, _ in made[name])
            by_id = {r["request_id"]: r for r in logs}
            for request_id, header_cost in made[name]:
                record = by_id[request_id]
                assert record["provider"] == "oa" and record["success"] and record["tokens_out"] > 0
                assert record["cost"] is not None and Decimal(record["cost"]) > 0
                if header_cost is not None:
                    assert Decimal(record["cost"]) == Decimal(header_cost)
            assert sum(r["stream"] for r in logs) == 1
            summary = api.ok("/api/usage/summary", member.key)
            assert Decimal(summary["total_spent"]) == _sum([r["cost"] for r in logs])
            assert summary["requests"] == len(logs) and summary["tokens_in"] == sum(r["tokens_in"] for r in logs)
            rows = list(csv.DictReader(io.StringIO(api.get("/api/usage/export", member.key).text)))
            assert _sum([r["cost"] for r in rows]) == Decimal(summary["total_spent"])
        total = api.ok("/api/usage/summary")
        assert Decimal(total["total_spent"]) == _sum([r["cost"] for r in everything]) and total["requests"] == 7
