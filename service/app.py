"""create_app(settings): the one place that knows every area and wires the service together."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide

from service.articles.controller import ArticleController, TagController
from service.comments.controller import CommentController
from service.db import Database, RetryTransactionConflicts, provide_db_session
from service.errors import EXCEPTION_HANDLERS
from service.fields import NulPathParameterMiddleware
from service.idempotency import AnsweredBefore, replay
from service.openapi import create_docs_assets_router, create_openapi_config, refine_openapi_schema
from service.ops.health import HealthController
from service.ops.logs import configure_logging
from service.ops.metrics import Metrics, create_metrics_route
from service.ops.observability import install as install_observability
from service.ops.response_hooks import add_security_headers, json_cors_refusal
from service.profiles.controller import ProfileController
from service.settings import Settings
from service.state import AppState
from service.users.auth import provide_current_user, provide_viewer_id
from service.users.controller import UserController
from service.users.security import create_password_hasher, keep_large_blocks_returnable

VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = (settings or Settings.from_env()).validate()
    configure_logging(settings)
    keep_large_blocks_returnable()
    database = Database.connect(settings)
    metrics = Metrics(VERSION) if settings.metrics_enabled else None
    if metrics:
        metrics.watch_pool(database.engine)

    @asynccontextmanager
    async def dispose_engine(_: Litestar) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await database.engine.dispose()

    api = Router(
        path="/api",
        route_handlers=[UserController, ProfileController, ArticleController, CommentController, TagController],
    )
    state = AppState(
        {
            "settings": settings,
            "database": database,
            "password_hasher": create_password_hasher(settings),
            "metrics": metrics,
        }
    )
    app = Litestar(
        route_handlers=[
            api,
            HealthController,
            create_docs_assets_router(),
            *([create_metrics_route(metrics)] if metrics else []),
        ],
        # Resolved only for the handlers that name them: `current_user` makes a route require a
        # token, `viewer_id` makes it optional (see service/users/auth.py).
        dependencies={
            "db_session": Provide(provide_db_session),
            "current_user": Provide(provide_current_user),
            "viewer_id": Provide(provide_viewer_id),
        },
        exception_handlers={**EXCEPTION_HANDLERS, AnsweredBefore: replay},  # type: ignore[dict-item]
        state=state,
        lifespan=[dispose_engine, *([metrics.lifespan] if metrics else [])],
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
            expose_headers=["X-Request-ID", "Retry-After", "Idempotent-Replayed"],
            max_age=600,
        ),
        middleware=[NulPathParameterMiddleware(), RetryTransactionConflicts()],
        before_send=[add_security_headers, json_cors_refusal],
        openapi_config=create_openapi_config(VERSION) if settings.docs_enabled else None,
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # service/ops/logs.py configures logging; Litestar's default would replace it
    )
    install_observability(app, metrics, settings.request_log_enabled)
    if settings.docs_enabled:
        refine_openapi_schema(app)
    return app
