"""The bench-compare data set as a plan: who writes which article, who follows and favorites whom.

Pure and deterministic: the same run id and sizes give the same users, titles, bodies and tags on
every target, so every back-end is measured on the same data. The run id is part of every
username, e-mail address and title, so one target can hold several runs without a 422 for a taken
name, and a read-back check can tell this run's data from anything else the target holds.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

PASSWORD = "bench-compare-password"  # noqa: S105 - documented credential of throwaway bench users
EMAIL_DOMAIN = "bench.example.com"
WORDS = (  # noqa: SIM905 - a sentence is easier to read and edit than quoted words
    "latency throughput index query cache pool worker event loop shard replica commit rollback "
    "schema migration tracing metric alert gateway proxy socket buffer thread process kernel"
).split()
TAGS = ("python", "databases", "caching", "networking", "testing", "operations", "security", "design")

ArticleKey = tuple[int, int]  # (author, the author's article index), both 0-based


def new_run_id() -> str:
    """Short, lowercase and alphanumeric: back-ends that restrict usernames still accept it."""
    return secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class SeedSize:
    users: int = 20
    articles_per_user: int = 50
    follows_per_user: int = 3
    favorites_per_user: int = 5
    comments_per_user: int = 2
    tags_per_article: int = 3

    def __post_init__(self) -> None:
        if self.users < 2 or self.articles_per_user < 1:
            raise ValueError("bench-compare needs at least 2 users with 1 article each")
        # Each relation goes to other users, one each: nobody follows or favorites themself or twice.
        if max(self.follows_per_user, self.favorites_per_user, self.comments_per_user) >= self.users:
            raise ValueError("follows, favorites and comments per user must each be below the number of users")
        if not 0 <= self.tags_per_article <= len(TAGS):
            raise ValueError(f"tags per article must be between 0 and {len(TAGS)}")


@dataclass(frozen=True, slots=True)
class PlannedArticle:
    key: ArticleKey
    title: str
    description: str
    body: str
    tags: tuple[str, ...]  # sorted, as the spec asks back-ends to list them


@dataclass(frozen=True, slots=True)
class PlannedComment:
    author: int
    article: ArticleKey
    body: str


@dataclass(frozen=True)
class DataSet:
    run_id: str
    size: SeedSize

    def username(self, user: int) -> str:
        return f"bc{self.run_id}u{user:03d}"

    def email(self, user: int) -> str:
        return f"{self.username(user)}@{EMAIL_DOMAIN}"

    @cached_property
    def articles(self) -> dict[ArticleKey, PlannedArticle]:
        keys = [(user, index) for user in range(self.size.users) for index in range(self.size.articles_per_user)]
        return {key: self._article(key) for key in keys}

    def _article(self, key: ArticleKey) -> PlannedArticle:
        author, index = key
        rng = random.Random(f"{author}/{index}")  # a string seed: the same text in every process
        title = f"Bench {self.run_id} {author:03d}-{index:03d} {rng.choice(WORDS)} {rng.choice(WORDS)}"
        description = " ".join(rng.choice(WORDS) for _ in range(8))
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
        tags = tuple(sorted(rng.sample(TAGS, self.size.tags_per_article)))
        return PlannedArticle(key, title, description, body, tags)

    def articles_by(self, author: int) -> list[PlannedArticle]:
        return [self.articles[(author, index)] for index in range(self.size.articles_per_user)]

    def _others(self, user: int, count: int) -> list[int]:
        """The `count` users after `user`, wrapping around: every user gets as many as it gives."""
        return [(user + step) % self.size.users for step in range(1, count + 1)]

    def followed_by(self, user: int) -> list[int]:
        return self._others(user, self.size.follows_per_user)

    def favorited_by(self, user: int) -> list[ArticleKey]:
        # Different article indexes per step, so favoritesCount varies from 0 upwards across articles.
        others = self._others(user, self.size.favorites_per_user)
        return [(author, step % self.size.articles_per_user) for step, author in enumerate(others)]

    def favorites_count(self, key: ArticleKey) -> int:
        return self._favorite_counts[key]

    @cached_property
    def _favorite_counts(self) -> Counter[ArticleKey]:
        return Counter(key for user in range(self.size.users) for key in self.favorited_by(user))

    @cached_property
    def comments(self) -> list[PlannedComment]:
        return [
            PlannedComment(user, (author, step % self.size.articles_per_user), f"{self.username(user)} says {step}")
            for user in range(self.size.users)
            for step, author in enumerate(self._others(user, self.size.comments_per_user))
        ]
