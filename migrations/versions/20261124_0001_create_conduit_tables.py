"""Create the tables: users, follows, articles, tags, article_tags, favorites, comments.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db import LONG_TEXT, TIMESTAMP

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    # timestamptz on PostgreSQL, DATETIME(6) on MariaDB; SQLite stores UTC text. service.db.UTCDateTime
    # reads each back as UTC.
    return [
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    ]


def _user_fk(column: str) -> sa.Column[int]:
    return sa.Column(column, sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _article_fk() -> sa.Column[int]:
    return sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(32), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("image", sa.String(2048), nullable=True),
        *_timestamps(),
    )
    op.create_table(
        "follows",
        _user_fk("follower_id"),
        _user_fk("followee_id"),
        sa.PrimaryKeyConstraint("follower_id", "followee_id"),
    )
    op.create_index("ix_follows_followee_id", "follows", ["followee_id"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(255), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("body", LONG_TEXT, nullable=False),
        _user_fk("author_id"),
        *_timestamps(),
    )
    # newest-first lists and the feed / author filter
    op.create_index("ix_articles_created_at_id", "articles", ["created_at", "id"])
    op.create_index("ix_articles_author_id_created_at", "articles", ["author_id", "created_at"])

    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
    )
    op.create_table(
        "article_tags",
        _article_fk(),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "tag_id"),
    )
    op.create_index("ix_article_tags_tag_id", "article_tags", ["tag_id"])

    op.create_table(
        "favorites",
        _user_fk("user_id"),
        _article_fk(),
        sa.PrimaryKeyConstraint("user_id", "article_id"),
    )
    op.create_index("ix_favorites_article_id", "favorites", ["article_id"])

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        _article_fk(),
        _user_fk("author_id"),
        *_timestamps(),
    )
    op.create_index("ix_comments_article_id_created_at", "comments", ["article_id", "created_at"])
    op.create_index("ix_comments_author_id", "comments", ["author_id"])


def downgrade() -> None:
    for table in ("comments", "favorites", "article_tags", "tags", "articles", "follows", "users"):
        op.drop_table(table)  # dropping a table drops its indexes
