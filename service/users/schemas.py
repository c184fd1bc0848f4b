"""Wire format of the users area: registration, login, the current user and its update."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from service.fields import (
    Bio,
    Email,
    ImageUrl,
    LoginEmail,
    LoginPassword,
    Password,
    PasswordChange,
    Username,
    check_email_fits,
)
from service.models import User


class NewUser(Struct):
    username: Username
    email: Email
    password: Password

    def __post_init__(self) -> None:
        check_email_fits(self.email)


class NewUserRequest(Struct):
    user: NewUser


class LoginUser(Struct):
    email: LoginEmail
    password: LoginPassword


class LoginUserRequest(Struct):
    user: LoginUser


class UpdateUser(Struct):
    """Any subset of the fields. `bio` and `image` may be null or "" to clear them; a `password` of ""
    leaves it unchanged (real clients send the empty field of their settings form)."""

    email: Email | UnsetType = UNSET
    username: Username | UnsetType = UNSET
    password: PasswordChange | UnsetType = UNSET
    bio: Bio | UnsetType | None = UNSET
    image: ImageUrl | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if not isinstance(self.email, UnsetType):
            check_email_fits(self.email)


class UpdateUserRequest(Struct):
    user: UpdateUser


class UserView(Struct):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class UserResponse(Struct):
    user: UserView


def user_response(user: User, token: str) -> UserResponse:
    return UserResponse(UserView(email=user.email, token=token, username=user.username, bio=user.bio, image=user.image))
