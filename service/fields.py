"""Constrained field types shared by the request schemas, and the path guard: every length and
character rule of the input lives here.

The patterns are linear-time on purpose (no nested quantifiers), since request bodies are hostile
input: a pattern like `^[^\\x00]*\\S[^\\x00]*$` backtracks quadratically on a long run of spaces.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.types import ASGIApp, Receive, Scope, Send
from msgspec import Meta

from service import models

# Python's `\s` spelled out: JSON Schema clients read patterns as ECMA-262, whose `\s` differs
# (it excludes \x1c-\x1f and \x85), so a client would send "\x1c" as a valid title and get a 422.
_SPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text that is not blank and has no NUL (PostgreSQL cannot store NUL in text).
_NOT_BLANK = rf"^[{_SPACE}]*[^{_SPACE}\x00][^\x00]*$"
_NO_NUL = r"^[^\x00]*$"

Username = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=models.USERNAME_MAX,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description="Letters, digits, underscore, dot and hyphen.",
        examples=["jake_1"],
    ),
]
Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=models.EMAIL_MAX,
        pattern=rf"^[^@{_SPACE}\x00-\x1f\x7f]+@[^@{_SPACE}\x00-\x1f\x7f]+$",
        examples=["jake@example.com"],
    ),
]
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
Password = Annotated[
    str, Meta(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, examples=["correct horse battery"])
]
# The settings form of real clients (the Angular RealWorld app) sends "password": "" when the user
# left it alone; the users service reads "" as "unchanged" and checks the minimum length otherwise.
PasswordChange = Annotated[
    str,
    Meta(
        max_length=PASSWORD_MAX_LENGTH,
        description=f"{PASSWORD_MIN_LENGTH}-{PASSWORD_MAX_LENGTH} characters; an empty string keeps the password",
    ),
]
LoginPassword = Annotated[str, Meta(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
LoginEmail = Annotated[str, Meta(min_length=1, max_length=models.EMAIL_MAX, pattern=_NO_NUL)]
Bio = Annotated[str, Meta(max_length=models.BIO_MAX, pattern=_NO_NUL)]
ImageUrl = Annotated[str, Meta(max_length=models.IMAGE_MAX, pattern=_NO_NUL)]
Title = Annotated[str, Meta(min_length=1, max_length=models.TITLE_MAX, pattern=_NOT_BLANK)]
Description = Annotated[str, Meta(min_length=1, max_length=models.DESCRIPTION_MAX, pattern=_NOT_BLANK)]
Body = Annotated[str, Meta(min_length=1, max_length=models.BODY_MAX, pattern=_NOT_BLANK)]
CommentBody = Annotated[str, Meta(min_length=1, max_length=models.COMMENT_MAX, pattern=_NOT_BLANK)]
# Tags: no control characters and no surrounding spaces, so they read the same in a URL query.
TagName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=models.TAG_MAX,
        pattern=rf"^[^{_SPACE}\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^{_SPACE}\x00-\x1f\x7f])?$",
        examples=["dragons"],
    ),
]
TagList = Annotated[list[TagName], Meta(max_length=models.TAGS_PER_ARTICLE_MAX)]

Timestamp = Annotated[
    str,
    Meta(
        description="ISO-8601 UTC with milliseconds",
        examples=["2024-01-01T00:00:00.000Z"],
    ),
]


def format_timestamp(value: datetime) -> str:
    """UTC with exactly three fractional digits and a `Z` (spec quirk Q1, docs/spec-quirks.md).
    Plain `isoformat()` drops a zero fraction and msgspec writes no zone for naive values, so
    neither is used."""
    utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return utc.isoformat(timespec="milliseconds") + "Z"


def check_email_fits(email: str) -> None:
    """E-mails are stored lower-cased, and lower-casing can lengthen text ("İ" becomes "i" plus a
    combining dot), so the limit is checked on the stored form too (a Struct's __post_init__ calls it)."""
    if len(email.lower()) > models.EMAIL_MAX:
        raise ValueError(f"email: is longer than {models.EMAIL_MAX} characters once lower-cased")


class NulPathParameterMiddleware(ASGIMiddleware):
    """404 for a path parameter containing NUL (`/api/articles/a%00b`): no slug or username can hold
    one, and PostgreSQL refuses NUL in text, so the lookup itself would fail with a 500."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for name, value in scope.get("path_params", {}).items():
            if isinstance(value, str) and "\x00" in value:
                response = Response({"errors": {name: ["not found"]}}, status_code=404)
                await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                return
        await next_app(scope, receive, send)
