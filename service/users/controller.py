"""HTTP routes of the users area: /users, /users/login and /user."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.idempotency import idempotent_post
from service.models import User
from service.openapi import REQUIRED_AUTH, responses
from service.state import AppState
from service.users.schemas import LoginUserRequest, NewUserRequest, UpdateUserRequest, UserResponse, user_response
from service.users.service import UserService


async def provide_user_service(db_session: NamedDependency[AsyncSession], state: AppState) -> UserService:
    return UserService(db_session, state.settings, state.password_hasher)


class UserController(Controller):
    tags = ["users"]
    dependencies = {"user_service": Provide(provide_user_service)}

    @idempotent_post("/users", status_code=201, summary="Register", responses=responses(413, 422, 429), security=[])
    async def register(
        self, data: JSONBody[NewUserRequest], user_service: NamedDependency[UserService]
    ) -> UserResponse:
        user = await user_service.register(data.user)
        return user_response(user, user_service.token_for(user))

    @post("/users/login", status_code=200, summary="Log in", responses=responses(401, 413, 422, 429), security=[])
    async def login(
        self,
        data: JSONBody[LoginUserRequest],
        request: Request[Any, Any, Any],
        user_service: NamedDependency[UserService],
    ) -> UserResponse:
        client = request.client.host if request.client else "unknown"
        user = await user_service.login(data.user, client)
        return user_response(user, user_service.token_for(user))

    @get(
        "/user",
        summary="Get the current user",
        security=REQUIRED_AUTH,
        responses=responses(401),
    )
    async def get_current(
        self, current_user: NamedDependency[User], user_service: NamedDependency[UserService]
    ) -> UserResponse:
        return user_response(current_user, user_service.token_for(current_user))

    @put(
        "/user",
        summary="Update the current user",
        security=REQUIRED_AUTH,
        responses=responses(401, 413, 422),
    )
    async def update_current(
        self,
        data: JSONBody[UpdateUserRequest],
        current_user: NamedDependency[User],
        user_service: NamedDependency[UserService],
    ) -> UserResponse:
        user = await user_service.update(current_user, data.user)
        return user_response(user, user_service.token_for(user))
