"""Usage records and budget alerts; rate limits on users (rpm, tpm) and a token limit on credentials.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from byway.store.types import JSONDoc, Money, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.String(40)),
        sa.Column("key_id", sa.String(40)),
        sa.Column("credential", sa.String(40)),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(32), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", Money()),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ttft_ms", sa.Float()),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", JSONDoc()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("request_id", name=op.f("uq_usage_records_request_id")),
    )
    op.create_index(op.f("ix_usage_records_created_at"), "usage_records", ["created_at"])
    op.create_index("ix_usage_records_user_created", "usage_records", ["user_id", "created_at"])
    op.create_index("ix_usage_records_provider_created", "usage_records", ["provider", "created_at"])
    op.create_table(
        "budget_alerts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(250), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("user_id", sa.String(40)),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("spent", Money(), nullable=False),
        sa.Column("budget", Money(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_alerts")),
        sa.UniqueConstraint("scope", "period", name=op.f("uq_budget_alerts_scope")),
    )
    op.create_index(op.f("ix_budget_alerts_user_id"), "budget_alerts", ["user_id"])
    op.add_column("users", sa.Column("rpm_limit", sa.Integer()))
    op.add_column("users", sa.Column("tpm_limit", sa.Integer()))
    op.add_column("credentials", sa.Column("rate_limit_tpm", sa.Integer()))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild of ``users`` would drop the table,
    # and with foreign keys on that deletes every key and credential through ON DELETE CASCADE.
    op.drop_column("credentials", "rate_limit_tpm")
    op.drop_column("users", "tpm_limit")
    op.drop_column("users", "rpm_limit")
    op.drop_index(op.f("ix_budget_alerts_user_id"), table_name="budget_alerts")
    op.drop_table("budget_alerts")
    op.drop_index("ix_usage_records_provider_created", table_name="usage_records")
    op.drop_index("ix_usage_records_user_created", table_name="usage_records")
    op.drop_index(op.f("ix_usage_records_created_at"), table_name="usage_records")
    op.drop_table("usage_records")
