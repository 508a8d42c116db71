"""``byway db upgrade``: migrates the named database, or the one the gateway would use."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from byway.cli import app
from byway.store import create_engine, current, head


def _revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url)
        try:
            return await current(engine)
        finally:
            await engine.dispose()
    return asyncio.run(read())


def test_upgrade_named_database_twice(blank_url: str) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade", "--database-url", blank_url])
        assert result.exit_code == 0, result.output
        assert f"is at schema revision {head()}" in result.output
    assert _revision(blank_url) == head()


def test_default_is_the_data_dir_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BYWAY_DATABASE_URL", "BYWAY_DATA_DIR", "BYWAY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _revision(f"sqlite:///{tmp_path / 'byway-data' / 'byway.db'}") == head()
    monkeypatch.setenv("BYWAY_DATA_DIR", str(tmp_path / "elsewhere"))
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "elsewhere" / "byway.db").exists()
    config = tmp_path / "byway.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'from-config.db'}\n")
    assert CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    assert _revision(f"sqlite:///{tmp_path / 'from-config.db'}") == head()


def test_bad_urls_fail_in_one_line_without_the_password() -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", "mysql://root:hunter2@db/x"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.output and "hunter2" not in result.output
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", "postgresql://u:hunter2@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert result.output.startswith("database error:") and "hunter2" not in result.output


def test_engine_sees_the_tables_after_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'dir' / 'b.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0

    async def tables() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as db:
                return set(await db.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()
    assert "credentials" in asyncio.run(tables())
