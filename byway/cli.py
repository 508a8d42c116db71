"""The ``byway`` command."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from byway.config import ConfigError, load_config

if TYPE_CHECKING:
    from byway.accounts import Accounts

app = typer.Typer(help="Byway: a bring-your-own-key gateway for LLM providers.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", envvar="BYWAY_CONFIG",
                                                   help="YAML config file.", show_default=False)]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def serve(config: ConfigOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 4141,
          workers: Annotated[int, typer.Option(help="Worker processes.")] = 1) -> None:
    """Run the gateway."""
    import uvicorn

    from byway.server.bootstrap import announce, settle
    from byway.server.factory import build_app, prepare

    try:
        cfg = load_config(config)
        settings = settle(cfg)
    except ConfigError as e:
        raise _fail(str(e)) from None
    _run(prepare(cfg, settings))  # schema, vault and first admin, before anything listens
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
        uvicorn.run(build_app(cfg, settings, writer_process=True), **options)


@app.command()
def mock(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port to listen on.")] = 9200) -> None:
    """Run the mock providers (every provider family) on one port."""
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


# --- accounts: users, gateway keys, provider credentials, the secret key -------------------------------------

T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a failure it can explain ends the command with that one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from byway.core import ByWayError
    from byway.store import DatabaseURLError, StoreError
    from byway.vault import VaultError

    try:
        return asyncio.run(work)
    except ByWayError as e:
        raise _fail(f"error {e.status}: {e.message}", 1) from None
    except (ConfigError, DatabaseURLError, VaultError, StoreError) as e:
        raise _fail(str(e)) from None
    except (SQLAlchemyError, OSError) as e:
        raise _fail(f"database error: {str(e).splitlines()[0]}", 1) from None


@asynccontextmanager
async def _accounts(config: Path | None) -> AsyncIterator[Accounts]:
    """The gateway's accounts, opened on its database with its secret key (no running gateway needed:
    one that is running picks the change up within seconds)."""
    from byway.server.bootstrap import settle
    from byway.server.factory import accounts_for

    cfg = load_config(config)
    accounts = accounts_for(cfg, settle(cfg), poll_seconds=0)
    async with accounts:
        yield accounts


def _secret_value(value: str | None) -> str | None:
    """A secret given on the command line, or ``-`` to read it from standard input."""
    if value == "-":
        return sys.stdin.readline().strip()
    return value


async def _user_id(accounts: Accounts, user: str | None) -> str | None:
    """A user given by email or id (None: not given)."""
    from byway.store import ADMIN

    if user is None:
        return None
    if user.startswith("usr_"):
        return (await accounts.users.get(ADMIN, user)).id
    found = await accounts.store.users.by_email(user)
    if found is None:
        raise _fail(f"no user with email {user}")
    return found.id


def _csv(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


users_app = typer.Typer(help="Users of the gateway (admins and members).", no_args_is_help=True)
keys_app = typer.Typer(help="Gateway API keys (byw-...).", no_args_is_help=True)
credentials_app = typer.Typer(help="Provider credentials (bring your own key).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(credentials_app, name="credentials")
UserOption = Annotated[str | None, typer.Option("--user", help="The user's email or id.", show_default=False)]


@users_app.command("create")
def users_create(email: Annotated[str, typer.Option(help="The user's email (their sign-in name).")],
                 role: Annotated[str, typer.Option(help="admin or member.")] = "member",
                 password: Annotated[str | None, typer.Option(
                     help="Dashboard password ('-' reads it from standard input).", show_default=False)] = None,
                 monthly_budget: Annotated[str | None, typer.Option(help="USD per month.", show_default=False)] = None,
                 rpm_limit: Annotated[int | None, typer.Option(help="Requests per minute, all their keys together.",
                                                               min=1, show_default=False)] = None,
                 tpm_limit: Annotated[int | None, typer.Option(help="Tokens per minute, all their keys together.",
                                                               min=1, show_default=False)] = None,
                 config: ConfigOption = None) -> None:
    """Add a user."""
    from byway.accounts.inputs import UserInput
    from byway.store import ADMIN

    if role not in ("admin", "member"):
        raise _fail("--role must be admin or member")
    new = UserInput(email=email, role=role, password=_secret_value(password),  # type: ignore[arg-type]
                    monthly_budget=Decimal(monthly_budget) if monthly_budget else None, rpm_limit=rpm_limit,
                    tpm_limit=tpm_limit)

    async def work() -> None:
        async with _accounts(config) as accounts:
            user = await accounts.users.create(ADMIN, new)
        print(f"{user.id} {user.email} {user.role}")

    _run(work())


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option(help="What the key is for.")],
                user: UserOption = None,
                expires_at: Annotated[str | None, typer.Option(help="ISO-8601 UTC, e.g. 2030-01-31T00:00:00Z.",
                                                               show_default=False)] = None,
                allowed_models: Annotated[str | None, typer.Option(help="Comma-separated: oa:gpt-4o-mini,an:*.",
                                                                   show_default=False)] = None,
                monthly_budget: Annotated[str | None, typer.Option(help="USD per month.", show_default=False)] = None,
                rpm_limit: Annotated[int | None, typer.Option(help="Requests per minute.", show_default=False)] = None,
                tpm_limit: Annotated[int | None, typer.Option(help="Tokens per minute.", show_default=False)] = None,
                config: ConfigOption = None) -> None:
    """Make a gateway API key (for --user, else the first admin). The key is printed once."""
    from datetime import datetime

    from byway.accounts.inputs import KeyInput
    from byway.store import ADMIN

    try:
        expires = datetime.fromisoformat(expires_at) if expires_at else None
    except ValueError:
        raise _fail(f"--expires-at: not an ISO-8601 time: {expires_at}") from None

    async def work() -> None:
        async with _accounts(config) as accounts:
            new = KeyInput(name=name, user_id=await _user_id(accounts, user), expires_at=expires,
                           allowed_models=_csv(allowed_models), rpm_limit=rpm_limit, tpm_limit=tpm_limit,
                           monthly_budget=Decimal(monthly_budget) if monthly_budget else None)
            key, plaintext = await accounts.keys.create(ADMIN, new)
        err.print(f"byway: key {key.id} ({key.name}) for user {key.user_id}; shown only now:", highlight=False)
        print(plaintext)

    _run(work())


@keys_app.command("list")
def keys_list(user: UserOption = None, config: ConfigOption = None) -> None:
    """List gateway API keys."""
    from byway.accounts.shapes import key_out
    from byway.store import ADMIN
    from byway.store.types import utcnow

    async def work() -> None:
        async with _accounts(config) as accounts:
            found = await accounts.keys.list(ADMIN, await _user_id(accounts, user))
        now = utcnow()
        for key in found:
            shown = key_out(key, now)
            expires = shown.expires_at.isoformat() if shown.expires_at else "-"
            print(f"{shown.id}  {shown.user_id}  {shown.hint}  {shown.status:<8} expires {expires}  {shown.name}")

    _run(work())


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")],
                config: ConfigOption = None) -> None:
    """Revoke a gateway API key: it stops working on its next request."""
    from byway.store import ADMIN

    async def work() -> None:
        async with _accounts(config) as accounts:
            key = await accounts.keys.revoke(ADMIN, key_id)
        print(f"revoked {key.id} ({key.name})")

    _run(work())


@credentials_app.command("add")
def credentials_add(
        provider_type: Annotated[str, typer.Option("--type", help="openai, anthropic, bedrock, vertex, ...")],
        name: Annotated[str | None, typer.Option(help="Its name (the prefix in name:model).",
                                                 show_default=False)] = None,
        api_key: Annotated[str | None, typer.Option(help="The provider key ('-' reads it from standard input).",
                                                    show_default=False)] = None,
        base_url: Annotated[str | None, typer.Option(show_default=False)] = None,
        model: Annotated[str | None, typer.Option(help="Default model.", show_default=False)] = None,
        models: Annotated[str | None, typer.Option(help="Comma-separated catalogue.", show_default=False)] = None,
        user: UserOption = None,
        shared: Annotated[bool, typer.Option(help="Usable by every member (who never see the key).")] = False,
        default: Annotated[bool, typer.Option(help="The owner's default provider.")] = False,
        validate: Annotated[bool, typer.Option(help="Check the key with the provider first.")] = True,
        aws_access_key_id: Annotated[str | None, typer.Option(show_default=False)] = None,
        aws_secret_access_key: Annotated[str | None, typer.Option(
            help="('-' reads it from standard input)", show_default=False)] = None,
        region: Annotated[str | None, typer.Option(show_default=False)] = None,
        credentials_file: Annotated[Path | None, typer.Option(help="Vertex: the service-account key file.",
                                                             show_default=False)] = None,
        project: Annotated[str | None, typer.Option(show_default=False)] = None,
        location: Annotated[str | None, typer.Option(show_default=False)] = None,
        api_version: Annotated[str | None, typer.Option(show_default=False)] = None,
        rate_limit_tpm: Annotated[int | None, typer.Option(help="Tokens per minute through this credential.",
                                                           min=1, show_default=False)] = None,
        config: ConfigOption = None) -> None:
    """Add a provider credential (for --user, else the gateway's own)."""
    import msgspec

    from byway.accounts.inputs import CredentialInput
    from byway.accounts.shapes import credential_out
    from byway.store import ADMIN

    fields = {"api_key": _secret_value(api_key), "base_url": base_url,
              "aws_access_key_id": aws_access_key_id, "aws_secret_access_key": _secret_value(aws_secret_access_key),
              "region": region, "project": project, "location": location, "api_version": api_version,
              "credentials_json": credentials_file.read_text() if credentials_file else None}

    async def work() -> None:
        async with _accounts(config) as accounts:
            document = {k: v for k, v in fields.items() if v is not None} | {
                "provider_type": provider_type, "name": name, "model": model, "models": _csv(models),
                "shared": shared, "is_default": default, "validate": validate, "rate_limit_tpm": rate_limit_tpm,
                "user_id": await _user_id(accounts, user)}
            try:
                new = msgspec.convert(document, CredentialInput)
            except msgspec.ValidationError as e:
                raise _fail(str(e)) from None
            credential = await accounts.credentials.create(ADMIN, new)
        shown = credential_out(credential, ADMIN)
        print(f"{shown.id} {shown.name} {shown.provider_type} {shown.key_hint} model {shown.model}"
              + (" (checked with the provider)" if validate else " (not checked)"))

    _run(work())


@credentials_app.command("list")
def credentials_list(user: UserOption = None, config: ConfigOption = None) -> None:
    """List provider credentials (all, or --user's own and the shared ones)."""
    from byway.store import ADMIN, As

    async def work() -> None:
        async with _accounts(config) as accounts:
            user_id = await _user_id(accounts, user)
            actor = As("member", user_id) if user_id else ADMIN
            found = await accounts.credentials.list(actor)
        for c in found:
            owner = c.user_id or "gateway"
            flags = ",".join(f for f, on in (("shared", c.shared), ("default", c.is_default),
                                              ("inactive", not c.is_active), ("invalid", c.is_valid is False)) if on)
            print(f"{c.id}  {c.name}  {c.provider_type}  {owner}  {c.key_hint}  {c.model or '-'}  {flags or '-'}")

    _run(work())


@credentials_app.command("test")
def credentials_test(credential_id: Annotated[str, typer.Argument(help="The credential's id (cred_...).")],
                     config: ConfigOption = None) -> None:
    """Check a stored credential with its provider now."""
    from byway.store import ADMIN

    async def work() -> bool:
        async with _accounts(config) as accounts:
            outcome = await accounts.credentials.test(ADMIN, credential_id)
        if outcome.ok:
            print(f"ok ({outcome.latency_ms:.0f} ms)")
        else:
            print(f"failed ({outcome.latency_ms:.0f} ms): {outcome.error}")
        return outcome.ok

    if not _run(work()):
        raise typer.Exit(1)


@credentials_app.command("remove")
def credentials_remove(credential_id: Annotated[str, typer.Argument(help="The credential's id (cred_...).")],
                       config: ConfigOption = None) -> None:
    """Delete a provider credential."""
    from byway.store import ADMIN

    async def work() -> None:
        async with _accounts(config) as accounts:
            await accounts.credentials.delete(ADMIN, credential_id)
        print(f"removed {credential_id}")

    _run(work())


@app.command("rotate-secret")
def rotate_secret(new_secret: Annotated[str | None, typer.Option(
                      help="The new secret key (at least 32 characters; default: generated).",
                      show_default=False)] = None,
                  config: ConfigOption = None) -> None:
    """Re-encrypt every credential under a new secret key, while gateways keep serving."""
    from byway.accounts.secret_key import rotate_secret as rotate
    from byway.server.bootstrap import settle
    from byway.store import Store, upgrade

    cfg = load_config(config)
    settings = settle(cfg)

    async def work() -> Any:
        await upgrade(settings.database_url)
        async with Store.open(settings.database_url) as store:
            return await rotate(store, settings.secret, new_secret)

    done = _run(work())
    r = done.rotation
    err.print(f"byway: re-sealed {r.resealed} credential(s) from key version {r.old_version} to {r.new_version}",
              highlight=False)
    if done.recorded:
        err.print(f"byway: the new secret key is in {settings.data_dir / 'secret.key'}; running gateways switch "
                  "to it within seconds", highlight=False)
    else:
        where = "BYWAY_SECRET_KEY" if settings.secret_source == "env" else "the config file's secret_key"
        err.print(f"byway: put the new secret key in {where} and restart the gateways (they keep serving until "
                  "then):", highlight=False)
        print(done.new_secret)


@app.command()
def usage(by: Annotated[str, typer.Option("--by", help="Group by provider, model or day.")] = "provider",
          month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (UTC); default: this month.",
                                                    show_default=False)] = None,
          config: ConfigOption = None) -> None:
    """A month's usage from the gateway's database as a table: requests, tokens and cost per group."""
    from rich.table import Table

    from byway.core.periods import current_period, month_range
    from byway.store import ADMIN, Store, upgrade
    from byway.store.usage_reports import GroupUsage, UsageReports

    if by not in ("provider", "model", "day"):
        raise _fail(f"--by: one of provider, model or day, not {by!r}")
    period = month or current_period()
    try:
        start, end = month_range(period)
    except ValueError:
        raise _fail(f"--month: not a month (YYYY-MM): {period!r}") from None
    try:
        url = os.environ.get("BYWAY_DATABASE_URL") or _database_url(config)
    except ConfigError as e:
        raise _fail(str(e)) from None

    async def work() -> list[GroupUsage]:
        await upgrade(url)
        async with Store.open(url) as store:
            return await UsageReports(store.engine).grouped(ADMIN, by, start, end)  # type: ignore[arg-type]

    with err.status(f"reading the usage of {period}…"):
        groups = _run(work())
    if not groups:
        print(f"No usage recorded in {period} (UTC).")
        return

    def usd(amount: Decimal) -> str:
        return format(amount.normalize(), "f") if amount else "0"

    unpriced = any(g.unpriced for g in groups)
    table = Table(title=f"Usage in {period} (UTC) by {by}", title_justify="left")
    table.add_column(by.capitalize())
    for heading in ("Requests", "Tokens in", "Tokens out", "Cost (USD)") + (("Unpriced",) if unpriced else ()):
        table.add_column(heading, justify="right")
    for g in groups:
        table.add_row(g.group or "-", f"{g.requests:,}", f"{g.tokens_in:,}", f"{g.tokens_out:,}", usd(g.cost),
                      *((f"{g.unpriced:,}",) if unpriced else ()))
    table.add_section()
    total = sum((g.cost for g in groups), Decimal(0))
    table.add_row("Total", f"{sum(g.requests for g in groups):,}", f"{sum(g.tokens_in for g in groups):,}",
                  f"{sum(g.tokens_out for g in groups):,}", usd(total),
                  *((f"{sum(g.unpriced for g in groups):,}",) if unpriced else ()), style="bold")
    Console().print(table)
    if unpriced:
        err.print("byway: requests with an unknown price are counted, and their cost is not in the total",
                  highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
