"""Wire format of the articles area: articles, article lists and tags."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from service.fields import Body, Description, TagList, Timestamp, Title
from service.profiles.schemas import Profile


class NewArticle(Struct, rename="camel"):
    title: Title
    description: Description
    body: Body
    tag_list: TagList = []


class NewArticleRequest(Struct):
    article: NewArticle


class UpdateArticle(Struct):
    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    body: Body | UnsetType = UNSET


class UpdateArticleRequest(Struct):
    article: UpdateArticle


class ArticleSummary(Struct, rename="camel"):
    """An article in a list: everything but the body (spec change of 2024-08-16)."""

    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    favorited: bool
    favorites_count: int
    author: Profile


class Article(ArticleSummary, rename="camel"):
    """A single article: the summary plus its body."""

    body: str


class ArticleResponse(Struct):
    article: Article


class ArticleListResponse(Struct, rename="camel"):
    articles: list[ArticleSummary]
    articles_count: int


class TagsResponse(Struct):
    tags: list[str]
