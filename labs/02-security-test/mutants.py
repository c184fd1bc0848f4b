"""Broken copies of the service for lab 2: `-p mutants` with LAB2_MUTANT set swaps in one bug.

Each mutant removes one ownership check, the bug the newcomer's tests must catch.
"""

from __future__ import annotations

import os

from service.articles.service import ArticleService
from service.comments.service import CommentService
from service.errors import NotFound
from service.models import Article, User

MUTANT = os.environ.get("LAB2_MUTANT", "")


async def _owned_without_owner_check(self: ArticleService, author: User, slug: str) -> Article:
    article = await self.articles.get_by_slug(slug)
    if article is None:
        raise NotFound("article")
    return article  # bug: anyone may edit or delete


async def _delete_without_author_check(self: CommentService, author: User, slug: str, comment_id: int) -> None:
    article_id = await self.articles.get_id_by_slug(slug)
    if article_id is None:
        raise NotFound("article")
    comment = await self.comments.get_in_article(comment_id, article_id)
    if comment is None:
        raise NotFound("comment")
    await self.comments.delete(comment)  # bug: anyone may delete


if MUTANT == "article-owner":
    ArticleService._owned = _owned_without_owner_check  # type: ignore[method-assign]
elif MUTANT == "comment-author":
    CommentService.delete = _delete_without_author_check  # type: ignore[method-assign]
elif MUTANT:
    raise RuntimeError(f"unknown LAB2_MUTANT {MUTANT!r}")
