"""Wire format of the comments area, built from the repository's rows."""

from __future__ import annotations

from msgspec import Struct

from service.comments.repository import CommentRow
from service.fields import CommentBody, Timestamp, format_timestamp
from service.profiles.schemas import Profile


class NewComment(Struct):
    body: CommentBody


class NewCommentRequest(Struct):
    comment: NewComment


class Comment(Struct, rename="camel"):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    body: str
    author: Profile

    @classmethod
    def from_row(cls, row: CommentRow) -> Comment:
        return cls(
            row.id, format_timestamp(row.created_at), format_timestamp(row.updated_at), row.body, Profile.from_row(row)
        )


class CommentResponse(Struct):
    comment: Comment


class CommentListResponse(Struct):
    comments: list[Comment]
