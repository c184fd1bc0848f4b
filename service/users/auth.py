"""Auth dependencies: the signed-in user (required) and the viewer id (optional)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotAuthenticated
from service.models import User
from service.settings import Settings
from service.state import AppState
from service.users.security import InvalidToken, decode_token, token_from_header


def user_id_from_request(request: Request[Any, Any, Any], settings: Settings) -> int | None:
    """The user id in the request's token; None without a token, NotAuthenticated for a bad one."""
    try:
        token = token_from_header(request.headers.get("authorization"))
        return None if token is None else decode_token(token, settings)
    except InvalidToken:
        raise NotAuthenticated("token", "is invalid or expired") from None


async def provide_current_user(
    request: Request[Any, Any, Any], state: AppState, db_session: NamedDependency[AsyncSession]
) -> User:
    """The caller, loaded in the request's own session; 401 without a valid token."""
    # Litestar 2 cleans up no dependency when a later one raises, so `db_session` would keep its
    # pooled connection (and an idempotency key's transaction: on SQLite, the write lock) until
    # garbage collection: hand it back before raising anything here.
    try:
        user_id = user_id_from_request(request, state.settings)
        if user_id is None:
            raise NotAuthenticated("token", "is missing")
        user = await db_session.get(User, user_id)
        if user is None:
            raise NotAuthenticated("token", "names a user that does not exist")
    except BaseException:
        await db_session.close()
        raise
    request.scope["user_id"] = user.id  # type: ignore[typeddict-unknown-key]  # for the request log
    return user


async def provide_viewer_id(request: Request[Any, Any, Any], state: AppState) -> int | None:
    """The caller's id when a token is sent, else None: only personalises `following`/`favorited`.

    It costs no query; a token that is sent but invalid is still a 401, so a client learns its
    token expired instead of silently seeing anonymous data.
    """
    user_id = user_id_from_request(request, state.settings)
    if user_id is not None:
        request.scope["user_id"] = user_id  # type: ignore[typeddict-unknown-key]
    return user_id
