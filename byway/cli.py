"""The ``byway`` command."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from byway.config import ConfigError, load_config

app = typer.Typer(help="Byway: a bring-your-own-key gateway for LLM providers.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="BYWAY_CONFIG",
                                                   help="YAML config file.", show_default=False)]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(code)


@app.command()
def serve(config: ConfigOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 4141,
          workers: Annotated[int, typer.Option(help="Worker processes.")] = 1) -> None:
    """Run the gateway."""
    import uvicorn

    from byway.engine import Engine
    from byway.server.app import create_app
    from byway.server.auth import MasterKey
    from byway.server.bootstrap import announce, settle

    try:
        cfg = load_config(config)
        settings = settle(cfg)
    except ConfigError as e:
        raise _fail(str(e)) from None
    announce(settings)
    names = ", ".join(p.name for p in cfg.providers) or "none yet (see the README)"
    err.print(f"byway: serving on http://{host}:{port} with providers: {names}", highlight=False)
    options = {"host": host, "port": port, "loop": "uvloop", "http": "httptools", "log_level": "warning",
               "access_log": False, "lifespan": "on", "proxy_headers": False}
    if workers > 1:
        if config is not None:
            os.environ["BYWAY_CONFIG"] = str(config)
        os.environ.setdefault("BYWAY_DATA_DIR", str(settings.data_dir))
        uvicorn.run("byway.server.factory:from_environment", factory=True, workers=workers, **options)
    else:
        application = create_app(Engine.from_config(cfg), MasterKey(settings.master_key), settings.database_url)
        uvicorn.run(application, **options)


@app.command()
def mock(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port to listen on.")] = 9200) -> None:
    """Run the mock providers (OpenAI family, Anthropic) on one port."""
    from byway.mock import serve as serve_mock

    err.print(f"byway mock: providers on http://{host}:{port} (/openai/v1, /anthropic/v1, ...)", highlight=False)
    serve_mock(host, port)


@app.command()
def chat(prompt: Annotated[str, typer.Argument(help="What to ask.")],
         model: Annotated[str, typer.Option("--model", "-m", help="provider:model or a route.")] = "",
         config: ConfigOption = None,
         system: Annotated[str | None, typer.Option(help="A system prompt.")] = None,
         max_tokens: Annotated[int | None, typer.Option(help="Most tokens to generate.")] = None) -> None:
    """Ask one question; the answer streams in, then tokens, cost and latency."""
    from byway.core import ByWayError, Message, TextDelta, TextPart, UsageReport
    from byway.library import ChatCompletionRequest, LLMManager

    try:
        cfg = load_config(config)
    except ConfigError as e:
        raise _fail(str(e)) from None
    if not cfg.providers:
        raise _fail("no providers: give --config or set a provider key such as OPENAI_API_KEY")
    if not model:
        first = min(cfg.providers, key=lambda p: p.priority)
        from byway.providers.catalog import SPECS
        default = (first.models or [SPECS[first.provider_type].default_model or ""])[0]
        model = f"{first.name}:{default}"
    messages = ([Message("system", [TextPart(system)])] if system else []) + [Message("user", [TextPart(prompt)])]
    request = ChatCompletionRequest(messages=messages, model=model, max_tokens=max_tokens)

    async def run() -> None:
        async with LLMManager(cfg.providers, cfg.routes) as manager:
            started = time.perf_counter()
            first_token: float | None = None
            usage = None
            async for event in manager.stream(request):
                if isinstance(event, TextDelta):
                    first_token = first_token or time.perf_counter()
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, UsageReport):
                    usage = event.usage
            total = time.perf_counter() - started
            sys.stdout.write("\n")
            analysis = manager.get_cost_analysis()
            cost = f"${analysis.total_cost}" if not analysis.unpriced_requests else "unknown"
            ttft = f"{(first_token - started) * 1000:.0f} ms" if first_token else "-"
            tokens = f"{usage.input_tokens} in / {usage.output_tokens} out" if usage else "not reported"
            err.print(f"[dim]{model} · tokens {tokens} · cost {cost} · first token {ttft} · "
                      f"total {total * 1000:.0f} ms[/dim]", highlight=False)

    try:
        asyncio.run(run())
    except ByWayError as e:
        raise _fail(f"error {e.status}: {e.message}", 1) from None


db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _database_url(config: Path | None) -> str:
    """The database the gateway would use: BYWAY_DATABASE_URL, the config file's, or the data dir's SQLite."""
    cfg = load_config(config)
    if cfg.database_url:
        return cfg.database_url
    data_dir = Path(os.environ.get("BYWAY_DATA_DIR") or cfg.data_dir or "byway-data")
    return f"sqlite:///{data_dir / 'byway.db'}"


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None,
               database_url: Annotated[str | None, typer.Option(
                   "--database-url", envvar="BYWAY_DATABASE_URL", show_default=False,
                   help="sqlite:///path or postgresql://user:password@host/db (default: the gateway's).")] = None,
               ) -> None:
    """Create the database schema or bring it up to date (byway serve also does this at start)."""
    from sqlalchemy.exc import SQLAlchemyError

    from byway.store import DatabaseURLError, async_url, head, upgrade

    try:
        url = database_url or _database_url(config)
        shown = async_url(url).render_as_string(hide_password=True)
        asyncio.run(upgrade(url))
    except (ConfigError, DatabaseURLError) as e:
        raise _fail(str(e)) from None
    except (SQLAlchemyError, OSError) as e:
        raise _fail(f"database error: {str(e).splitlines()[0]}", 1) from None
    err.print(f"byway: database {shown} is at schema revision {head()}", highlight=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
