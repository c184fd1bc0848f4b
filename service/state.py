"""AppState: what every request shares, built once by create_app and typed, never read by string key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from litestar.datastructures import State

from service.ops.metrics import Metrics
from service.settings import Settings

if TYPE_CHECKING:  # service.db names AppState in provide_db_session; these annotations are never evaluated
    from service.db import Database


class AppState(State):
    """`app.state`, with a type for each part. Handlers and dependencies name `state: AppState`, and
    Litestar hands them this view of the app's state (a plain State underneath, no copy)."""

    settings: Settings
    database: Database
    password_hasher: PasswordHasher
    metrics: Metrics | None
