"""Liveness (the process answers) and readiness (the database answers within a short timeout)."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import Struct
from sqlalchemy import text

from service.state import AppState

READINESS_TIMEOUT_SECONDS = 2.0


class HealthStatus(Struct):
    status: str
    database: str | None = None
    reason: str | None = None


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    include_in_schema = True

    @get("/live", summary="Liveness: the process answers", security=[])
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        summary="Readiness: the database answers",
        security=[],
        responses={503: ResponseSpec(data_container=HealthStatus, description="The database does not answer")},
    )
    async def ready(self, state: AppState) -> Response[HealthStatus]:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
                async with state.database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason is reported
            reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            return Response(HealthStatus("unavailable", "down", reason), status_code=HTTP_503_SERVICE_UNAVAILABLE)
        return Response(HealthStatus("ok", "up"), status_code=HTTP_200_OK)
