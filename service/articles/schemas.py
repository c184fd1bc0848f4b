"""Wire format of the articles area: articles, article lists and tags, built from the repository's rows."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from service.articles.repository import TAG_SEPARATOR, ArticleRow, FullArticleRow
from service.fields import Body, Description, TagList, Timestamp, Title, format_timestamp
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


_SummaryValues = tuple[str, str, str, list[str], str, str, bool, int, Profile]


def _summary_values(row: ArticleRow) -> _SummaryValues:
    """The fields of ArticleSummary, in order, from a row: one place maps columns to the wire."""
    return (
        row.slug,
        row.title,
        row.description,
        # sorted: spec quirk Q2, docs/spec-quirks.md
        sorted(row.tag_names.split(TAG_SEPARATOR)) if row.tag_names else [],
        format_timestamp(row.created_at),
        format_timestamp(row.updated_at),
        bool(row.favorited),
        row.favorites_count,
        Profile.from_row(row),
    )


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

    @classmethod
    def from_row(cls, row: ArticleRow) -> ArticleSummary:
        return cls(*_summary_values(row))


class Article(ArticleSummary, rename="camel"):
    """A single article: the summary plus its body."""

    body: str

    @classmethod
    def from_row(cls, row: FullArticleRow) -> Article:  # type: ignore[override]  # it needs the body column
        return cls(*_summary_values(row), row.body)


class ArticleResponse(Struct):
    article: Article


class ArticleListResponse(Struct, rename="camel"):
    articles: list[ArticleSummary]
    articles_count: int


class TagsResponse(Struct):
    tags: list[str]
