"""The tables. Alembic migrations in migrations/ create them; the app never does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import LONG_TEXT, Base, UTCDateTime, utcnow

# Column sizes; the request schemas enforce the same limits so the database never truncates.
ID_MAX = 2**31 - 1  # ids are 32-bit integers on every database; a larger one can name no row
USERNAME_MAX = 32
EMAIL_MAX = 254
PASSWORD_HASH_MAX = 255
IMAGE_MAX = 2048
BIO_MAX = 2000
TITLE_MAX = 200
SLUG_MAX = 255
DESCRIPTION_MAX = 500
BODY_MAX = 65_536
COMMENT_MAX = 10_000
TAG_MAX = 32
TAGS_PER_ARTICLE_MAX = 10


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_MAX))
    bio: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(IMAGE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


follows = Table(
    "follows",
    Base.metadata,
    Column("follower_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("followee_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # "who follows X" (follower counts, cascades); the feed uses the primary key's leading column.
    Index("ix_follows_followee_id", "followee_id"),
    # Nobody follows themselves: the database refuses it, so no request has to look first.
    CheckConstraint("follower_id <> followee_id", name="not_self"),
)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        # Global list and feed: newest first; author filter and feed: one author's newest first.
        Index("ix_articles_created_at_id", "created_at", "id"),
        Index("ix_articles_author_id_created_at", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    body: Mapped[str] = mapped_column(LONG_TEXT)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_MAX), unique=True)


article_tags = Table(
    "article_tags",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_article_tags_tag_id", "tag_id"),  # the ?tag= filter
)

favorites = Table(
    "favorites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_favorites_article_id", "article_id"),  # favoritesCount per article
)


class LoginFailure(Base):
    """Failed logins of one client and e-mail in the current window (service/users/login_limiter.py).

    One row per key, counted up by a single upsert that also refuses past the limit, so every
    worker and replica shares the count and concurrent attempts cannot all slip under it.
    """

    __tablename__ = "login_failures"

    # sha256 of "client address|e-mail": the table holds no personal data in clear.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IdempotencyKey(Base):
    """The answer to a write sent with an `Idempotency-Key`, stored in the write's own transaction
    so a retry gets the same answer instead of a second write (service/idempotency.py)."""

    __tablename__ = "idempotency_keys"

    # sha256 of the key and its scope (the signed-in user, or the body of a sign-up).
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(LONG_TEXT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_article_id_created_at", "article_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
