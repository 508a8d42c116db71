"""The tables. Migrations (``byway/store/migrations``) create exactly this; a test compares the two.

Ids are text made by Byway (:mod:`byway.store.ids`). Money is :class:`~byway.store.types.Money`,
times are :class:`~byway.store.types.UTCDateTime`. Usage records and budget alerts came with the
metering work (migration 0002).
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
    Text,
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
    Column("rpm_limit", Integer),  # across all the user's keys (migration 0002)
    Column("tpm_limit", Integer),
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
    Column("rate_limit_tpm", Integer),  # migration 0002
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

# One row per client request that reached a provider (CONTRACT §9). No foreign keys: the record of what
# was spent outlives the user, key or credential that spent it.
usage_records = Table(
    "usage_records", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, unique=True),  # replays after a crash insert once
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("user_id", String(ID)),
    Column("key_id", String(ID)),
    Column("credential", String(ID)),  # the credential's id when a stored credential served it
    Column("provider", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("endpoint", String(32), nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("cached_tokens", Integer, nullable=False),
    Column("cache_write_tokens", Integer, nullable=False),
    Column("reasoning_tokens", Integer, nullable=False),
    Column("cost", Money()),  # NULL: the price is unknown
    Column("estimated", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),
    Column("status_code", Integer, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("error", Text),
    Column("attempts", JSONDoc()),
)
Index("ix_usage_records_user_created", usage_records.c.user_id, usage_records.c.created_at)
Index("ix_usage_records_provider_created", usage_records.c.provider, usage_records.c.created_at)

# A budget crossing its owner's alert threshold, once per budget and month.
budget_alerts = Table(
    "budget_alerts", metadata,
    Column("id", String(ID), primary_key=True),
    Column("scope", String(250), nullable=False),  # user:ID, key:ID, credential:ID or provider:NAME
    Column("period", String(7), nullable=False),  # YYYY-MM (UTC)
    Column("user_id", String(ID), index=True),  # whose alert it is (None: a config provider's, for admins)
    Column("percent", Integer, nullable=False),
    Column("spent", Money(), nullable=False),
    Column("budget", Money(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),  # when the alert webhook took it
    UniqueConstraint("scope", "period"),
)
