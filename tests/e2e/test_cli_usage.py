"""``byway usage``: a month's records from the gateway's database as a table with a total row; an empty
month says so; bad options end with one clear line and status 2."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from byway.core.usage_record import UsageRecord
from byway.store import Store, upgrade


def byway(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "BYWAY_DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "byway.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**env, "BYWAY_DATA_DIR": str(data), "COLUMNS": "160"})


def rec(n: int, when: str, provider: str, model: str, cost: str | None, tokens_in: int, tokens_out: int,
        **kw: Any) -> UsageRecord:
    return UsageRecord(request_id=f"req_cli_{n}", created_at=datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp(),
                       user_id="usr_ada", key_id="key_ada", credential=None, provider=provider, model=model,
                       endpoint="chat.completions", stream=False, tokens_in=tokens_in, tokens_out=tokens_out,
                       cost=Decimal(cost) if cost is not None else None, **kw)


RECORDS = [
    rec(1, "2025-02-28T23:59:59", "oa", "gpt-4o-mini", "100", 1, 1),  # February: not counted
    rec(2, "2025-03-01T00:00:00", "oa", "gpt-4o-mini", "0.0000039", 10, 4),
    rec(3, "2025-03-01T12:00:00", "oa", "gpt-4o", "1.25", 2000, 300),
    rec(4, "2025-03-02T08:00:00", "an", "claude-3-5-haiku-latest", "0.5000000001", 1500, 20),
    rec(5, "2025-03-31T23:59:59", "local", "llama3", None, 40, 50, estimated=True),
    rec(6, "2025-04-01T00:00:00", "oa", "gpt-4o-mini", "100", 1, 1),  # April: not counted
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-usage") / "data"
    url = f"sqlite:///{data / 'byway.db'}"

    async def fill() -> None:
        await upgrade(url)
        async with Store.open(url) as store:
            await store.usage.insert(RECORDS)

    asyncio.run(fill())
    return data


def rows(table: str) -> dict[str, list[str]]:
    """The table's rows by their first cell (box-drawing characters dropped)."""
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if len(cells) >= 5 and not set(cells[0]) <= set("━─┏┡└╇"):
            found[cells[0]] = cells[1:]
    return found


def test_usage_by_provider_with_a_total_row(data: Path) -> None:
    done = byway("usage", "--month", "2025-03", data=data)
    assert done.returncode == 0, done.stderr
    assert "Usage in 2025-03 (UTC) by provider" in done.stdout
    table = rows(done.stdout)
    assert table["oa"] == ["2", "2,010", "304", "1.2500039", "0"]
    assert table["an"] == ["1", "1,500", "20", "0.5000000001", "0"]
    assert table["local"] == ["1", "40", "50", "0", "1"]
    assert table["Total"] == ["4", "3,550", "374", "1.7500039001", "1"]
    assert Decimal(table["Total"][3]) == sum((r.cost for r in RECORDS[1:5] if r.cost is not None), Decimal(0))
    assert "unknown price" in done.stderr


def test_usage_by_model_and_by_day(data: Path) -> None:
    by_model = rows(byway("usage", "--by", "model", "--month", "2025-03", data=data).stdout)
    assert set(by_model) == {"Model", "gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-latest", "llama3", "Total"}
    assert by_model["gpt-4o"][:4] == ["1", "2,000", "300", "1.25"]
    by_day = byway("usage", "--by", "day", "--month", "2025-03", data=data)
    assert by_day.returncode == 0
    days = rows(by_day.stdout)
    assert [k for k in days if k.startswith("2025")] == ["2025-03-01", "2025-03-02", "2025-03-31"]
    assert days["2025-03-01"][:4] == ["2", "2,010", "304", "1.2500039"]
    assert days["Total"][3] == "1.7500039001"
    april = rows(byway("usage", "--month", "2025-04", data=data).stdout)
    assert april["Total"] == ["1", "1", "1", "100"]


def test_a_month_without_usage_says_so(data: Path) -> None:
    done = byway("usage", "--month", "2024-11", data=data)
    assert done.returncode == 0 and done.stdout == "No usage recorded in 2024-11 (UTC).\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--by", "week"), "--by: one of provider, model or day, not 'week'"),
    (("--month", "2025-3"), "--month: not a month (YYYY-MM): '2025-3'"),
    (("--month", "2025-13"), "--month: not a month (YYYY-MM): '2025-13'"),
])
def test_bad_options_end_with_one_line(data: Path, args: tuple[str, ...], message: str) -> None:
    done = byway("usage", *args, data=data)
    assert done.returncode == 2 and done.stderr.strip() == message and "Traceback" not in done.stderr
