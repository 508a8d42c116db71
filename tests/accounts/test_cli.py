"""``byway users|keys|credentials`` on the gateway's database, and a running gateway picking the changes up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from byway.cli import app as cli
from byway.mock import MockServer
from tests.accounts.conftest import MASTER, SECRET, serving, settings_for


class Cli:
    def __init__(self, work: Path) -> None:
        self.config = work / "byway.yaml"
        self.config.write_text("allow_private_base_urls: true\n")
        self.env = {"BYWAY_DATA_DIR": str(work / "data"), "BYWAY_MASTER_KEY": MASTER, "BYWAY_SECRET_KEY": SECRET,
                    "BYWAY_DATABASE_URL": None, "BYWAY_CONFIG": None}

    async def __call__(self, *args: str, stdin: str | None = None) -> Any:
        command = [*args, "--config", str(self.config)]
        return await asyncio.to_thread(CliRunner().invoke, cli, command, env=self.env, input=stdin)


async def test_cli_manages_accounts_and_the_gateway_follows(tmp_path: Path, mock: MockServer) -> None:
    run = Cli(tmp_path)
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path)) as gateway:
        made = await run("users", "create", "--email", "Bob@Example.com", "--role", "member")
        assert made.exit_code == 0, made.output
        user_id, email, role = made.stdout.split()
        assert user_id.startswith("usr_") and (email, role) == ("bob@example.com", "member")
        again = await run("users", "create", "--email", "bob@example.com")
        assert again.exit_code == 1 and "error 409" in again.output
        bad_role = await run("users", "create", "--email", "x@example.com", "--role", "owner")
        assert bad_role.exit_code == 2 and "--role must be admin or member" in bad_role.output

        key = await run("keys", "create", "--name", "laptop", "--user", "bob@example.com",
                        "--allowed-models", "mine:*,oa:gpt-4o-mini", "--expires-at", "2099-01-01T00:00:00Z")
        assert key.exit_code == 0, key.output
        plaintext = key.stdout.strip()
        assert plaintext.startswith("byw-") and "shown only now" in key.output
        listed = await run("keys", "list", "--user", user_id)
        assert listed.exit_code == 0 and plaintext[:8] in listed.stdout and "active" in listed.stdout
        key_id = listed.stdout.split()[0]

        refused = await run("credentials", "add", "--type", "openai", "--name", "mine", "--api-key", "bad-cli-key",
                            "--base-url", mock.url + "/openai/v1", "--user", "bob@example.com")
        assert refused.exit_code == 1 and "error 422: the provider refused the key" in refused.output
        added = await run("credentials", "add", "--type", "openai", "--name", "mine", "--api-key", "-",
                          "--base-url", mock.url + "/openai/v1", "--user", "bob@example.com", "--model", "gpt-4o",
                          stdin="sk-cli-secret-value-9876\n")
        assert added.exit_code == 0, added.output
        credential_id, name, kind, hint = added.stdout.split()[:4]
        assert (name, kind, hint) == ("mine", "openai", "sk-c…9876") and "checked with the provider" in added.stdout
        assert "sk-cli-secret-value-9876" not in added.output
        shown = await run("credentials", "list", "--user", "bob@example.com")
        assert credential_id in shown.stdout and user_id in shown.stdout
        tested = await run("credentials", "test", credential_id)
        assert tested.exit_code == 0 and tested.stdout.startswith("ok (")

        await gateway.accounts.feed.sync()  # what the poll does every few seconds
        bob = {"authorization": f"Bearer {plaintext}"}
        body = {"model": "mine", "messages": [{"role": "user", "content": "from the cli"}]}
        answer = await gateway.client.post("/v1/chat/completions", json=body, headers=bob)
        assert answer.status_code == 200 and answer.headers["x-byway-model"] == "gpt-4o"
        denied = await gateway.client.post("/v1/chat/completions", json=body | {"model": "oa:gpt-4o"}, headers=bob)
        assert denied.status_code == 403

        removed = await run("credentials", "remove", credential_id)
        assert removed.exit_code == 0 and removed.stdout.strip() == f"removed {credential_id}"
        revoked = await run("keys", "revoke", key_id)
        assert revoked.exit_code == 0 and revoked.stdout.startswith(f"revoked {key_id}")
        await gateway.accounts.feed.sync()
        answer = await gateway.client.post("/v1/chat/completions", json=body, headers=bob)
        assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
        missing = await run("credentials", "test", credential_id)
        assert missing.exit_code == 1 and f"error 404: no credential {credential_id}" in missing.output
        nobody = await run("keys", "create", "--name", "x", "--user", "nobody@example.com")
        assert nobody.exit_code == 2 and "no user with email nobody@example.com" in nobody.output


async def test_cli_sets_rate_limits_on_users_and_a_token_limit_on_credentials(tmp_path: Path,
                                                                              mock: MockServer) -> None:
    run = Cli(tmp_path)
    async with serving(tmp_path, mock.url, settings=settings_for(tmp_path)) as gateway:
        made = await run("users", "create", "--email", "ada@example.com", "--rpm-limit", "30", "--tpm-limit", "9000")
        assert made.exit_code == 0, made.output
        user_id = made.stdout.split()[0]
        plain = await run("users", "create", "--email", "bob@example.com")
        assert plain.exit_code == 0, plain.output
        for option in ("--rpm-limit", "--tpm-limit"):
            refused = await run("users", "create", "--email", "zero@example.com", option, "0")
            assert refused.exit_code == 2 and option in refused.output, refused.output
        added = await run("credentials", "add", "--type", "openai", "--name", "capped", "--api-key", "sk-cli-tpm-1",
                          "--base-url", mock.url + "/openai/v1", "--user", "ada@example.com", "--no-validate",
                          "--rate-limit-tpm", "4000")
        assert added.exit_code == 0, added.output
        credential_id = added.stdout.split()[0]
        zero = await run("credentials", "add", "--type", "openai", "--name", "zero", "--api-key", "sk-cli-tpm-2",
                         "--base-url", mock.url + "/openai/v1", "--no-validate", "--rate-limit-tpm", "0")
        assert zero.exit_code == 2 and "--rate-limit-tpm" in zero.output, zero.output

        users = {u["email"]: (u["rpm_limit"], u["tpm_limit"])
                 for u in (await gateway.call("GET", "/api/users")).json()["data"]}
        assert users == {"admin@localhost": (None, None), "ada@example.com": (30, 9000),
                         "bob@example.com": (None, None)}
        shown = (await gateway.call("GET", f"/api/credentials/{credential_id}")).json()
        assert (shown["name"], shown["user_id"], shown["rate_limit_tpm"]) == ("capped", user_id, 4000)
        assert [c["name"] for c in (await gateway.call("GET", "/api/credentials")).json()["data"]] == ["capped"]
