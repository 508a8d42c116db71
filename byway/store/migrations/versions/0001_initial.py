"""Users, gateway keys, provider credentials, preferences, audit log, vault key versions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from byway.store.types import JSONDoc, Money, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("monthly_budget", Money()),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'member')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "gateway_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("hint", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("allowed_models", JSONDoc()),
        sa.Column("monthly_budget", Money()),
        sa.Column("rpm_limit", sa.Integer()),
        sa.Column("tpm_limit", sa.Integer()),
        sa.Column("last_used_at", UTCDateTime()),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_gateway_keys_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_gateway_keys_key_hash")),
    )
    op.create_index(op.f("ix_gateway_keys_user_id"), "gateway_keys", ["user_id"])
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40)),
        sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("provider_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("key_hint", sa.String(32), nullable=False),
        sa.Column("base_url", sa.String(2048)),
        sa.Column("model", sa.String(200)),
        sa.Column("models", JSONDoc()),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("is_valid", sa.Boolean()),
        sa.Column("temperature", sa.Float()),
        sa.Column("top_p", sa.Float()),
        sa.Column("max_tokens", sa.Integer()),
        sa.Column("rate_limit_rpm", sa.Integer()),
        sa.Column("monthly_budget", Money()),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("100")),
        sa.Column("cost_per_1k_input", Money()),
        sa.Column("cost_per_1k_output", Money()),
        sa.Column("extra", JSONDoc()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_credentials_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_credentials_user_id")),
    )
    op.create_index(op.f("ix_credentials_user_id"), "credentials", ["user_id"])
    op.create_index("uq_credentials_gateway_name", "credentials", ["name"], unique=True,
                    sqlite_where=sa.text("user_id IS NULL"), postgresql_where=sa.text("user_id IS NULL"))
    op.create_table(
        "preferences",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("default_provider", sa.String(200)),
        sa.Column("fallback_provider", sa.String(200)),
        sa.Column("preferred_models", JSONDoc()),
        sa.Column("auto_switch_provider", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("max_tokens_per_request", sa.Integer()),
        sa.Column("quota_alert_percent", sa.Integer(), nullable=False, server_default=sa.text("80")),
        sa.Column("store_conversation_history", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_preferences_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_preferences")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(64)),
        sa.Column("detail", JSONDoc()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_table(
        "vault_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_vault_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_vault_keys_fingerprint")),
    )


def downgrade() -> None:
    op.drop_table("vault_keys")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("preferences")
    op.drop_index("uq_credentials_gateway_name", table_name="credentials")
    op.drop_index(op.f("ix_credentials_user_id"), table_name="credentials")
    op.drop_table("credentials")
    op.drop_index(op.f("ix_gateway_keys_user_id"), table_name="gateway_keys")
    op.drop_table("gateway_keys")
    op.drop_table("users")
