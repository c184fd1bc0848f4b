"""Wire format of the comments area."""

from __future__ import annotations

from msgspec import Struct

from service.fields import CommentBody, Timestamp
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


class CommentResponse(Struct):
    comment: Comment


class CommentListResponse(Struct):
    comments: list[Comment]
