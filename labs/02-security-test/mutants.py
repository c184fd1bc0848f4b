"""Broken copies of the service for lab 2: `-p mutants` with LAB2_MUTANT set swaps in one bug.

Each mutant removes one ownership check, the bug the newcomer's tests must catch. The checks live
in the repositories' WHERE clauses (a write acts only on the rows the caller owns, docs/concurrency.md),
so each mutant is a copy of a repository method with its `author_id` condition left out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from service.articles.repository import ArticleRepository, SlugTaken
from service.comments.repository import CommentRepository
from service.db import affected_rows
from service.errors import violated_constraint
from service.models import Article, Comment

MUTANT = os.environ.get("LAB2_MUTANT", "")


async def _update_any_article(self: ArticleRepository, slug: str, author_id: int, changes: Mapping[str, Any]) -> bool:
    statement = update(Article).where(Article.slug == slug).values(**changes).returning(Article.id)  # bug: anyone
    if "slug" not in changes:
        return await self.session.scalar(statement) is not None
    try:
        async with self.session.begin_nested():
            return await self.session.scalar(statement) is not None
    except IntegrityError as error:
        if violated_constraint(error) == "uq_articles_slug":
            raise SlugTaken(changes["slug"]) from None
        raise


async def _delete_any_article(self: ArticleRepository, slug: str, author_id: int) -> bool:
    deleted = await self.session.execute(delete(Article).where(Article.slug == slug))  # bug: anyone may delete
    return affected_rows(deleted) == 1


async def _delete_any_comment(self: CommentRepository, comment_id: int, article_slug: str, author_id: int) -> bool:
    article_id = select(Article.id).where(Article.slug == article_slug).scalar_subquery()
    deleted = await self.session.execute(
        delete(Comment).where(Comment.id == comment_id, Comment.article_id == article_id)  # bug: anyone may delete
    )
    return affected_rows(deleted) == 1


def _replace(owner: type, name: str, mutant: Callable[..., Any]) -> None:
    """Swap in a mutant; refuse loudly when the method is gone, or the lab would test nothing."""
    if name not in vars(owner):
        raise RuntimeError(f"{owner.__name__}.{name} no longer exists: refresh labs/02-security-test/mutants.py")
    setattr(owner, name, mutant)


if MUTANT == "article-owner":
    _replace(ArticleRepository, "update_owned", _update_any_article)
    _replace(ArticleRepository, "delete_owned", _delete_any_article)
elif MUTANT == "comment-author":
    _replace(CommentRepository, "delete_owned", _delete_any_comment)
elif MUTANT:
    raise RuntimeError(f"unknown LAB2_MUTANT {MUTANT!r}")
