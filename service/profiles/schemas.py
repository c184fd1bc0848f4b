"""Wire format of the profiles area; `Profile` is also the `author` of articles and comments."""

from __future__ import annotations

from msgspec import Struct


class Profile(Struct):
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileResponse(Struct):
    profile: Profile
