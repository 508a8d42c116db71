"""Accounts in the gateway: users, gateway API keys, users' provider credentials and preferences, kept in
the store (secrets sealed by the vault) and mirrored in memory for the request path.

    from byway.accounts import Accounts, SecretKey

    accounts = Accounts("sqlite:///byway-data/byway.db", SecretKey(value=secret, source="env"))
    await accounts.start()
    key, plaintext = await accounts.keys.create(principal, KeyInput(name="laptop"))
"""

from byway.accounts.accounts import Accounts
from byway.accounts.directory import Directory
from byway.accounts.guard import BaseURLGuard, GuardedTransport
from byway.accounts.secret_key import SecretKey, rotate_secret

__all__ = ["Accounts", "BaseURLGuard", "Directory", "GuardedTransport", "SecretKey", "rotate_secret"]
