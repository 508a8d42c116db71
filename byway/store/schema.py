"""The tables. Migrations (``byway/store/migrations``) create exactly this; a test compares the two.

Ids are text made by Byway (:mod:`byway.store.ids`). Money is :class:`~byway.store.types.Money`,
times are :class:`~byway.store.types.UTCDateTime`. Usage records arrive with the metering work,
in their own migration.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
    true,
)

from byway.store.types import JSONDoc, Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ID = 40  # "cred_" + 32 hex digits, with room to spare

users = Table(
    "users", metadata,
    Column("id", String(ID), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255)),
    Column("role", String(16), nullable=False),
    Column("monthly_budget", Money()),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("role IN ('admin', 'member')", name="role"),
)

gateway_keys = Table(
    "gateway_keys", metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("hint", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    Column("allowed_models", JSONDoc()),
    Column("monthly_budget", Money()),
    Column("rpm_limit", Integer),
    Column("tpm_limit", Integer),
    Column("last_used_at", UTCDateTime()),
)

credentials = Table(
    "credentials", metadata,
    Column("id", String(ID), primary_key=True),
    # None: owned by the gateway itself (made with the master key); such credentials are admin-managed.
    Column("user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), index=True),
    Column("shared", Boolean, nullable=False, server_default=false()),
    Column("provider_type", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("nonce", LargeBinary(12), nullable=False),
    Column("kek_version", Integer, nullable=False),
    Column("key_hint", String(32), nullable=False),
    Column("base_url", String(2048)),
    Column("model", String(200)),
    Column("models", JSONDoc()),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    Column("is_valid", Boolean),  # None: never tested
    Column("temperature", Float),
    Column("top_p", Float),
    Column("max_tokens", Integer),
    Column("rate_limit_rpm", Integer),
    Column("monthly_budget", Money()),
    Column("priority", Integer, nullable=False, server_default=text("100")),
    Column("cost_per_1k_input", Money()),
    Column("cost_per_1k_output", Money()),
    Column("extra", JSONDoc()),  # non-secret type fields: region, project, location, api_version
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", "name"),
)
# NULL owners are all distinct to a UNIQUE constraint, so the gateway's own names get a partial index.
Index("uq_credentials_gateway_name", credentials.c.name, unique=True,
      sqlite_where=credentials.c.user_id.is_(None), postgresql_where=credentials.c.user_id.is_(None))

preferences = Table(
    "preferences", metadata,
    Column("user_id", String(ID), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("default_provider", String(200)),
    Column("fallback_provider", String(200)),
    Column("preferred_models", JSONDoc()),
    Column("auto_switch_provider", Boolean, nullable=False, server_default=false()),
    Column("max_tokens_per_request", Integer),
    Column("quota_alert_percent", Integer, nullable=False, server_default=text("80")),
    Column("store_conversation_history", Boolean, nullable=False, server_default=false()),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("actor", String(64), nullable=False),  # a user id, or "master"
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(64)),
    Column("detail", JSONDoc()),
)

vault_keys = Table(
    "vault_keys", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("retired_at", UTCDateTime()),
)
