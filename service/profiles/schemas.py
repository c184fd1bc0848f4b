"""Wire format of the profiles area; `Profile` is also the `author` of articles and comments."""

from __future__ import annotations

from msgspec import Struct

from service.profiles.repository import AuthorRow


class Profile(Struct):
    username: str
    bio: str | None
    image: str | None
    following: bool

    @classmethod
    def from_row(cls, row: AuthorRow) -> Profile:
        return cls(row.username, row.bio, row.image, bool(row.following))


class ProfileResponse(Struct):
    profile: Profile
