"""Writes the database decides: one counted row per failed-login key, idempotency keys, no self-follow.

- `login_failures` becomes one row per key with a count, so a single upsert both counts an attempt
  and refuses it past the limit (the old table, one row per failure, was read and then written).
  Its rows only matter for the length of a window, so the table is recreated, not converted.
- `idempotency_keys` stores the answer to a write sent with an `Idempotency-Key`.
- `follows` refuses a row whose follower is its followee.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import LONG_TEXT, TIMESTAMP

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("login_failures")
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(64), primary_key=True),  # sha256 of "client|e-mail"
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_login_failures_window_started_at", "login_failures", ["window_started_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", LONG_TEXT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    with op.batch_alter_table("follows") as batch:  # SQLite adds a CHECK by rebuilding the table
        batch.create_check_constraint("not_self", "follower_id <> followee_id")


def downgrade() -> None:
    with op.batch_alter_table("follows") as batch:
        batch.drop_constraint("not_self", type_="check")
    op.drop_table("idempotency_keys")
    op.drop_table("login_failures")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failed_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_login_failures_key_hash_failed_at", "login_failures", ["key_hash", "failed_at"])
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])
